// `vsw evaluate`: deletion/insertion faithfulness (and mask localisation where masks exist) of the
// saliency methods over a folder of images, written as a JSON report with a summary on stdout.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  evaluateFaithfulness,
  scanEvaluationFolder,
  type Baseline,
  type EvaluationItem,
  type FaithfulnessReport,
} from '../../engine/evaluate';
import { resolvePreprocessing } from '../../engine/inputLoader';
import { loadModelPixels, preprocessImage } from '../../engine/preprocess';
import { UsageError } from '../errors';
import {
  engineAction,
  methodOptionsFrom,
  parseMethods,
  parseNonNegativeInteger,
  withModel,
  type MethodFlags,
  type ModelFlags,
} from '../engineOptions';
import { withProgressBar } from '../progressBar';

interface EvaluateFlags extends ModelFlags, MethodFlags {
  input: string;
  out: string;
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
    .requiredOption('--out <report.json>', 'where to write the JSON report')
    .option('--method <name>', 'attn-grad-product, rollout, grad-rollout, last-attn or all', 'all')
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
  const methods = parseMethods(flags.method);
  if (flags.n < 1) throw new UsageError('--n must be at least 1.');
  if (flags.batch < 1) throw new UsageError('--batch must be at least 1.');
  if (!(await fs.stat(flags.input).catch(() => null))?.isDirectory())
    throw new UsageError(`--input ${flags.input} is not a folder of images.`);
  const files = await scanEvaluationFolder(flags.input, flags.n, flags.masks);
  if (files.length === 0) throw new UsageError(`--input ${flags.input} holds no images.`);
  await withModel(flags, async (loaded, session) => {
    const info = session.info;
    const spec = resolvePreprocessing(loaded.card, flags, info);
    const items: EvaluationItem[] = files.map((f) => ({
      id: f.rel,
      label: f.label,
      load: async () => {
        const { tensor } = await preprocessImage(f.file, spec, info);
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
    const full = {
      schemaVersion: 1 as const,
      model: loaded.modelPath,
      provider: session.provider,
      input: flags.input,
      seconds: (Date.now() - started) / 1000,
      ...report,
    };
    await fs.mkdir(path.dirname(path.resolve(flags.out)), { recursive: true });
    await fs.writeFile(flags.out, JSON.stringify(full, null, 1));
    process.stdout.write(summaryTable(report));
  });
}

function summaryTable(report: FaithfulnessReport): string {
  const fmt = (i: { mean: number; ci95: [number, number] | null }) =>
    `${i.mean.toFixed(3)}${i.ci95 ? ` ±${((i.ci95[1] - i.ci95[0]) / 2).toFixed(3)}` : ''}`;
  const hasMask = report.maskArea !== undefined;
  const lines = [
    `${report.images} images, ${report.steps} steps of ${report.pixelsPerStep} pixels, deletion to '${report.baseline}', insertion from blur (σ ${report.blurSigma})`,
    `${'method'.padEnd(20)}${'deletion AUC ↓'.padEnd(18)}${'insertion AUC ↑'.padEnd(18)}${hasMask ? 'mass in mask ↑   pointing' : ''}`,
  ];
  for (const [name, s] of Object.entries(report.methods)) {
    if (!s) continue;
    const loc = s.localisation
      ? `${fmt(s.localisation.maskMass).padEnd(17)}${(s.localisation.pointing * 100).toFixed(0)}%`
      : '';
    lines.push(`${name.padEnd(20)}${fmt(s.deletion.auc).padEnd(18)}${fmt(s.insertion.auc).padEnd(18)}${loc}`);
  }
  if (hasMask)
    lines.push(`(a uniform map puts ${(report.maskArea! * 100).toFixed(1)}% of its mass in the mask)`);
  return `${lines.join('\n')}\n`;
}
