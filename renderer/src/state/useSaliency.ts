// A saliency map for the image view, its compare panels and the grid's overlays: from the
// service's cache (computed there on a miss), or from this window's own cache of maps it has shown.
import { useEffect, useState } from 'react';
import type { GridItem } from '../../../electron/contract/query';
import type { Result } from '../../../electron/contract/protocol';
import { useConnection } from './connection';
import type { Method } from './settings';

type Saliency = Result<'saliency.get'>;
export type Detail = Result<'images.get'>;

/** top-1 / top-2 / a label → the label to explain: null asks the service for the run's top-1
 *  straight away (no need to wait for the probabilities), undefined waits for them. */
export function targetLabel(target: string, detail: Detail | null): string | null | undefined {
  if (target === 'top1') return null;
  if (!detail?.probabilities) return undefined;
  const ranked = [...detail.probabilities].sort((a, b) => b.p - a.p);
  if (target === 'top1') return ranked[0]?.label;
  if (target === 'top2') return ranked[1]?.label;
  return target;
}

/** Maps already fetched in this window, newest last: switching back to one is synchronous. */
const fetchedMaps = new Map<string, Saliency>();
const FETCHED_LIMIT = 500;

function remember(key: string, saliency: Saliency): void {
  fetchedMaps.delete(key);
  fetchedMaps.set(key, saliency);
  if (fetchedMaps.size > FETCHED_LIMIT) fetchedMaps.delete(fetchedMaps.keys().next().value!);
}

/** A map from the service's cache (computed there on a miss), or from this window's own cache
 *  of maps it has shown. label: a class, null for the run's top-1, undefined to wait (the label
 *  is not known yet). */
export function useSaliency(
  item: GridItem,
  method: Method | 'default-fast',
  label: string | null | undefined,
  runId: number | null,
) {
  const { client } = useConnection();
  const [result, setResult] = useState<{ key: string; saliency?: Saliency; error?: string } | null>(null);
  const key = `${item.id}|${method}|${label}|${runId}`;
  const known = fetchedMaps.get(key);
  useEffect(() => {
    if (runId === null || label === undefined || fetchedMaps.has(key)) return;
    let live = true;
    client
      .call('saliency.get', { imageId: item.id, runId, method, target: label ?? undefined })
      .then((saliency) => {
        remember(key, saliency);
        if (live) setResult({ key, saliency });
      })
      .catch((e: Error) => live && setResult({ key, error: e.message }));
    return () => {
      live = false;
    };
  }, [client, item.id, method, label, runId, key]);
  if (known) return { key, saliency: known };
  return result?.key === key ? result : null;
}
