// `vsw check-region`: the image view's "Check this region" from the command line. Hides the top 10%
// of a method's map (mean-filled) and prints p(target) before and after, with a random region and
// the map's bottom 10% for contrast, as JSON on stdout.
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { checkTargetIndex, parseTarget, resolveTarget } from '../../engine/explainReport';
import { isImageFile } from '../../engine/imageFiles';
import { resolvePreprocessing } from '../../engine/inputLoader';
import { MAP_METHODS, isMapMethod, type MapMethod } from '../../engine/methods';
import { preprocessImage } from '../../engine/preprocess';
import { checkRegion } from '../../engine/regionCheck';
import { UsageError } from '../errors';
import {
  engineAction,
  methodOptionsFrom,
  withModel,
  type MethodFlags,
  type ModelFlags,
} from '../engineOptions';

interface CheckFlags extends ModelFlags, MethodFlags {
  input: string;
  target: string;
  method: string;
  seed: string;
}

export function register(program: Command): void {
  const command = program
    .command('check-region')
    .description(
      "hide the top 10% of a map (mean-filled) and report p(target) before and after, with a random and the map's bottom 10% for contrast",
    )
    .requiredOption('--input <image>', 'image file')
    .option('--target <class>', 'class index, top1 or top2', 'top1')
    .option('--method <name>', MAP_METHODS.join(', '), 'attn-grad-product')
    .option('--seed <n>', 'seed of the random contrast region', '1');
  engineAction(command, runCheck);
}

async function runCheck(flags: CheckFlags): Promise<void> {
  if (!isMapMethod(flags.method))
    throw new UsageError(`--method must be one of ${MAP_METHODS.join(', ')}; got '${flags.method}'.`);
  const method: MapMethod = flags.method;
  if (!/^\d+$/.test(flags.seed)) throw new UsageError(`--seed must be a whole number; got '${flags.seed}'.`);
  if (!(await fs.stat(flags.input).catch(() => null))?.isFile() || !isImageFile(flags.input))
    throw new UsageError(`--input ${flags.input} is not an image file.`);
  const spec = parseTarget(flags.target);
  await withModel(flags, async (loaded, session) => {
    const info = session.info;
    const pre = resolvePreprocessing(loaded.card, flags, info);
    const { tensor } = await preprocessImage(flags.input, pre, info);
    const target =
      typeof spec === 'number'
        ? checkTargetIndex(spec, info.numClasses)
        : resolveTarget(spec, await session.predict(tensor, 1));
    const { maps, grid } = await session.saliency(tensor, 1, [target], method, methodOptionsFrom(flags));
    const result = await checkRegion(session, tensor, target, maps[0], grid, {
      seed: Number(flags.seed),
      activation: loaded.card?.output.activation,
    });
    const label = loaded.card?.labels?.[target];
    process.stdout.write(`${JSON.stringify({ method, ...(label ? { label } : {}), ...result })}\n`);
  });
}
