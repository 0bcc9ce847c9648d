// Every running job with a progress bar, its rate, its ETA and Cancel; a cancelled or failed job
// with Resume (from its checkpoint) and Delete. Jobs run in the service, so they keep going while
// the reviewer works in any view.
import { useEffect, useState } from 'react';
import type { JobInfo } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';

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

export function JobsPanel() {
  const { client } = useConnection();
  const [jobs, setJobs] = useState<Map<number, Live>>(new Map());
  const [error, setError] = useState('');
  const act = (method: 'jobs.resume' | 'jobs.delete', jobId: number) => {
    setError('');
    client.call(method, { jobId }).catch((e: Error) => setError(e.message));
  };

  useEffect(() => {
    client
      .call('jobs.list', {})
      .then((list) =>
        setJobs(
          new Map(
            list.filter((j) => j.status !== 'done').map((job) => [job.id, { job, rate: 0, eta: null }]),
          ),
        ),
      )
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

  const list = [...jobs.values()].sort((a, b) => b.job.id - a.job.id).slice(0, 6);
  return (
    <section className="jobs" role="region" aria-label="Jobs">
      <h2>Jobs</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {list.length === 0 && !error && <p className="muted">No jobs yet.</p>}
      {list.map(({ job, rate, eta }) => (
        <div key={job.id} className={`job ${job.status}`}>
          <div className="job-line">
            <strong>{job.kind}</strong>
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
          <progress aria-label={`${job.kind} job ${job.id}`} max={Math.max(1, job.total)} value={job.done} />
          {job.error && <p className="error">{job.error}</p>}
        </div>
      ))}
    </section>
  );
}
