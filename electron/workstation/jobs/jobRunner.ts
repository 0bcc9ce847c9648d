// Long jobs (predict, explain, export) with progress, cancel and resume. A job is a row in `jobs`
// keyed by what it does; its body checkpoints into the database as it goes, so a job whose process
// died (status still 'running', pid gone) is continued by the next start with the same key: the
// same command run again, or the service's restart.
import os from 'node:os';
import type { JobInfo, ServiceEvent } from '../../contract/protocol';
import { WorkstationError } from '../datasets/importFolder';
import type { Db } from '../store/openDatabase';

export type JobKind = JobInfo['kind'];

export class JobCancelled extends Error {
  constructor() {
    super('the job was cancelled');
    this.name = 'JobCancelled';
  }
}

export interface JobContext {
  readonly jobId: number;
  /** True once a cancel was requested (from this process or another one sharing the data dir). */
  cancelled(): boolean;
  /** Throws JobCancelled when a cancel was requested; call it between batches. */
  checkCancelled(): void;
  progress(done: number, total: number): void;
}

export type JobBody = (ctx: JobContext) => Promise<unknown>;

interface JobRow {
  id: number;
  kind: JobKind;
  key: string;
  params: string;
  status: JobInfo['status'];
  done: number;
  total: number;
  pid: number | null;
  host: string | null;
  cancel_requested: number;
  result: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

function toInfo(row: JobRow): JobInfo {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    done: row.done,
    total: row.total,
    params: JSON.parse(row.params) as unknown,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Whether the process that owns a running job is still alive (on this machine). */
export function ownerAlive(row: { pid: number | null; host: string | null }): boolean {
  if (row.pid === null) return false;
  if (row.host !== null && row.host !== os.hostname()) return true; // cannot tell: assume alive
  if (row.pid === process.pid) return true;
  try {
    process.kill(row.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StartedJob {
  jobId: number;
  resumed: boolean;
  /** Settles with the job's result; rejects with the failure (JobCancelled when cancelled). */
  done: Promise<unknown>;
}

export class JobRunner {
  private readonly local = new Map<number, { cancel: boolean }>();

  constructor(
    private readonly db: Db,
    private readonly emit: (event: ServiceEvent) => void = () => undefined,
  ) {}

  get(jobId: number): JobInfo {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(jobId) as JobRow | undefined;
    if (!row) throw new WorkstationError(`no job with id ${jobId}`, 'not-found');
    return toInfo(row);
  }

  list(limit = 100): JobInfo[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[]).map(
      toInfo,
    );
  }

  /** Asks a job to stop at its next checkpoint (works across processes through the database). */
  cancel(jobId: number): number {
    const local = this.local.get(jobId);
    if (local) local.cancel = true;
    return this.db
      .prepare("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND status = 'running'")
      .run(new Date().toISOString(), jobId).changes;
  }

  /**
   * Starts a job, or resumes the unfinished one with the same key (failed, cancelled, or running
   * in a process that died). A finished job with the same key is started afresh.
   */
  start(kind: JobKind, key: string, params: unknown, body: JobBody): StartedJob {
    const now = new Date().toISOString();
    const { jobId, resumed } = this.db
      .transaction(() => {
        const previous = this.db
          .prepare("SELECT * FROM jobs WHERE key = ? AND status <> 'done' ORDER BY id DESC LIMIT 1")
          .get(key) as JobRow | undefined;
        if (previous?.status === 'running' && ownerAlive(previous) && !this.local.has(previous.id)) {
          throw new WorkstationError(
            `this ${kind} job (id ${previous.id}) is already running in process ${previous.pid}; wait for it or cancel it`,
            'busy',
          );
        }
        if (previous?.status === 'running' && this.local.has(previous.id))
          throw new WorkstationError(`this ${kind} job (id ${previous.id}) is already running`, 'busy');
        if (previous) {
          this.db
            .prepare(
              `UPDATE jobs SET status = 'running', pid = ?, host = ?, cancel_requested = 0, error = NULL,
               params = ?, updated_at = ? WHERE id = ?`,
            )
            .run(process.pid, os.hostname(), JSON.stringify(params), now, previous.id);
          return { jobId: previous.id, resumed: true };
        }
        const id = Number(
          this.db
            .prepare(
              `INSERT INTO jobs (kind, key, params, status, pid, host, created_at, updated_at)
               VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
            )
            .run(kind, key, JSON.stringify(params), process.pid, os.hostname(), now, now).lastInsertRowid,
        );
        return { jobId: id, resumed: false };
      })
      .immediate();
    return { jobId, resumed, done: this.execute(jobId, kind, body) };
  }

  private async execute(jobId: number, kind: JobKind, body: JobBody): Promise<unknown> {
    const state = { cancel: false };
    this.local.set(jobId, state);
    this.emit({ type: 'job.started', job: this.get(jobId) });
    const started = performance.now();
    let firstDone: number | null = null;
    let lastEmit = 0;
    let lastWrite = 0;
    // The last progress reported: written when the job ends, so that a cancelled job's count is
    // what its body reached, not the last throttled write.
    let last: { done: number; total: number } | null = null;
    const isCancelled = () =>
      state.cancel ||
      (this.db.prepare('SELECT cancel_requested FROM jobs WHERE id = ?').pluck().get(jobId) as number) === 1;
    const ctx: JobContext = {
      jobId,
      cancelled: isCancelled,
      checkCancelled: () => {
        if (isCancelled()) throw new JobCancelled();
      },
      progress: (done, total) => {
        last = { done, total };
        const now = performance.now();
        firstDone ??= done; // resumed work done before this start does not count toward the rate
        const seconds = (now - started) / 1000;
        const rate = seconds > 0 ? (done - firstDone) / seconds : 0;
        const etaSeconds = rate > 0 ? (total - done) / rate : null;
        if (now - lastWrite > 500 || done >= total) {
          lastWrite = now;
          this.db
            .prepare('UPDATE jobs SET done = ?, total = ?, updated_at = ? WHERE id = ?')
            .run(done, total, new Date().toISOString(), jobId);
        }
        if (now - lastEmit > 200 || done >= total) {
          lastEmit = now;
          this.emit({ type: 'job.progress', jobId, kind, done, total, rate, etaSeconds });
        }
      },
    };
    const finish = (status: JobInfo['status'], result: unknown, error: string | null) => {
      if (last)
        this.db.prepare('UPDATE jobs SET done = ?, total = ? WHERE id = ?').run(last.done, last.total, jobId);
      this.db
        .prepare('UPDATE jobs SET status = ?, result = ?, error = ?, updated_at = ? WHERE id = ?')
        .run(
          status,
          result === undefined ? null : JSON.stringify(result),
          error,
          new Date().toISOString(),
          jobId,
        );
      this.local.delete(jobId);
      return this.get(jobId);
    };
    try {
      const result = await body(ctx);
      this.emit({ type: 'job.finished', job: finish('done', result ?? null, null) });
      return result;
    } catch (error) {
      if (error instanceof JobCancelled)
        this.emit({ type: 'job.cancelled', job: finish('cancelled', null, null) });
      else {
        const message = error instanceof Error ? error.message : String(error);
        this.emit({ type: 'job.failed', job: finish('failed', null, message) });
      }
      throw error;
    }
  }

  /**
   * Removes a job that is not running (its record and, for an export, its frozen plan). A running
   * job must be cancelled first. Returns the removed job.
   */
  delete(jobId: number): JobInfo {
    return this.db
      .transaction(() => {
        const job = this.get(jobId);
        const row = this.db.prepare('SELECT pid, host FROM jobs WHERE id = ?').get(jobId) as Pick<
          JobRow,
          'pid' | 'host'
        >;
        if (job.status === 'running' && (this.local.has(jobId) || ownerAlive(row)))
          throw new WorkstationError(
            `job ${jobId} is running; cancel it first (vsw jobs cancel ${jobId}), then delete it`,
            'busy',
          );
        this.db.prepare('DELETE FROM jobs WHERE id = ?').run(jobId);
        return job;
      })
      .immediate();
  }

  /** Jobs left 'running' by a process that is gone: what a restarted service continues. */
  interrupted(): JobInfo[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE status = 'running'").all() as JobRow[])
      .filter((row) => !ownerAlive(row))
      .map(toInfo);
  }

  keyOf(jobId: number): string {
    return this.db.prepare('SELECT key FROM jobs WHERE id = ?').pluck().get(jobId) as string;
  }
}
