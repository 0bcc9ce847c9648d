// Resolves and validates method options: fills defaults and the block range so that a report can
// state the effective options.
import { EngineError } from '../errors';
import { DEFAULT_METHOD_OPTIONS, type MethodOptions } from './types';

export type ResolvedMethodOptions = MethodOptions & { blocks: [number, number] };

export function resolveMethodOptions(
  options: Partial<MethodOptions> | undefined,
  numBlocks: number,
): ResolvedMethodOptions {
  const merged: MethodOptions = { ...DEFAULT_METHOD_OPTIONS, ...stripUndefined(options ?? {}) };
  if (!Number.isFinite(merged.epsilon) || merged.epsilon < 0) {
    throw new EngineError(`epsilon must be a finite number ≥ 0; got ${merged.epsilon}.`, 'bad-option');
  }
  if (merged.epsilonMode !== 'relative' && merged.epsilonMode !== 'absolute') {
    throw new EngineError(
      `epsilonMode must be 'relative' or 'absolute'; got '${String(merged.epsilonMode)}'.`,
      'bad-option',
    );
  }
  if (merged.negatives !== 'shift' && merged.negatives !== 'clamp') {
    throw new EngineError(
      `negatives must be 'shift' or 'clamp'; got '${String(merged.negatives)}'.`,
      'bad-option',
    );
  }
  const blocks = merged.blocks ?? [0, numBlocks - 1];
  const [first, last] = blocks;
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last >= numBlocks || first > last) {
    throw new EngineError(
      `Block range ${first}:${last} is not valid for a model with ${numBlocks} blocks; give FIRST:LAST with 0 ≤ FIRST ≤ LAST ≤ ${numBlocks - 1}.`,
      'bad-option',
    );
  }
  return { ...merged, blocks: [first, last] };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
