// Settings: the reviewer's name and execution provider (kept by the service), the default method,
// threshold, colour map and safe view (kept per machine).
import { useEffect, useState } from 'react';
import { SALIENCY_METHODS, type Result } from '../../../electron/contract/protocol';
import { LabelledNumber } from '../components/LabelledNumber';
import { LabelledSelect } from '../components/LabelledSelect';
import { useConnection } from '../state/connection';
import { useViewSettings } from '../state/settings';
import { BundledLeaderboards } from './LeaderboardTable';

export function SettingsView() {
  const { client } = useConnection();
  const [view, updateView] = useViewSettings();
  const [service, setService] = useState<Result<'settings.get'> | null>(null);
  const [saved, setSaved] = useState('');
  const [error, setError] = useState('');

  useEffect(() => {
    client
      .call('settings.get', {})
      .then(setService)
      .catch((e: Error) => setError(`Cannot load the service's settings: ${e.message}`));
  }, [client]);

  const save = (patch: Partial<Result<'settings.get'>>) =>
    client
      .call('settings.set', patch)
      .then((s) => {
        setService(s);
        setSaved('Saved.');
        setError('');
      })
      .catch((e: Error) => {
        setSaved('');
        setError(`Not saved: ${e.message}`);
      });

  /** A whole device id from 0 to 63 that differs from the saved one. */
  const saveCudaDevice = (id: number) => {
    if (Number.isInteger(id) && id >= 0 && id <= 63 && id !== service?.cudaDevice) save({ cudaDevice: id });
  };

  return (
    <div className="settings card">
      <h2>Settings</h2>
      <label className="check">
        <input
          type="checkbox"
          checked={view.safeView}
          onChange={(e) => updateView({ safeView: e.target.checked })}
        />
        Safe view: blur thumbnails until hovered or opened
      </label>
      <LabelledSelect
        caption="Default method"
        value={view.method}
        onChange={(method) => updateView({ method })}
      >
        <option value="default">the model's leaderboard winner (the article's until scored)</option>
        {SALIENCY_METHODS.map((m) => (
          <option key={m} value={m}>
            {m}
            {m === 'attn-grad-product' ? ' (the article)' : ''}
          </option>
        ))}
      </LabelledSelect>
      <LabelledNumber
        caption="Default score threshold"
        min={0}
        max={1}
        step={0.05}
        value={view.threshold}
        onChange={(e) => updateView({ threshold: Number(e.target.value) })}
      />
      {service && (
        <>
          <label>
            Reviewer name
            <input
              aria-label="Reviewer name"
              defaultValue={service.reviewer}
              onBlur={(e) => e.target.value.trim() && save({ reviewer: e.target.value.trim() })}
            />
          </label>
          <LabelledSelect
            caption="Execution provider"
            value={service.provider}
            onChange={(provider) => save({ provider })}
          >
            <option value="auto">auto (cuda → webgpu → cpu)</option>
            <option value="cuda">cuda</option>
            <option value="webgpu">webgpu</option>
            <option value="cpu">cpu</option>
          </LabelledSelect>
          <LabelledNumber
            caption="CUDA device"
            min={0}
            max={63}
            defaultValue={service.cudaDevice}
            onBlur={(e) => saveCudaDevice(Number(e.target.value))}
          />
          <LabelledSelect
            caption="Saliency precision"
            value={service.precision}
            onChange={(precision) => save({ precision })}
          >
            <option value="float32">float32 (exact maps)</option>
            <option value="float16">float16 (for GPUs; maps within ~3 % of float32)</option>
          </LabelledSelect>
          <p className="muted">
            Last run used: <strong>{service.lastProvider ?? 'nothing yet'}</strong>
            {service.providerMessages.length > 0 && ` — ${service.providerMessages.join('; ')}`}
          </p>
        </>
      )}
      <p className="muted" aria-live="polite">
        {saved}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <BundledLeaderboards />
    </div>
  );
}
