// Runs a workstation job from the command line: a progress bar fed by the job's progress events,
// and Ctrl-C asking the job to stop at its next checkpoint (run the command again to continue).
import type { StartedJob } from '../workstation/jobs/jobRunner';
import type { Workstation } from '../workstation/workstation';
import { withProgressBar } from './progressBar';

export async function runJob<T extends StartedJob>(
  ws: Workstation,
  label: string,
  start: () => Promise<T> | T,
): Promise<{ started: T; result: unknown }> {
  ws.log = (message) => console.error(message);
  return withProgressBar(label, async (progress) => {
    const started = await start();
    if (started.resumed) console.error(`${label}: resuming job ${started.jobId} from its last checkpoint`);
    const off = ws.onEvent((event) => {
      if (event.type === 'job.progress' && event.jobId === started.jobId) progress(event.done, event.total);
    });
    const interrupt = () => {
      console.error(`\n${label}: stopping at the next checkpoint; run the same command again to continue`);
      ws.jobs.cancel(started.jobId);
    };
    process.once('SIGINT', interrupt);
    try {
      return { started, result: await started.done };
    } finally {
      off();
      process.removeListener('SIGINT', interrupt);
    }
  });
}
