// The export dialog: which images (the current filter, the selection, or tags), the layout, the
// media mode, the manifests and a destination; then the job's progress and its result.
import { useEffect, useRef, useState } from 'react';
import type { ImageQueryInput } from '../../../electron/contract/query';
import type { JobInfo } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';
import { uiError } from '../state/uiErrors';
import { ExportSummary, type ExportResultView } from './ExportSummary';
import { LabelledSelect } from './LabelledSelect';
import { useWorkspace } from '../state/workspace';

interface Props {
  query: ImageQueryInput;
  selectedIds: number[];
  onClose(): void;
}

export function ExportDialog({ query, selectedIds, onClose }: Props) {
  const { client } = useConnection();
  const { tags, run, datasets, dataset } = useWorkspace();
  const others = datasets.filter((d) => d.id !== dataset?.id);
  const ref = useRef<HTMLDialogElement>(null);
  const [scope, setScope] = useState<'filter' | 'selection'>(selectedIds.length > 1 ? 'selection' : 'filter');
  const [tagIds, setTagIds] = useState<number[]>([]);
  const [layout, setLayout] = useState<'imagefolder' | 'flat'>('imagefolder');
  const [group, setGroup] = useState<'tag' | 'negative'>('tag');
  const [media, setMedia] = useState<'copy' | 'hardlink' | 'symlink'>('copy');
  const [manifests, setManifests] = useState<('csv' | 'jsonl' | 'hf')[]>(['csv', 'jsonl', 'hf']);
  const [overlays, setOverlays] = useState(false);
  const [out, setOut] = useState('');
  // Confirmed Find-similar candidates of another dataset (a pool), and the test set to check for leakage.
  const [poolId, setPoolId] = useState('');
  const [testId, setTestId] = useState('');
  const [job, setJob] = useState<JobInfo | null>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (ref.current && !ref.current.open) ref.current.showModal();
  }, []);
  useEffect(
    () =>
      client.onEvent((event) => {
        if (event.type === 'job.progress' && event.jobId === jobId)
          setJob((j) => (j ? { ...j, done: event.done, total: event.total } : j));
        if (
          (event.type === 'job.started' ||
            event.type === 'job.finished' ||
            event.type === 'job.failed' ||
            event.type === 'job.cancelled') &&
          event.job.id === jobId
        ) {
          setJob(event.job);
        }
      }),
    [client, jobId],
  );

  const start = async () => {
    setError(null);
    if (poolId && !tagIds.length)
      return setError(
        'Choose the tags to take from the pool (Only with tags): the pool images carrying them are added',
      );
    try {
      const selection = scope === 'selection' ? { ...query, imageIds: selectedIds } : query;
      const { jobId: id } = await client.call('jobs.export', {
        query: selection,
        tags: tagIds.length ? tagIds : undefined,
        layout,
        group,
        manifests,
        media,
        overlays: overlays && run ? 'attn-grad-product' : undefined,
        out: out.trim(),
        pool: poolId
          ? { datasetId: Number(poolId), tags: tags.filter((t) => tagIds.includes(t.id)).map((t) => t.name) }
          : undefined,
        testSet: testId ? { datasetId: Number(testId) } : undefined,
      });
      setJobId(id);
      const jobs = await client.call('jobs.list', {});
      setJob(jobs.find((j) => j.id === id) ?? null);
    } catch (e) {
      setError(uiError((e as Error).message));
    }
  };

  const result = job?.status === 'done' ? (job.result as ExportResultView | null) : null;
  return (
    <dialog ref={ref} className="dialog export" aria-label="Export" onCancel={onClose} onClose={onClose}>
      <h2>Export the tagged negatives</h2>
      <div className="form-grid">
        <LabelledSelect caption="Images" name="Images to export" value={scope} onChange={setScope}>
          <option value="filter">Everything the current filter shows</option>
          <option value="selection" disabled={selectedIds.length === 0}>
            The selection ({selectedIds.length})
          </option>
        </LabelledSelect>
        <label>
          Only with tags (any)
          <select
            multiple
            aria-label="Export tags"
            value={tagIds.map(String)}
            onChange={(e) => setTagIds([...e.target.selectedOptions].map((o) => Number(o.value)))}
          >
            {tags.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} ({t.count})
              </option>
            ))}
          </select>
        </label>
        <LabelledSelect caption="Layout" value={layout} onChange={setLayout}>
          <option value="imagefolder">ImageFolder tree</option>
          <option value="flat">Flat files + manifest</option>
        </LabelledSelect>
        {layout === 'imagefolder' && (
          <LabelledSelect caption="Folders" name="Group" value={group} onChange={setGroup}>
            <option value="tag">One folder per tag</option>
            <option value="negative">One “negative” folder</option>
          </LabelledSelect>
        )}
        <LabelledSelect caption="Media" value={media} onChange={setMedia}>
          <option value="copy">Copy</option>
          <option value="hardlink">Hard link</option>
          <option value="symlink">Symbolic link</option>
        </LabelledSelect>
        <fieldset>
          <legend>Manifests</legend>
          {(['csv', 'jsonl', 'hf'] as const).map((m) => (
            <label key={m} className="check">
              <input
                type="checkbox"
                checked={manifests.includes(m)}
                onChange={(e) =>
                  setManifests(e.target.checked ? [...manifests, m] : manifests.filter((x) => x !== m))
                }
              />
              {m === 'hf' ? 'Hugging Face metadata.jsonl' : m.toUpperCase()}
            </label>
          ))}
        </fieldset>
        <label className="check">
          <input
            type="checkbox"
            checked={overlays}
            disabled={!run}
            onChange={(e) => setOverlays(e.target.checked)}
          />
          Heatmap overlays beside the images
        </label>
        <LabelledSelect caption="Also from the pool" name="Pool" value={poolId} onChange={setPoolId}>
          <option value="">No other dataset</option>
          {others.map((d) => (
            <option key={d.id} value={String(d.id)}>
              {d.name}: its images with the chosen tags
            </option>
          ))}
        </LabelledSelect>
        <LabelledSelect caption="Leakage check against" name="Test set" value={testId} onChange={setTestId}>
          <option value="">No test set</option>
          {others.map((d) => (
            <option key={d.id} value={String(d.id)}>
              {d.name} (same file or near-duplicate embedding)
            </option>
          ))}
        </LabelledSelect>
        <label>
          Destination folder
          <input
            aria-label="Destination folder"
            value={out}
            placeholder="/path/to/new/export"
            onChange={(e) => setOut(e.target.value)}
          />
        </label>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {job && (
        <div className="export-progress">
          <progress aria-label="Export progress" max={Math.max(1, job.total)} value={job.done} />
          <span>
            {job.done} / {job.total} · {job.status}
          </span>
          {job.error && <p className="error">{uiError(job.error)}</p>}
          {result ? <ExportSummary result={result} /> : null}
        </div>
      )}
      <div className="dialog-buttons">
        <button onClick={onClose}>{job?.status === 'done' ? 'Close' : 'Cancel'}</button>
        <button
          className="primary"
          disabled={!out.trim() || (job !== null && job.status === 'running')}
          onClick={() => void start()}
        >
          Start export
        </button>
      </div>
    </dialog>
  );
}
