// The grid's data: pages of a query fetched from the service on demand (keyset cursors), the
// facet counts in a separate request, and a refresh when the service says images or tags changed.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Facets, GridItem, ImageQueryInput } from '../../../electron/contract/query';
import { useConnection } from './connection';

const PAGE = 2000;
/** The first page is a screenful or two: it comes back (and is drawn) sooner. */
const FIRST_PAGE = 300;

export interface QueryPages {
  items: GridItem[];
  complete: boolean;
  facets: Facets | null;
  error: string | null;
  /** Ask for items up to this index to be loaded. */
  need(index: number): void;
  /** Re-fetch the loaded range (after tags or review state changed). */
  refresh(): void;
  /** Re-count the tag facets only (after tags changed on items already patched in place). */
  refreshFacets(): void;
  /** Replace one item in place (after an edit whose result we already know). */
  patch(id: number, change: (item: GridItem) => GridItem): void;
}

export function useQueryPages(query: ImageQueryInput | null): QueryPages {
  const { client } = useConnection();
  const [items, setItems] = useState<GridItem[]>([]);
  const [complete, setComplete] = useState(false);
  const [facets, setFacets] = useState<Facets | null>(null);
  const [error, setError] = useState<string | null>(null);
  const requests = useRef(0);
  const loaded = useRef(0);
  useEffect(() => {
    loaded.current = items.length;
  }, [items.length]);
  const state = useRef({ cursor: undefined as string | undefined, loading: false, wanted: 0, key: '' });
  const key = JSON.stringify(query);

  const loadMore = useCallback(() => {
    const s = state.current;
    if (!query || s.loading || s.cursor === null) return;
    s.loading = true;
    const requestKey = s.key;
    client
      .call('images.query', { query, after: s.cursor, limit: s.cursor === undefined ? FIRST_PAGE : PAGE })
      .then((page) => {
        if (state.current.key !== requestKey) return;
        s.cursor = page.nextCursor ?? (null as unknown as undefined);
        if (page.nextCursor === null) setComplete(true);
        setItems((prev) => prev.concat(page.items));
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => {
        s.loading = false;
      });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key]);

  const loadFacets = useCallback(() => {
    if (!query) return;
    client
      .call('images.facets', { query })
      .then(setFacets)
      .catch((e: Error) => setError(e.message));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key]);

  useEffect(() => {
    state.current = { cursor: undefined, loading: false, wanted: 0, key: `${key}#${++requests.current}` };
    // A new query starts from an empty page list; the fetch below fills it.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setItems([]);
    setComplete(false);
    setError(null);
    if (!query) return;
    loadMore();
    loadFacets();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key]);

  useEffect(() => {
    if (
      !complete &&
      !state.current.loading &&
      items.length > 0 &&
      state.current.wanted >= items.length - FIRST_PAGE / 2
    ) {
      loadMore();
    }
  }, [items.length, complete, loadMore]);

  const need = useCallback(
    (index: number) => {
      state.current.wanted = Math.max(state.current.wanted, index);
      if (index >= items.length - FIRST_PAGE / 2) loadMore();
    },
    [items.length, loadMore],
  );
  // Re-reads the loaded range page by page and swaps it in whole, so the grid never empties
  // and the reviewer's place is kept; loads still in flight from before are dropped.
  const refresh = useCallback(() => {
    if (!query) return;
    const s = state.current;
    const requestKey = `${key}#${++requests.current}`;
    s.key = requestKey;
    s.loading = true;
    const count = Math.max(loaded.current, 1);
    void (async () => {
      const fresh: GridItem[] = [];
      let cursor: string | null | undefined = undefined;
      do {
        const page: { items: GridItem[]; nextCursor: string | null } = await client.call('images.query', {
          query,
          after: cursor ?? undefined,
          limit: PAGE,
        });
        if (state.current.key !== requestKey) return;
        fresh.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== null && fresh.length < count);
      s.cursor = cursor ?? (null as unknown as undefined);
      s.loading = false;
      setComplete(cursor === null);
      setItems(fresh);
    })().catch((e: Error) => setError(e.message));
    loadFacets();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key]);
  const patch = useCallback(
    (id: number, change: (item: GridItem) => GridItem) =>
      setItems((prev) => prev.map((item) => (item.id === id ? change(item) : item))),
    [],
  );
  // A tag change alters only the tag counts: those are fetched, the rest of the facets kept.
  const refreshTagFacets = useCallback(() => {
    if (!query) return;
    const requestKey = state.current.key;
    client
      .call('images.tagFacets', { query })
      .then((counts) => {
        if (state.current.key === requestKey) setFacets((f) => (f ? { ...f, ...counts } : f));
      })
      .catch((e: Error) => setError(e.message));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key]);
  return { items, complete, facets, error, need, refresh, refreshFacets: refreshTagFacets, patch };
}
