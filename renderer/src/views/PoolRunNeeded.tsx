// Find similar in another dataset needs that dataset's embeddings from the same model: when it has
// no such run, say so and offer to start the predict job; the search runs again when it is done.
import { useEffect, useState } from 'react';
import type { DatasetSummary, TagInfo } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';

export interface MissingPoolRun {
  pool: DatasetSummary;
  /** The model of the reviewed run (its file path, as the run recorded it). */
  model: string;
  /** The model's name, for the message. */
  modelName: string;
  /** The service's message (with the command-line way), shown as the text's tooltip. */
  message: string;
  from: { tag?: TagInfo; images?: boolean };
  mode: 'nearest' | 'mean';
}

interface Props {
  missing: MissingPoolRun;
  onStatus(message: string): void;
  onDismiss(): void;
  /** The pool's predict job finished: search again. */
  onReady(): void;
}

export function PoolRunNeeded({ missing, onStatus, onDismiss, onReady }: Props) {
  const { client } = useConnection();
  const [jobId, setJobId] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(
    () =>
      client.onEvent((event) => {
        if (jobId === null) return;
        if (event.type === 'job.finished' && event.job.id === jobId) onReady();
        else if ((event.type === 'job.failed' || event.type === 'job.cancelled') && event.job.id === jobId)
          setError(`The predict job ${event.type === 'job.failed' ? 'failed' : 'was cancelled'}: see Jobs`);
      }),
    [client, jobId, onReady],
  );
  const predict = async () => {
    setError(null);
    try {
      const { provider } = await client.call('settings.get', {});
      const started = await client.call('jobs.predict', {
        datasetId: missing.pool.id,
        model: missing.model,
        provider,
      });
      setJobId(started.jobId);
      onStatus(`Predicting ${missing.pool.name}; Find similar runs again when it is done`);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const { modelName } = missing;
  return (
    <section className="similar-banner pool-run-needed" role="alert" aria-label="Pool run needed">
      <p title={missing.message}>
        <strong>{missing.pool.name}</strong> has no complete run of this run's model ({modelName}), so it has
        no embeddings to compare with. Predict {missing.pool.name} with that model first (it stores the
        embeddings), then Find similar again.
      </p>
      {error && <p className="error">{error}</p>}
      <button className="primary" disabled={jobId !== null && !error} onClick={() => void predict()}>
        {jobId !== null && !error
          ? `Predicting ${missing.pool.name}…`
          : `Predict ${missing.pool.name} with ${modelName}`}
      </button>
      <button onClick={onDismiss}>Dismiss</button>
    </section>
  );
}
