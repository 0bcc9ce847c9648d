// Starting (or resuming) each kind of job from its serialisable parameters: what the CLI, the
// service's jobs.* methods and the service's restart-time resume all call.
import crypto from 'node:crypto';
import path from 'node:path';
import fs from 'node:fs';
import type { ExplainSetParams, ExportParams, JobInfo, PredictParams } from '../../contract/protocol';
import { WorkstationError } from '../datasets/importFolder';
import type { SaliencyStore } from '../saliency/saliencyStore';
import type { Db } from '../store/openDatabase';
import { runExplain } from './explainJob';
import { runExport, exportKey, partialFolder } from './exportJob';
import type { JobRunner, StartedJob } from './jobRunner';
import { preparePredict, runPredict } from './predictJob';
import type { z } from 'zod';

export interface JobHost {
  db: Db;
  jobs: JobRunner;
  cacheDir: string;
  /** Where runs' embedding files live (data, not cache). */
  embeddingsDir: string;
  reviewerName: string;
  reviewerId: number;
  saliency: SaliencyStore;
  log?: (message: string) => void;
}

export type PredictJobParams = z.output<typeof PredictParams>;
export type ExplainJobParams = z.output<typeof ExplainSetParams>;
export type ExportJobParams = z.output<typeof ExportParams>;

export async function startPredict(
  host: JobHost,
  params: PredictJobParams,
): Promise<StartedJob & { runId: number }> {
  const prepared = await preparePredict(host.db, params);
  const started = host.jobs.start('predict', prepared.key, params, (ctx) =>
    runPredict(host.db, ctx, prepared, params, host.log, host.embeddingsDir),
  );
  return { ...started, runId: prepared.runId };
}

export function startExplain(host: JobHost, params: ExplainJobParams): StartedJob {
  const key = `explain:${crypto.createHash('sha256').update(JSON.stringify(params)).digest('hex')}`;
  return host.jobs.start('explain', key, params, (ctx) => runExplain(host, ctx, params));
}

export function startExport(host: JobHost, params: ExportJobParams): StartedJob {
  const resolved = { ...params, out: path.resolve(params.out) };
  return host.jobs.start('export', exportKey(resolved), resolved, (ctx) => runExport(host, ctx, resolved));
}

/** Starts a job again from its recorded parameters: it continues from its checkpoint. */
async function restart(host: JobHost, job: JobInfo): Promise<StartedJob> {
  if (job.kind === 'predict') return startPredict(host, job.params as PredictJobParams);
  if (job.kind === 'explain') return startExplain(host, job.params as ExplainJobParams);
  return startExport(host, job.params as ExportJobParams);
}

/** Continues a cancelled, failed or interrupted job (from the CLI's `jobs resume` or the UI). */
export async function resumeJob(host: JobHost, jobId: number): Promise<StartedJob> {
  const job = host.jobs.get(jobId);
  if (job.status === 'done')
    throw new WorkstationError(`job ${jobId} is done; there is nothing to resume`, 'bad-params');
  return restart(host, job);
}

/** Deletes a job that is not running; an export's partial folder goes with it. */
export async function deleteJob(host: JobHost, jobId: number): Promise<JobInfo> {
  const job = host.jobs.delete(jobId);
  if (job.kind === 'export' && job.status !== 'done') {
    const out = (job.params as ExportJobParams).out;
    await fs.promises.rm(partialFolder(out, jobId), { recursive: true, force: true });
  }
  return job;
}

/** Restarts the jobs whose process died (for the service at start-up). */
export async function resumeInterrupted(host: JobHost): Promise<StartedJob[]> {
  const started: StartedJob[] = [];
  for (const job of host.jobs.interrupted()) {
    try {
      started.push(await restart(host, job));
    } catch (error) {
      host.log?.(`could not resume job ${job.id}: ${(error as Error).message}`);
    }
  }
  for (const s of started) s.done.catch(() => undefined); // failures are recorded on the job
  return started;
}
