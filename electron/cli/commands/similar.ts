// `vsw similar`: "find more like these": the images of a dataset or a pool ranked by how close their
// embeddings are to a tag's images or to given images (from a `vsw predict` run).
import { Option, type Command } from 'commander';
import { findSimilar, type SimilarMode } from '../../workstation/similar/findSimilar';
import { collect, imageByPath, parseRunId } from '../coreOptions';
import { UsageError } from '../errors';
import { addDataDirOption, openWorkstation, parseInteger, type DataDirFlags } from '../options';

interface SimilarFlags extends DataDirFlags {
  dataset: string;
  run: number;
  tag?: string;
  image?: string[];
  pool?: string;
  poolRun?: number;
  k: number;
  mode: SimilarMode;
  json?: boolean;
}

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('similar')
      .description("rank a dataset's (or a pool's) images by similarity to a tag's images or to given images")
      .requiredOption('--dataset <name>', 'the dataset of the query images')
      .requiredOption('--run <id>', 'the `vsw predict` run whose embeddings describe the query', parseRunId)
      .option('--tag <name>', "the query: the dataset's images carrying this tag")
      .option(
        '--image <path>',
        'the query: this image (repeatable; relative to the dataset folder or absolute)',
        collect,
      )
      .option('--pool <name>', 'the dataset to rank (default: --dataset)')
      .option(
        '--pool-run <id>',
        "the pool's run (default: the latest complete run of the same model on the pool)",
        parseRunId,
      )
      .option('--k <n>', 'how many results', parseInteger('--k', 1, 100_000), 100)
      .addOption(
        new Option('--mode <mode>', "score: the query set's nearest member, or its mean")
          .choices(['nearest', 'mean'])
          .default('nearest'),
      )
      .option('--json', 'print one JSON object'),
  ).action(async (flags: SimilarFlags) => {
    if (!flags.tag && !flags.image?.length) throw new UsageError('give the query: --tag TAG or --image PATH');
    const ws = openWorkstation(flags);
    try {
      const datasetId = ws.datasetByName(flags.dataset);
      const { missing, ...result } = findSimilar(ws.db, ws.embeddingsDir, {
        datasetId,
        runId: flags.run,
        tag: flags.tag ?? null,
        imageIds: (flags.image ?? []).map((p) => imageByPath(ws, datasetId, p)),
        poolDatasetId: flags.pool === undefined ? undefined : ws.datasetByName(flags.pool),
        poolRunId: flags.poolRun,
        k: flags.k,
        mode: flags.mode,
      });
      if (missing.length)
        console.error(
          `${missing.length} query image(s) have no embedding in run ${flags.run} and were left out, e.g. ${missing[0]}`,
        );
      if (flags.json) {
        console.log(JSON.stringify(result));
        return;
      }
      console.log(
        `${result.results.length} images of ${result.pool.dataset} (run ${result.pool.run}) most like ` +
          `${result.query.tag ? `the tag ${result.query.tag}` : 'the query'} (${result.query.images.length} image(s), ` +
          `${result.mode}), ${result.index.kind} index over ${result.index.vectors} vectors, ${result.ms} ms`,
      );
      for (const r of result.results)
        console.log(`${String(r.rank).padStart(5)}  ${r.score.toFixed(4)}  ${r.path}  ${r.label ?? ''}`);
    } finally {
      await ws.close();
    }
  });
}
