// `vsw evaluate`: deletion/insertion faithfulness (and mask localisation where masks exist) of the
// saliency methods over a folder of images, written as a JSON report with a summary on stdout.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import os from 'node:os';
import {
  evaluateFaithfulness,
  scanEvaluationFolder,
  type Baseline,
  type EvaluationFile,
  type EvaluationItem,
  type FaithfulnessReport,
} from '../../engine/evaluate';
import { flippedByOriginals } from '../../engine/flippedSubset';
import { buildLeaderboard, LEADERBOARD_FILE, sha256OfFile, type Leaderboard } from '../../engine/leaderboard';
import { MAP_METHODS } from '../../engine/methods';
import { resolvePreprocessing } from '../../engine/inputLoader';
import { loadModelPixels, preprocessImage } from '../../engine/preprocess';
import { UsageError } from '../errors';
import {
  engineAction,
  methodOptionsFrom,
  parseMapMethods,
  parseNonNegativeInteger,
  withModel,
  type MethodFlags,
  type ModelFlags,
} from '../engineOptions';
import { withProgressBar } from '../progressBar';

interface EvaluateFlags extends ModelFlags, MethodFlags {
  input: string;
  out?: string;
  leaderboard?: boolean;
  originals?: string;
  flipped?: string;
  method: string;
  n: number;
  baseline: Baseline;
  batch: number;
  blurSigma?: number;
  seed: number;
  masks?: string;
}

export function register(program: Command): void {
  const command = program
    .command('evaluate')
    .description(
      'deletion/insertion faithfulness of the saliency methods over a folder of images (and mask localisation)',
    )
    .requiredOption('--input <folder>', 'folder of images; with images/ and masks/ inside, also localisation')
    .option('--out <report.json>', 'where to write the JSON report (with every image)')
    .option(
      '--leaderboard',
      "score every method (or --method's) and write faithfulness.json, with the model's hash, beside the model's card",
    )
    .option(
      '--originals <folder>',
      'the same images without the cue: only the images whose prediction differs from the one on the original (same relative path) are scored',
    )
    .option(
      '--flipped <list.txt>',
      'score only these images (paths relative to the images folder, one a line)',
    )
    .option('--method <name>', `${MAP_METHODS.join(', ')} or all`, 'all')
    .option(
      '--n <count>',
      'number of images, evenly spread over the folder',
      parseNonNegativeInteger('--n'),
      200,
    )
    .addOption(
      new Option('--baseline <kind>', 'what deleted pixels become')
        .choices(['mean', 'black', 'blur'])
        .default('mean'),
    )
    .option(
      '--batch <count>',
      'perturbed images per ONNX Runtime run',
      parseNonNegativeInteger('--batch'),
      128,
    )
    .option(
      '--blur-sigma <px>',
      'σ of the blurred image in input pixels (default: the larger side / 8)',
      (t) => {
        const v = Number(t);
        if (!(v > 0)) throw new UsageError(`--blur-sigma must be a positive number; got '${t}'.`);
        return v;
      },
    )
    .option('--seed <n>', 'seed of the random floor maps', parseNonNegativeInteger('--seed'), 0)
    .option(
      '--masks <folder>',
      'masks of the deciding region for localisation, at the same relative paths as the images ' +
        '(default: masks/ beside images/)',
    );
  engineAction(command, runEvaluate);
}

async function runEvaluate(flags: EvaluateFlags): Promise<void> {
  const methods = parseMapMethods(flags.method);
  if (flags.n < 1) throw new UsageError('--n must be at least 1.');
  if (flags.batch < 1) throw new UsageError('--batch must be at least 1.');
  if (!flags.out && !flags.leaderboard)
    throw new UsageError('Give --out <report.json>, --leaderboard, or both.');
  if (flags.originals && flags.flipped) throw new UsageError('Give --originals or --flipped, not both.');
  if (!(await fs.stat(flags.input).catch(() => null))?.isDirectory())
    throw new UsageError(`--input ${flags.input} is not a folder of images.`);
  const subsetRule = flags.originals ?? flags.flipped;
  // A flipped subset is picked from the whole folder; --n then caps the subset.
  let files = await scanEvaluationFolder(flags.input, subsetRule ? undefined : flags.n, flags.masks);
  if (files.length === 0) throw new UsageError(`--input ${flags.input} holds no images.`);
  await withModel(flags, async (loaded, session) => {
    const info = session.info;
    const spec = resolvePreprocessing(loaded.card, flags, info);
    const tensorOf = async (file: string) => (await preprocessImage(file, spec, info)).tensor;
    let subset: Leaderboard['subset'];
    if (subsetRule) {
      const of = files.length;
      files = flags.originals
        ? await flippedByOriginals(session, files, flags.originals, tensorOf)
        : await listedFiles(files, flags.flipped!);
      if (files.length === 0)
        throw new UsageError(
          flags.originals
            ? `No image of ${flags.input} changes the model's prediction against ${flags.originals}: nothing to score.`
            : `None of the images listed in ${flags.flipped} is in ${flags.input}.`,
        );
      if (files.length > flags.n) files = files.slice(0, flags.n);
      subset = {
        rule: flags.originals
          ? `the images whose prediction differs from the same model's on the original in ${flags.originals}`
          : `the images listed in ${flags.flipped}`,
        of,
      };
      process.stderr.write(`vsw: scoring ${files.length} of ${of} images (${subset.rule})\n`);
    }
    const items: EvaluationItem[] = files.map((f) => ({
      id: f.rel,
      label: f.label,
      load: async () => {
        const tensor = await tensorOf(f.file);
        if (!f.mask) return { tensor };
        const { pixels, channels } = await loadModelPixels(f.mask, spec, info, 'nearest');
        const mask = new Uint8Array(info.height * info.width);
        for (let i = 0; i < mask.length; i++) mask[i] = pixels[i * channels] > 127 ? 1 : 0;
        return { tensor, mask };
      },
    }));
    const started = Date.now();
    const report = await withProgressBar('evaluate', (progress) =>
      evaluateFaithfulness(session, items, {
        methods,
        timeMethods: flags.leaderboard,
        methodOptions: methodOptionsFrom(flags),
        baseline: flags.baseline,
        steps: 32,
        batch: flags.batch,
        blurSigma: flags.blurSigma,
        blackValue: spec.mean.map((m, c) => (0 - m) / spec.std[spec.std.length === 1 ? 0 : c]),
        seed: flags.seed,
        onProgress: progress,
      }),
    );
    if (flags.out) {
      const full = {
        schemaVersion: 1 as const,
        model: loaded.modelPath,
        provider: session.provider,
        input: flags.input,
        ...(subset ? { subset } : {}),
        seconds: (Date.now() - started) / 1000,
        ...report,
      };
      await fs.mkdir(path.dirname(path.resolve(flags.out)), { recursive: true });
      await fs.writeFile(flags.out, JSON.stringify(full, null, 1));
    }
    process.stdout.write(summaryTable(report));
    if (flags.leaderboard) {
      const board = buildLeaderboard(report, {
        modelName: loaded.card?.name ?? path.basename(loaded.modelPath, '.onnx'),
        modelFile: path.basename(loaded.modelPath),
        sha256: sha256OfFile(loaded.modelPath),
        dataset: flags.input,
        subset,
        machine: `${os.cpus().length}-core ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${session.provider}`,
      });
      const target = path.join(path.dirname(loaded.modelPath), LEADERBOARD_FILE);
      await fs.writeFile(target, `${JSON.stringify(board, null, 1)}\n`);
      process.stdout.write(
        `leaderboard written to ${target}: default method ${board.winner.method} (${board.winner.reason})\n`,
      );
    }
  });
}

/** The files whose relative path (to the images folder) is listed, one a line, in `list`. */
async function listedFiles(files: EvaluationFile[], list: string): Promise<EvaluationFile[]> {
  const text = await fs.readFile(list, 'utf8').catch(() => {
    throw new UsageError(`--flipped ${list} cannot be read.`);
  });
  const wanted = new Set(
    text
      .split(/\r?\n/)
      .map((l) => l.trim().replace(/^images\//, ''))
      .filter(Boolean),
  );
  return files.filter((f) => wanted.has(f.rel));
}

function summaryTable(report: FaithfulnessReport): string {
  const fmt = (i: { mean: number; ci95: [number, number] | null }) =>
    `${i.mean.toFixed(3)}${i.ci95 ? ` ±${((i.ci95[1] - i.ci95[0]) / 2).toFixed(3)}` : ''}`;
  const hasMask = report.maskArea !== undefined;
  const lines = [
    `${report.images} images, ${report.steps} steps of ${report.pixelsPerStep} pixels, deletion to '${report.baseline}', insertion from blur (σ ${report.blurSigma})`,
    `${'method'.padEnd(22)}${'deletion AUC ↓'.padEnd(18)}${'insertion AUC ↑'.padEnd(18)}${hasMask ? 'mass in mask ↑   pointing  ' : ''}time per image`,
  ];
  for (const [name, s] of Object.entries(report.methods)) {
    if (!s) continue;
    const loc = s.localisation
      ? `${fmt(s.localisation.maskMass).padEnd(17)}${`${(s.localisation.pointing * 100).toFixed(1)}%`.padEnd(10)}`
      : '';
    const time = s.msPerImage ? `${s.msPerImage.mean.toFixed(1)} ms` : '';
    lines.push(
      `${name.padEnd(22)}${fmt(s.deletion.auc).padEnd(18)}${fmt(s.insertion.auc).padEnd(18)}${loc}${time}`,
    );
  }
  if (hasMask)
    lines.push(`(a uniform map puts ${(report.maskArea! * 100).toFixed(1)}% of its mass in the mask)`);
  return `${lines.join('\n')}\n`;
}
