// `vsw export`: the tagged negative set as an ImageFolder tree or flat files with manifests, with
// provenance (export.json) and a leakage warning. Re-running an interrupted export continues it.
import { Option, type Command } from 'commander';
import { SALIENCY_METHODS } from '../../contract/protocol';
import type { ExportResult } from '../../workstation/jobs/exportJob';
import { startExport } from '../../workstation/jobs/startJobs';
import { parseRunId, queryFromFlags } from '../coreOptions';
import { UsageError } from '../errors';
import { addDataDirOption, openWorkstation, type DataDirFlags } from '../options';
import { runJob } from '../runJob';

interface ExportFlags extends DataDirFlags {
  dataset: string;
  run?: number;
  tags?: string;
  query?: string;
  layout: 'imagefolder' | 'flat';
  group: 'tag' | 'negative';
  manifest: string;
  overlays?: (typeof SALIENCY_METHODS)[number];
  media: 'copy' | 'hardlink' | 'symlink';
  out: string;
  json?: boolean;
  pool?: string;
  poolTags?: string;
  testDataset?: string;
  testRun?: number;
  dupThreshold?: number;
}

function parseThreshold(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError(`--dup-threshold must be a cosine between 0 and 1, not "${value}"`);
  return n;
}

const list = (text: string | undefined): string[] | undefined =>
  text
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);

const MANIFESTS = ['csv', 'jsonl', 'hf'] as const;

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('export')
      .description(
        'export the tagged negative set (ImageFolder or flat + manifests, with export.json provenance)',
      )
      .requiredOption('--dataset <name>', 'the dataset')
      .option(
        '--run <id>',
        'the prediction run (predictions in manifests, --query filters, overlays)',
        parseRunId,
      )
      .option('--tags <a,b>', 'images with any of these tags')
      .option('--query <json>', 'images a query selects (combined with --tags)')
      .addOption(
        new Option('--layout <layout>', 'output layout')
          .choices(['imagefolder', 'flat'])
          .makeOptionMandatory(),
      )
      .addOption(
        new Option('--group <group>', 'imagefolder: one folder per tag, or one "negative" folder')
          .choices(['tag', 'negative'])
          .default('tag'),
      )
      .option(
        '--manifest <list>',
        'manifests to write: csv, jsonl, hf (metadata.jsonl), comma-separated',
        'csv',
      )
      .addOption(
        new Option('--overlays <method>', 'also write heatmap overlay PNGs with this method').choices(
          SALIENCY_METHODS,
        ),
      )
      .addOption(
        new Option('--media <how>', 'how to place images')
          .choices(['copy', 'hardlink', 'symlink'])
          .makeOptionMandatory(),
      )
      .requiredOption('--out <dir>', 'the export folder (must not exist yet)')
      .option('--pool <name>', "also export this dataset's (a pool's) images carrying the exported tags")
      .option('--pool-tags <a,b>', 'the pool tags to export (default: --tags)')
      .option(
        '--test-dataset <name>',
        "the comparison's test set: warn about exported duplicates (hash) and near-duplicates (embedding)",
      )
      .option(
        '--test-run <id>',
        "the test set's run for the near-duplicate check (default: its latest of the model)",
        parseRunId,
      )
      .option(
        '--dup-threshold <cosine>',
        'near-duplicate at this embedding cosine or above (default 0.98)',
        parseThreshold,
      )
      .option('--json', 'print the result as JSON'),
  ).action(async (flags: ExportFlags) => {
    const manifests = flags.manifest
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    const bad = manifests.filter((m) => !(MANIFESTS as readonly string[]).includes(m));
    if (bad.length) throw new UsageError(`--manifest: unknown ${bad.join(', ')}; use csv, jsonl or hf`);
    const tags = list(flags.tags);
    if (flags.poolTags !== undefined && flags.pool === undefined)
      throw new UsageError('--pool-tags needs --pool POOL');
    if ((flags.testRun !== undefined || flags.dupThreshold !== undefined) && flags.testDataset === undefined)
      throw new UsageError('--test-run and --dup-threshold need --test-dataset NAME');
    if (!tags?.length && flags.query === undefined)
      throw new UsageError('say what to export: --tags a,b and/or --query JSON');
    const ws = openWorkstation(flags);
    try {
      const query = queryFromFlags(ws, flags);
      const { result } = await runJob(ws, 'export', () =>
        startExport(ws.jobHost, {
          query,
          tags,
          layout: flags.layout,
          group: flags.group,
          manifests: manifests as (typeof MANIFESTS)[number][],
          media: flags.media,
          overlays: flags.overlays,
          out: flags.out,
          pool:
            flags.pool === undefined
              ? undefined
              : { datasetId: ws.datasetByName(flags.pool), tags: list(flags.poolTags) },
          testSet:
            flags.testDataset === undefined
              ? undefined
              : { datasetId: ws.datasetByName(flags.testDataset), runId: flags.testRun },
          dupThreshold: flags.dupThreshold,
        }),
      );
      const r = result as ExportResult;
      if (r.leakage.warning) console.error(`warning: ${r.leakage.warning}`);
      if (r.leakage.testSet?.embeddingCheck)
        console.error(`note: near-duplicate check: ${r.leakage.testSet.embeddingCheck}`);
      if (r.skipped.length) {
        console.error(`skipped ${r.skipped.length} of ${r.selected} images (${r.missing} marked missing):`);
        for (const s of r.skipped) console.error(`  ${s.path}: ${s.reason}`);
      }
      if (flags.json) console.log(JSON.stringify(r, null, 2));
      else
        console.log(
          `exported ${r.images} images${r.sources.pool ? ` (${r.sources.pool} from the pool)` : ''} as ${r.files} files to ${r.out} (${Object.entries(
            r.folders,
          )
            .map(([f, n]) => `${f}: ${n}`)
            .join(', ')}; manifests: ${r.manifests.join(', ') || 'none'})`,
        );
    } finally {
      await ws.close();
    }
  });
}
