// `vsw explain`: saliency maps of one image (or a folder of them) as JSON and heatmap PNGs. The
// contract (flags, JSON fields, exit codes) is fixed: other tools depend on it.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import sharp from 'sharp';
import { explainImage, parseTarget, type ExplainReport, type TargetSpec } from '../../engine/explainReport';
import { COLORMAP_NAMES, renderOverlay, type ColormapName } from '../../engine/heatmap';
import { ImageWorkerPool, type ImageOutputs } from '../../engine/imageWorkerPool';
import { isImageFile, isNpyFile, listInputFiles } from '../../engine/imageFiles';
import { loadInput, resolvePreprocessing, type LoadedInput } from '../../engine/inputLoader';
import type { MethodName } from '../../engine/methods';
import type { PreprocessingSpec } from '../../engine/modelCard';
import { UsageError } from '../errors';
import {
  engineAction,
  methodOptionsFrom,
  parseMethods,
  withModel,
  type MethodFlags,
  type ModelFlags,
} from '../engineOptions';
import { withProgressBar } from '../progressBar';
import { parseInteger } from '../options';
import { runPipelined } from '../batchPipeline';
import { explainBatch } from '../../engine/explainBatch';

interface ExplainFlags extends ModelFlags, MethodFlags {
  input: string;
  out: string;
  target: string;
  method: string;
  dumpBlocks?: boolean;
  colormap: ColormapName;
  opacity: number;
  /** false with --no-overlay: JSON only. */
  overlay: boolean;
  batch: number;
}

type OutKind = 'json' | 'png' | 'jpeg' | 'folder';

export function register(program: Command): void {
  const command = program
    .command('explain')
    .description('saliency maps of a ViT classifier for an image, a .npy tensor or a folder of images')
    .requiredOption(
      '--input <path>',
      'image file, .npy float32 tensor 1×C×H×W (already preprocessed), or a folder of images',
    )
    .requiredOption(
      '--out <path>',
      'file.json, file.png, file.jpg, or a folder (a folder input needs a folder)',
    )
    .option('--target <class>', 'class index, top1 or top2', 'top1')
    .option(
      '--method <name>',
      'attn-grad-product, rollout, grad-rollout, last-attn or all',
      'attn-grad-product',
    )
    .option('--dump-blocks', "add every block's class-token attention and gradient rows to the JSON")
    .addOption(
      new Option('--colormap <name>', 'heatmap colour map').choices([...COLORMAP_NAMES]).default('turbo'),
    )
    .option(
      '--opacity <alpha>',
      'heatmap opacity over the image, 0…1',
      (t) => {
        const v = Number(t);
        if (!(v >= 0 && v <= 1)) throw new UsageError(`--opacity must be a number from 0 to 1; got '${t}'.`);
        return v;
      },
      0.5,
    )
    .option('--no-overlay', 'write the JSON reports only, no heatmap PNGs')
    .option(
      '--batch <n>',
      'images per ONNX Runtime run for a folder (decoding and writing overlap the runs)',
      parseInteger('--batch', 1, 1024),
      16,
    );
  engineAction(command, runExplain);
}

function outKindOf(out: string): OutKind {
  const ext = path.extname(out).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  // Another image extension would silently become a folder of that name: refuse it instead.
  if (isImageFile(out))
    throw new UsageError(
      `--out ${out}: overlays are written as .png or .jpg; give one of those, or a folder.`,
    );
  return 'folder';
}

async function runExplain(flags: ExplainFlags): Promise<void> {
  const methods = parseMethods(flags.method);
  let target: TargetSpec;
  try {
    target = parseTarget(flags.target);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const stat = await fs.stat(flags.input).catch(() => null);
  if (!stat) throw new UsageError(`--input ${flags.input} does not exist.`);
  const folderInput = stat.isDirectory();
  const outKind = outKindOf(flags.out);
  if (folderInput && outKind !== 'folder')
    throw new UsageError('--input is a folder, so --out must be a folder (not a .json, .png or .jpg file).');
  const files = folderInput ? await listInputFiles(flags.input, { npy: true }) : [path.basename(flags.input)];
  const root = folderInput ? flags.input : path.dirname(flags.input);
  if (files.length === 0)
    throw new UsageError(
      `--input ${flags.input} holds no images (${'png, jpg, webp, tiff, gif, avif'}) or .npy files.`,
    );
  if (!folderInput && !isImageFile(files[0]) && !isNpyFile(files[0]))
    throw new UsageError(`--input ${flags.input} is neither an image nor a .npy tensor.`);

  await withModel(flags, async (loaded, session) => {
    const info = session.info;
    const needsSpec = files.some((f) => !isNpyFile(f));
    const spec: PreprocessingSpec | null = needsSpec ? resolvePreprocessing(loaded.card, flags, info) : null;
    const request = {
      target,
      methods,
      options: methodOptionsFrom(flags),
      dumpBlocks: flags.dumpBlocks,
      labels: loaded.card?.labels,
      activation: loaded.card?.output.activation,
    };
    const failures: string[] = [];
    const overlayOptions = { colormap: flags.colormap, opacity: flags.opacity };
    // A folder's images are decoded, its overlays drawn and its files written in worker threads,
    // beside ORT's runs on the main thread, on the cores ORT's intra-op threads leave (at least one).
    const pool = folderInput
      ? new ImageWorkerPool(Math.max(1, os.availableParallelism() - session.threads))
      : null;
    /** One image's JSON (and overlays) in the --out folder. */
    const outputsOf = (
      rel: string,
      input: LoadedInput,
      report: ExplainReport,
      maps: Map<MethodName, Float32Array>,
    ): ImageOutputs => {
      const base = path.join(flags.out, rel.slice(0, rel.length - path.extname(rel).length));
      return {
        text: { file: `${base}.json`, text: JSON.stringify(report) },
        overlays: (flags.overlay ? methods : []).map((m) => ({
          file: `${base}.${m}.png`,
          base: input.overlayBase,
          map: maps.get(m)!,
          grid: info.grid,
          geometry: input.geometry,
          options: overlayOptions,
        })),
      };
    };
    /** Writes images' outputs through the pool; each failure is recorded with its image. */
    const writeToFolder = async (done: { rel: string; outputs: ImageOutputs }[]) => {
      const results = await pool!.writeOutputs(done.map((x) => x.outputs));
      results.forEach((e, i) => e && failures.push(`${done[i].rel}: ${e.message}`));
    };
    const explainOne = async (rel: string): Promise<void> => {
      const file = path.join(root, rel);
      const input = await loadInput(file, spec, info);
      const { report, maps } = await explainImage(session, input.tensor, request);
      const written: string[] = [];
      const writeOverlay = async (method: MethodName, to: string) => {
        await fs.mkdir(path.dirname(to), { recursive: true });
        const png = await renderOverlay(
          input.overlayBase,
          maps.get(method)!,
          info.grid,
          input.geometry,
          overlayOptions,
        );
        await fs.writeFile(to, outKind === 'jpeg' ? await sharp(png).jpeg({ quality: 92 }).toBuffer() : png);
        written.push(to);
      };
      if (outKind === 'json') {
        await fs.mkdir(path.dirname(path.resolve(flags.out)), { recursive: true });
        await fs.writeFile(flags.out, JSON.stringify(report));
        written.push(flags.out);
      } else if (outKind === 'png' || outKind === 'jpeg') {
        const ext = path.extname(flags.out);
        const stem = flags.out.slice(0, -ext.length);
        for (const m of methods)
          await writeOverlay(m, methods.length === 1 ? flags.out : `${stem}.${m}${ext}`);
      } else await writeToFolder([{ rel, outputs: outputsOf(rel, input, report, maps) }]);
      if (!folderInput) for (const w of written) process.stdout.write(`${w}\n`);
    };
    if (!folderInput) await explainOne(files[0]);
    else {
      await withProgressBar('explain', async (progress) => {
        progress(0, files.length);
        let finished = 0;
        if (flags.dumpBlocks) {
          // Every block's rows come from the per-image explain graph.
          for (const rel of files) {
            await explainOne(rel).catch((e: Error) => failures.push(`${rel}: ${e.message}`));
            progress(++finished, files.length);
          }
          return;
        }
        await runPipelined(files, flags.batch, {
          load: async (batch) => {
            // Read and decoded in the workers, while ORT runs the previous batch here. One
            // unreadable image does not stop the folder; the run still fails at the end.
            const loaded = await pool!.loadInputs(
              batch.map((rel) => path.join(root, rel)),
              spec,
              info,
            );
            return batch.flatMap((rel, i) => {
              const input = loaded[i];
              if (!(input instanceof Error)) return [{ rel, input }];
              failures.push(`${rel}: ${input.message}`);
              return [];
            });
          },
          compute: async (ok) => {
            const per = info.channels * info.height * info.width;
            const tensor = new Float32Array(ok.length * per);
            ok.forEach((x, i) => tensor.set(x.input.tensor, i * per));
            const results = ok.length ? await explainBatch(session, tensor, ok.length, request) : [];
            return ok.map((x, i) => ({
              rel: x.rel,
              outputs: outputsOf(x.rel, x.input, results[i].report, results[i].maps),
            }));
          },
          write: writeToFolder,
          done: (count) => progress((finished += count), files.length),
        });
      }).finally(() => pool?.close());
      process.stdout.write(
        `${files.length - failures.length} of ${files.length} inputs explained into ${flags.out}\n`,
      );
      if (failures.length > 0) throw new Error(`${failures.length} input(s) failed:\n${failures.join('\n')}`);
    }
  });
}
