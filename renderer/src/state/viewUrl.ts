// The reviewer's view in the URL (after #): the tab, dataset, run, filters, the open image and the
// image view's method, target and compare mode. A reload, back/forward and a URL shared with
// another reviewer on the same machine all land on the same view.
import { useSyncExternalStore } from 'react';
import { EMPTY_FILTERS, type FilterState } from './filters';
import type { Method } from './settings';

export type Tab = 'datasets' | 'review' | 'stats' | 'compare' | 'settings';
export type CompareMode = 'none' | 'methods' | 'targets';

export interface ViewState {
  tab: Tab;
  datasetId: number | null;
  runId: number | null;
  /** The filters that differ from the empty form. */
  filters: Partial<FilterState>;
  /** The open image and its index in the grid when it was opened (null: the grid). */
  imageId: number | null;
  at: number | null;
  /** The image view's method (null: the reviewer's saved preference). */
  method: Method | null;
  target: string;
  compare: CompareMode;
}

const TABS: Tab[] = ['datasets', 'review', 'stats', 'compare', 'settings'];
const METHODS: Method[] = ['attn-grad-product', 'rollout', 'grad-rollout', 'last-attn'];
const COMPARES: CompareMode[] = ['none', 'methods', 'targets'];

const id = (text: string | null) => (text && /^\d+$/.test(text) ? Number(text) : null);
const oneOf = <T extends string>(text: string | null, options: readonly T[], fallback: T): T =>
  options.includes(text as T) ? (text as T) : fallback;

/** Only the keys of the filter form with a value of the right type survive a hand-edited URL. */
function parseFilters(text: string | null): Partial<FilterState> {
  if (!text) return {};
  try {
    const raw = JSON.parse(text) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, empty] of Object.entries(EMPTY_FILTERS)) {
      const value = raw[key];
      if (value === undefined) continue;
      if (
        Array.isArray(empty)
          ? Array.isArray(value) && value.every(Number.isInteger)
          : typeof value === typeof empty
      )
        out[key] = value;
    }
    return out as Partial<FilterState>;
  } catch {
    return {};
  }
}

export function parseView(hash: string): ViewState {
  const params = new URLSearchParams(hash.replace(/^#\/?/, '').replace(/^[^?]*\?/, ''));
  const tab = /^#\/?([a-z]+)/.exec(hash)?.[1] ?? null;
  return {
    tab: oneOf(tab, TABS, 'datasets'),
    datasetId: id(params.get('dataset')),
    runId: id(params.get('run')),
    filters: parseFilters(params.get('filters')),
    imageId: id(params.get('image')),
    at: id(params.get('at')),
    method: params.has('method') ? oneOf(params.get('method'), METHODS, 'attn-grad-product') : null,
    target: params.get('target') || 'top1',
    compare: oneOf(params.get('compare'), COMPARES, 'none'),
  };
}

export function formatView(view: ViewState): string {
  const params = new URLSearchParams();
  if (view.datasetId !== null) params.set('dataset', String(view.datasetId));
  if (view.runId !== null) params.set('run', String(view.runId));
  const filters = Object.fromEntries(
    Object.entries(view.filters).filter(
      ([key, value]) => JSON.stringify(value) !== JSON.stringify(EMPTY_FILTERS[key as keyof FilterState]),
    ),
  );
  if (Object.keys(filters).length) params.set('filters', JSON.stringify(filters));
  if (view.imageId !== null) {
    params.set('image', String(view.imageId));
    if (view.at !== null) params.set('at', String(view.at));
    if (view.method !== null) params.set('method', view.method);
    if (view.target !== 'top1') params.set('target', view.target);
    if (view.compare !== 'none') params.set('compare', view.compare);
  }
  const query = params.toString();
  return `#/${view.tab}${query ? `?${query}` : ''}`;
}

let current: ViewState = parseView(typeof location === 'undefined' ? '' : location.hash);
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((listener) => listener());

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', () => {
    current = parseView(location.hash);
    notify();
  });
}

/**
 * Changes the view. `push` makes a history entry (a new tab, dataset, run, filter or image: what
 * Back should undo); otherwise the current entry is replaced (typing, moving to the next image).
 */
export function setView(patch: Partial<ViewState>, push = false): void {
  const next = { ...current, ...patch };
  const url = formatView(next);
  current = next;
  if (url !== location.hash) history[push ? 'pushState' : 'replaceState'](null, '', url);
  notify();
}

/** The view now, outside React's render (callbacks that must not re-subscribe). */
export function readView(): ViewState {
  return current;
}

export function useView(): ViewState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}
