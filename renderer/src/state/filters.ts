// The review grid's filter form and how it becomes the core's one image query.
import type { ImageQueryInput } from '../../../electron/contract/query';

export interface FilterState {
  errorType: 'all' | 'fp' | 'fn';
  errorClass: string;
  threshold: number;
  trueClass: string;
  predClass: string;
  scoreMin: string;
  scoreMax: string;
  tagMode: 'any' | 'all' | 'none';
  tagIds: number[];
  untagged: boolean;
  hasMask: boolean;
  reviewed: 'any' | 'yes' | 'no';
  verdict: '' | 'model-error' | 'label-wrong' | 'unsure' | 'none';
  /** By the latest "Check this region". */
  regionCheck: '' | 'decisive' | 'not-decisive' | 'unchecked';
  text: string;
  sort: 'path' | 'score' | 'random';
  direction: 'asc' | 'desc';
}

export const EMPTY_FILTERS: FilterState = {
  errorType: 'all',
  errorClass: '',
  threshold: 0.5,
  trueClass: '',
  predClass: '',
  scoreMin: '',
  scoreMax: '',
  tagMode: 'any',
  tagIds: [],
  untagged: false,
  hasMask: false,
  reviewed: 'any',
  verdict: '',
  regionCheck: '',
  text: '',
  sort: 'path',
  direction: 'asc',
};

function score(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : undefined;
}

export function toQuery(datasetId: number, runId: number | null, f: FilterState): ImageQueryInput {
  const query: ImageQueryInput = { datasetId, sort: { by: f.sort, direction: f.direction, seed: 7 } };
  if (runId !== null) {
    query.runId = runId;
    // No class: misclassified (fp) or missed (fn) at the threshold, for any class.
    if (f.errorType !== 'all') {
      query.errors = { kind: f.errorType, class: f.errorClass || undefined, threshold: f.threshold };
    }
    if (f.predClass) query.predClass = f.predClass;
    const min = score(f.scoreMin);
    const max = score(f.scoreMax);
    if (min !== undefined || max !== undefined) query.score = { min, max };
  } else if (f.sort === 'score') {
    query.sort = { by: 'path', direction: f.direction, seed: 7 };
  }
  if (f.trueClass) query.trueClass = f.trueClass;
  if (f.tagIds.length) query.tags = { [f.tagMode]: f.tagIds };
  if (f.untagged) query.untagged = true;
  if (f.hasMask) query.hasMask = true;
  if (f.reviewed !== 'any') query.reviewed = f.reviewed === 'yes';
  if (f.verdict) query.verdict = f.verdict;
  if (f.regionCheck) query.regionCheck = f.regionCheck;
  if (f.text.trim()) query.text = f.text.trim();
  return query;
}
