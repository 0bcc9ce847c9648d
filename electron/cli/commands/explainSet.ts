// `vsw explain-set`: precompute saliency maps of a run for every image a query selects.
import { Option, type Command } from 'commander';
import { SALIENCY_METHODS } from '../../contract/protocol';
import type { ExplainResult } from '../../workstation/jobs/explainJob';
import { startExplain } from '../../workstation/jobs/startJobs';
import { parseRunId, queryFromFlags } from '../coreOptions';
import { addDataDirOption, openWorkstation, parseInteger, type DataDirFlags } from '../options';
import { runJob } from '../runJob';

interface ExplainSetFlags extends DataDirFlags {
  dataset: string;
  run: number;
  method: (typeof SALIENCY_METHODS)[number];
  query?: string;
  target: string;
  batch: number;
  json?: boolean;
}

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('explain-set')
      .description('precompute saliency maps for the images a query selects (cached for the grid and export)')
      .requiredOption('--dataset <name>', 'the dataset')
      .requiredOption('--run <id>', 'the prediction run', parseRunId)
      .addOption(
        new Option('--method <m>', 'saliency method').choices(SALIENCY_METHODS).makeOptionMandatory(),
      )
      .option(
        '--query <json>',
        'which images (the query schema), e.g. \'{"errors":{"kind":"fp","class":"Shirt"}}\'',
      )
      .option('--target <class>', 'whose map: top1 (default), true, or a class label', 'top1')
      .option('--batch <n>', 'images per batch', parseInteger('--batch', 1, 256), 16)
      .option('--json', 'print the result as JSON'),
  ).action(async (flags: ExplainSetFlags) => {
    const ws = openWorkstation(flags);
    try {
      const query = queryFromFlags(ws, flags);
      const target =
        flags.target === 'top1' || flags.target === 'true' ? flags.target : { label: flags.target };
      const { result } = await runJob(ws, 'explain', () =>
        startExplain(ws.jobHost, { query, method: flags.method, options: {}, target, batch: flags.batch }),
      );
      const r = result as ExplainResult;
      for (const w of r.warnings) console.error(`warning: ${w}`);
      if (flags.json) console.log(JSON.stringify(r, null, 2));
      else {
        console.log(
          `${r.method}: ${r.computed} computed, ${r.cached} already cached, ${r.skipped.length} skipped of ${r.images} (${r.seconds.toFixed(1)} s on ${r.provider})`,
        );
        for (const m of r.providerMessages) console.log(`  ${m}`);
        for (const s of r.skipped) console.log(`  skipped ${s.path}: ${s.reason}`);
      }
    } finally {
      await ws.close();
    }
  });
}
