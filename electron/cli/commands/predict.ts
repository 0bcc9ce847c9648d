// `vsw predict`: a model over a dataset, batched, into a run; prints the run's id as its last line.
// Re-running the same command continues an interrupted run.
import { Option, type Command } from 'commander';
import { startPredict } from '../../workstation/jobs/startJobs';
import type { PredictResult } from '../../workstation/jobs/predictJob';
import { addDataDirOption, openWorkstation, parseInteger, type DataDirFlags } from '../options';
import { runJob } from '../runJob';

interface PredictFlags extends DataDirFlags {
  dataset: string;
  model: string;
  batch: number;
  provider: 'auto' | 'cuda' | 'webgpu' | 'cpu';
  json?: boolean;
}

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('predict')
      .description(
        "run a model over a dataset and record every image's probabilities (prints the run id last)",
      )
      .requiredOption('--dataset <name>', 'the dataset to predict')
      .requiredOption('--model <path>', 'an .onnx file with its model.json beside it, or a model folder')
      .option('--batch <n>', 'images per batch', parseInteger('--batch', 1, 1024), 32)
      .addOption(
        new Option('--provider <name>', 'execution provider')
          .choices(['auto', 'cuda', 'webgpu', 'cpu'])
          .default('auto'),
      )
      .option('--json', 'print the result as JSON before the run id'),
  ).action(async (flags: PredictFlags) => {
    const ws = openWorkstation(flags);
    try {
      const datasetId = ws.datasetByName(flags.dataset);
      const { started, result } = await runJob(ws, 'predict', () =>
        startPredict(ws.jobHost, {
          datasetId,
          model: flags.model,
          batch: flags.batch,
          provider: flags.provider,
        }),
      );
      const r = result as PredictResult;
      if (flags.json) console.log(JSON.stringify(r, null, 2));
      else {
        console.error(
          `predicted ${r.predicted} of ${r.total} images on ${r.provider} in ${r.seconds.toFixed(1)} s` +
            (r.failed.length ? `; ${r.failed.length} could not be read` : ''),
        );
        for (const f of r.failed) console.error(`  skipped ${f.path}: ${f.reason}`);
      }
      console.log(String(started.runId));
    } finally {
      await ws.close();
    }
  });
}
