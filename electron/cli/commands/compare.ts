// `vsw compare`: two runs on the same labelled images at matched recall on one class — false
// positives of each, their change with a bootstrap 95% CI, per tag and untagged.
import { InvalidArgumentError, type Command } from 'commander';
import { formatChange, formatCi, type CompareResult } from '../../contract/compare';
import { SPLITS, type Split } from '../../contract/query';
import { CompareRefused, compareRuns } from '../../workstation/compare/compareRuns';
import { WorkstationError } from '../../workstation/datasets/importFolder';
import { collect, parseRunId } from '../coreOptions';
import { UsageError } from '../errors';
import { addDataDirOption, openWorkstation, parseInteger, type DataDirFlags } from '../options';

interface CompareFlags extends DataDirFlags {
  dataset: string;
  run: string[];
  class: string;
  recall?: number;
  split?: Split;
  bootstrap: number;
  seed: number;
  json?: boolean;
}

function parseRecall(value: string): number {
  const r = Number(value);
  if (!(r > 0 && r <= 1))
    throw new InvalidArgumentError('--recall must be a number above 0 and at most 1 (e.g. 0.9)');
  return r;
}

function parseSplit(value: string): Split {
  if (!(SPLITS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`--split must be one of ${SPLITS.join(', ')}`);
  return value as Split;
}

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('compare')
      .description(
        'compare two runs at matched recall on a class: false positives, overall, per tag and untagged, with bootstrap 95% CIs',
      )
      .requiredOption('--dataset <name>', 'the labelled dataset both runs predicted')
      .requiredOption('--run <id>', 'the base run, then the run compared with it (give --run twice)', collect)
      .requiredOption('--class <label>', 'the positive class')
      .option(
        '--recall <r>',
        "the recall to match (default: the base run's arg-max recall on the class)",
        parseRecall,
      )
      .option('--split <split>', `only the images of one split (${SPLITS.join(', ')})`, parseSplit)
      .option('--bootstrap <n>', 'bootstrap resamples', parseInteger('--bootstrap', 0, 100000), 1000)
      .option('--seed <s>', 'the bootstrap seed', parseInteger('--seed', 0, 2 ** 31), 1)
      .option('--json', 'print one JSON object'),
  ).action(async (flags: CompareFlags) => {
    if (flags.run.length !== 2)
      throw new UsageError(
        `give exactly two runs, the base first: --run A --run B (got ${flags.run.length})`,
      );
    const [runA, runB] = flags.run.map(parseRunId);
    const ws = openWorkstation(flags);
    try {
      const result = compareRuns(ws.db, {
        datasetId: ws.datasetByName(flags.dataset),
        runA,
        runB,
        className: flags.class,
        recall: flags.recall,
        split: flags.split,
        bootstrap: flags.bootstrap,
        seed: flags.seed,
      });
      console.log(flags.json ? JSON.stringify(result) : compareTable(result));
    } catch (error) {
      // A refused comparison, an unknown class or run: the command was wrong, not the machine.
      if (
        error instanceof CompareRefused ||
        (error instanceof WorkstationError && error.code === 'bad-params')
      )
        throw new UsageError(error.message);
      throw error;
    } finally {
      await ws.close();
    }
  });
}

const pct = formatChange;
const ci = formatCi;

/** The comparison as a readable table: runs at the matched recall, then the false positives. */
export function compareTable(r: CompareResult): string {
  const [a, b] = r.runs;
  const lines = [
    `${r.dataset}: ${r.images} labelled images, ${r.positives} of class ${r.class}${r.split ? ` (split ${r.split})` : ''}`,
    `matched recall ${r.matchedRecall.toFixed(4)} (${r.recallFrom === 'argmax' ? `run ${a.id}'s arg-max recall` : 'given'})`,
    ...r.runs.map(
      (x, k) =>
        `  ${k ? 'B' : 'A'} run ${x.id} ${x.model}: threshold ${x.threshold.toFixed(4)}, recall ${x.recall.toFixed(4)}, false positives ${x.falsePositives}, precision ${x.precision?.toFixed(4) ?? '–'}`,
    ),
    '',
  ];
  const rows: string[][] = [
    ['', 'images', `FP A`, `FP B`, 'change', `95% CI (bootstrap ${r.bootstrap.n})`],
    [
      'overall',
      String(r.images),
      String(r.overall.a),
      String(r.overall.b),
      pct(r.overall.changePct),
      ci(r.overall.ci95),
    ],
    ...r.patterns.map((p) => [
      `tag ${p.tag}`,
      String(p.images),
      String(p.a),
      String(p.b),
      pct(p.changePct),
      ci(p.ci95),
    ]),
    [
      'untagged',
      String(r.untagged.images),
      String(r.untagged.a),
      String(r.untagged.b),
      pct(r.untagged.changePct),
      ci(r.untagged.ci95),
    ],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows)
    lines.push(
      row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '),
    );
  lines.push(`(run A ${a.id}, run B ${b.id}; change = (B − A) / A)`);
  return lines.join('\n');
}
