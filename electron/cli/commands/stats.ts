// `vsw stats`: images per tag, per class and per tag × predicted class, a run's confusion matrix
// and review progress, over the images a query selects.
import type { Command } from 'commander';
import { computeStats } from '../../workstation/stats/stats';
import { listRuns } from '../../workstation/runs/runs';
import { parseRunId, queryFromFlags } from '../coreOptions';
import { addDataDirOption, openWorkstation, type DataDirFlags } from '../options';

interface StatsFlags extends DataDirFlags {
  dataset: string;
  run?: number;
  query?: string;
  json?: boolean;
}

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('stats')
      .description('counts per tag and class, the confusion matrix of a run, review progress')
      .requiredOption('--dataset <name>', 'the dataset')
      .option(
        '--run <id>',
        'the prediction run (adds predicted classes and the confusion matrix)',
        parseRunId,
      )
      .option('--query <json>', 'restrict to the images a query selects')
      .option('--json', 'print JSON (with a top-level "images" count)'),
  ).action(async (flags: StatsFlags) => {
    const ws = openWorkstation(flags);
    try {
      const query = queryFromFlags(ws, flags);
      const stats = computeStats(ws.db, query);
      const runs = listRuns(ws.db, query.datasetId).map((r) => ({
        id: r.id,
        name: r.name,
        status: r.status,
        predictions: r.predictions,
      }));
      if (flags.json) {
        console.log(JSON.stringify({ ...stats, runs }, null, 2));
        return;
      }
      console.log(`${stats.images} images; reviewed ${stats.review.reviewed}, untagged ${stats.untagged}`);
      for (const t of stats.tags) console.log(`  tag ${t.name}: ${t.count}`);
      for (const c of stats.classes)
        console.log(`  class ${c.label ?? '(none)'}: ${c.images} labelled, ${c.predicted} predicted`);
      if (stats.confusion)
        for (const c of stats.confusion.perClass)
          console.log(
            `  ${c.label}: precision ${c.precision?.toFixed(3) ?? '–'}, recall ${c.recall?.toFixed(3) ?? '–'} (support ${c.support})`,
          );
      for (const r of runs)
        console.log(`  run ${r.id}: ${r.name} (${r.status}, ${r.predictions} predictions)`);
    } finally {
      await ws.close();
    }
  });
}
