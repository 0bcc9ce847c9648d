// The jobs drawer: running jobs with a progress bar, rate, ETA and Cancel; a cancelled or failed one
// with Resume (from its checkpoint) and Delete; done ones on request. Each names its model and
// dataset. Jobs run in the service, so they keep going in any view.
import { useEffect, useState } from 'react';
import type { DatasetSummary, JobInfo } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';
import { uiError } from '../state/uiErrors';
import { useWorkspace } from '../state/workspace';

interface Live {
  job: JobInfo;
  rate: number;
  eta: number | null;
}

function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** "fashion-vit on demo", "export to negatives": what a job works on, from its parameters. */
export function describeJob(job: JobInfo, datasets: DatasetSummary[]): string {
  const params = (job.params ?? {}) as {
    datasetId?: number;
    model?: string;
    query?: { datasetId?: number };
    method?: string;
    out?: string;
  };
  const datasetId = params.datasetId ?? params.query?.datasetId;
  const dataset = datasets.find((d) => d.id === datasetId)?.name ?? (datasetId ? `dataset ${datasetId}` : '');
  const base = (p: string) =>
    p
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? p;
  if (job.kind === 'predict' && params.model) return `${base(params.model)} on ${dataset}`;
  if (job.kind === 'explain') return `${params.method ?? 'maps'} on ${dataset}`;
  if (job.kind === 'export' && params.out) return `${dataset} to ${base(params.out)}`;
  return dataset;
}

export function JobsPanel() {
  const { client } = useConnection();
  const { datasets } = useWorkspace();
  const [jobs, setJobs] = useState<Map<number, Live>>(new Map());
  const [error, setError] = useState('');
  const act = (method: 'jobs.resume' | 'jobs.delete', jobId: number) => {
    setError('');
    client.call(method, { jobId }).catch((e: Error) => setError(e.message));
  };
  const [open, setOpen] = useState(true);
  const [showFinished, setShowFinished] = useState(false);

  useEffect(() => {
    client
      .call('jobs.list', {})
      .then((list) => setJobs(new Map(list.slice(0, 20).map((job) => [job.id, { job, rate: 0, eta: null }]))))
      .catch((e: Error) => setError(`Cannot list the jobs: ${e.message}`));
    return client.onEvent((event) => {
      setJobs((prev) => {
        const next = new Map(prev);
        if (event.type === 'job.started') next.set(event.job.id, { job: event.job, rate: 0, eta: null });
        else if (event.type === 'job.progress') {
          const live = next.get(event.jobId);
          if (live)
            next.set(event.jobId, {
              job: { ...live.job, done: event.done, total: event.total },
              rate: event.rate,
              eta: event.etaSeconds,
            });
        } else if (
          event.type === 'job.finished' ||
          event.type === 'job.failed' ||
          event.type === 'job.cancelled'
        ) {
          next.set(event.job.id, { job: event.job, rate: 0, eta: null });
        } else if (event.type === 'job.deleted') next.delete(event.jobId);
        else return prev;
        return next;
      });
    });
  }, [client]);

  const all = [...jobs.values()].sort((a, b) => b.job.id - a.job.id);
  const running = all.filter((l) => l.job.status === 'running');
  const finished = all.filter((l) => l.job.status !== 'running');
  // A cancelled or failed job waits for Resume or Delete, so it stays in view; done ones on request.
  const list = showFinished ? all.slice(0, 20) : all.filter((l) => l.job.status !== 'done');
  return (
    <section className={`jobs${open ? ' open' : ''}`} role="region" aria-label="Jobs">
      <header className="jobs-header">
        <button className="small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? '▾' : '▸'} Jobs
        </button>
        <span className="muted">
          {running.length} running
          {finished.length > 0 && ` · ${finished.length} finished`}
        </span>
        {finished.length > 0 && (
          <label className="check">
            <input
              type="checkbox"
              checked={showFinished}
              onChange={(e) => {
                setShowFinished(e.target.checked);
                setOpen(true);
              }}
            />
            Show finished
          </label>
        )}
      </header>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {open && (
        <div className="jobs-list">
          {list.map(({ job, rate, eta }) => (
            <div key={job.id} className={`job ${job.status}`}>
              <div className="job-line">
                <strong>{job.kind}</strong>
                <span className="job-what" title={describeJob(job, datasets)}>
                  {describeJob(job, datasets)}
                </span>
                <span className="muted">
                  {job.done.toLocaleString()} / {job.total.toLocaleString()}
                  {job.status === 'running'
                    ? ` · ${rate.toFixed(1)}/s · ${formatEta(eta)} left`
                    : ` · ${job.status}`}
                </span>
                {job.status === 'running' && (
                  <button
                    className="small"
                    onClick={() =>
                      client
                        .call('jobs.cancel', { jobId: job.id })
                        .catch((e: Error) => setError(`Cannot cancel job ${job.id}: ${e.message}`))
                    }
                  >
                    Cancel
                  </button>
                )}
                {(job.status === 'cancelled' || job.status === 'failed') && (
                  <>
                    <button className="small" onClick={() => act('jobs.resume', job.id)}>
                      Resume
                    </button>
                    <button className="small" onClick={() => act('jobs.delete', job.id)}>
                      Delete
                    </button>
                  </>
                )}
              </div>
              <progress
                aria-label={`${job.kind} job ${job.id}`}
                max={Math.max(1, job.total)}
                value={job.done}
              />
              {job.error && <p className="error">{uiError(job.error)}</p>}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
