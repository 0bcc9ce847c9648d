// The images a cue flips: those whose top-1 prediction differs from the same model's on the uncued
// original at the same relative path (the shortcut demo's "flipped" images, where a faithful map
// must point at the cue).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EngineError } from './errors';
import type { EvaluationFile } from './evaluate';

interface Predicting {
  readonly info: { numClasses: number };
  predict(input: Float32Array, batch: number): Promise<Float32Array>;
}

function argMax(values: ArrayLike<number>, from: number, count: number): number {
  let best = 0;
  for (let k = 1; k < count; k++) if (values[from + k] > values[from + best]) best = k;
  return best;
}

export async function flippedByOriginals(
  session: Predicting,
  files: EvaluationFile[],
  originals: string,
  tensorOf: (file: string) => Promise<Float32Array>,
): Promise<EvaluationFile[]> {
  const k = session.info.numClasses;
  const out: EvaluationFile[] = [];
  for (const f of files) {
    const original = path.join(originals, f.rel);
    if (!(await fs.stat(original).catch(() => null)))
      throw new EngineError(
        `The original of ${f.rel} is missing: expected ${original}. --originals must hold the uncued images at the same relative paths.`,
        'original-missing',
      );
    const cued = await tensorOf(f.file);
    const plain = await tensorOf(original);
    const both = new Float32Array(cued.length * 2);
    both.set(cued);
    both.set(plain, cued.length);
    const logits = await session.predict(both, 2);
    if (argMax(logits, 0, k) !== argMax(logits, k, k)) out.push(f);
  }
  return out;
}
