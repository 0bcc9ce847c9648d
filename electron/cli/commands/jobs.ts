// `vsw jobs list|cancel|resume|delete`: the jobs recorded in a data dir, whichever process (this
// CLI, another one, or a running `vsw serve`) started them. Cancel is seen by the job's own process
// at its next checkpoint; resume continues a cancelled, failed or interrupted job here, with a
// progress bar; delete removes a job that is not running (and an export's partial folder).
import type { Command } from 'commander';
import type { JobInfo } from '../../contract/protocol';
import { deleteJob, resumeJob } from '../../workstation/jobs/startJobs';
import { addDataDirOption, openWorkstation, parseInteger, type DataDirFlags } from '../options';
import { runJob } from '../runJob';
import type { Workstation } from '../../workstation/workstation';

interface JobsFlags extends DataDirFlags {
  json?: boolean;
}

const parseJobId = parseInteger('job id', 1, Number.MAX_SAFE_INTEGER);

function describe(job: JobInfo): string {
  const error = job.error ? ` — ${job.error}` : '';
  return `${job.id}\t${job.kind}\t${job.status}\t${job.done}/${job.total}\t${job.updatedAt}${error}`;
}

/** An action on one job, with the data dir's workstation open around it. */
function onJob(action: (ws: Workstation, jobId: number, flags: JobsFlags) => Promise<void> | void) {
  return async (jobId: number, flags: JobsFlags) => {
    const ws = openWorkstation(flags);
    try {
      await action(ws, jobId, flags);
    } finally {
      await ws.close();
    }
  };
}

export function register(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('list, cancel, resume or delete jobs (predict, explain-set, export)');
  addDataDirOption(
    jobs
      .command('list')
      .description('the latest jobs: id, kind, status, progress')
      .option('--json', 'as JSON'),
  ).action(async (flags: JobsFlags) => {
    const ws = openWorkstation(flags);
    try {
      const list = ws.jobs.list();
      if (flags.json) console.log(JSON.stringify(list, null, 2));
      else for (const job of list) console.log(describe(job));
    } finally {
      await ws.close();
    }
  });
  addDataDirOption(
    jobs
      .command('cancel')
      .argument('<id>', 'the job id (see vsw jobs list)', parseJobId)
      .description('ask a running job to stop at its next checkpoint'),
  ).action(
    onJob((ws, jobId) => {
      const job = ws.jobs.get(jobId);
      if (ws.jobs.cancel(jobId) === 0) throw new Error(`job ${jobId} is ${job.status}, not running`);
      console.log(`job ${jobId} (${job.kind}) will stop at its next checkpoint`);
    }),
  );
  addDataDirOption(
    jobs
      .command('resume')
      .argument('<id>', 'the job id (see vsw jobs list)', parseJobId)
      .description('continue a cancelled, failed or interrupted job from its checkpoint')
      .option('--json', 'print the result as JSON'),
  ).action(
    onJob(async (ws, jobId, flags) => {
      const kind = ws.jobs.get(jobId).kind;
      const { result } = await runJob(ws, kind, () => resumeJob(ws.jobHost, jobId));
      console.log(flags.json ? JSON.stringify(result, null, 2) : `job ${jobId} (${kind}) done`);
    }),
  );
  addDataDirOption(
    jobs
      .command('delete')
      .argument('<id>', 'the job id (see vsw jobs list)', parseJobId)
      .description('remove a job that is not running (an export: its partial folder too)'),
  ).action(
    onJob(async (ws, jobId) => {
      const job = await deleteJob(ws.jobHost, jobId);
      console.log(`deleted job ${job.id} (${job.kind}, ${job.status})`);
    }),
  );
}
