// The review loop: filter to the misdetections, move through them by keyboard, open one to see
// why, toggle the recurring pattern's tag with its hotkey, mark it reviewed, move on.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { GridItem } from '../../../electron/contract/query';
import type { TagInfo } from '../../../electron/contract/protocol';
import { ExportDialog } from '../components/ExportDialog';
import { useConnection } from '../state/connection';
import { poolTagFor } from '../state/poolTags';
import { EMPTY_FILTERS, toQuery, type FilterState } from '../state/filters';
import { useViewSettings } from '../state/settings';
import { useShortcuts } from '../state/shortcuts';
import { useQueryPages } from '../state/useQueryPages';
import { readView, setView, useView } from '../state/viewUrl';
import { useWorkspace } from '../state/workspace';
import { enqueueWrite } from '../state/writeQueue';
import { FilterBar } from './FilterBar';
import { ImageView } from './ImageView';
import { ReviewGrid } from './ReviewGrid';
import { PoolRunNeeded, type MissingPoolRun } from './PoolRunNeeded';
import { SearchInSelect, SimilarBanner, SIMILAR_K, type SimilarView } from './SimilarBanner';
import { TagPanel } from './TagPanel';

/** Facet counts are fetched again this long after the last tag change of a burst. */
const FACETS_AFTER_TAGS_MS = 250;

interface Props {
  filters: FilterState;
  setFilters(update: (f: FilterState) => FilterState, push?: boolean): void;
  onStatus(message: string): void;
}

export function ReviewView({ filters, setFilters, onStatus }: Props) {
  const { client } = useConnection();
  const { datasets, dataset, run, runsLoaded, tags, refreshTags } = useWorkspace();
  const [settings] = useViewSettings();
  // No query until the dataset's runs are known: the grid is asked once, with its run.
  const query = useMemo(
    () => (dataset && runsLoaded ? toQuery(dataset.id, run?.id ?? null, filters) : null),
    [dataset, runsLoaded, run, filters],
  );
  const pages = useQueryPages(query);
  const { items: queryItems, facets, patch: patchQuery, refresh, refreshFacets } = pages;
  // "Find similar": while a result is shown, the grid holds its candidates, best first.
  const [similar, setSimilar] = useState<SimilarView | null>(null);
  // The dataset Find similar ranks (null: the reviewed one), and a pool lacking the run's model.
  const [searchIn, setSearchIn] = useState<number | null>(null);
  const [missingPoolRun, setMissingPoolRun] = useState<MissingPoolRun | null>(null);
  const searchDatasets = useMemo(
    () => (dataset ? [dataset, ...datasets.filter((d) => d.id !== dataset.id)] : []),
    [dataset, datasets],
  );
  // Another dataset, run or filter ends a similarity result.
  const baseKey = JSON.stringify(query);
  if (similar && similar.base !== baseKey) setSimilar(null);
  const items = similar ? similar.items : queryItems;
  const similarity = useMemo(
    () => (similar ? new Map(similar.result.results.map((r) => [r.imageId, r.score])) : null),
    [similar],
  );
  const patch = useCallback(
    (id: number, update: (item: GridItem) => GridItem) => {
      patchQuery(id, update);
      setSimilar((s) => s && { ...s, items: s.items.map((i) => (i.id === id ? update(i) : i)) });
    },
    [patchQuery],
  );
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [focus, setFocus] = useState(-1);
  const [anchor, setAnchor] = useState(-1);
  // The open image is part of the URL: a reload or Back comes back to it.
  const view = useView();
  const open = view.imageId !== null;
  const setOpen = useCallback(
    (next: boolean, index?: number) => {
      const item = next ? items[index ?? -1] : undefined;
      if (next && !item) return;
      setView({ imageId: item?.id ?? null, at: item ? (index ?? null) : null }, true);
    },
    [items],
  );
  const [exporting, setExporting] = useState(false);
  const columns = useRef(1);
  const textFilter = useRef<HTMLInputElement>(null);
  // Cells show a tag's name and colour; a new count (every hotkey press) must not redraw the grid.
  const tagLook = tags.map((t) => `${t.id}\u0000${t.name}\u0000${t.colour}`).join('\u0001');
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const tagById = useMemo(() => new Map(tags.map((t) => [t.id, t])), [tagLook]);
  // A pool's candidates carry the pool's tags.
  const poolTags = similar?.pool?.tags;
  const gridTags = useMemo(
    () => (poolTags ? new Map([...tagById, ...poolTags.map((t) => [t.id, t] as const)]) : tagById),
    [tagById, poolTags],
  );
  const total = similar ? similar.items.length : (facets?.total ?? items.length);

  // A new query (or a similarity result, or going back from one) starts from nothing selected.
  const queryKey = similar ? `similar:${similar.seq}` : baseKey;
  const [lastKey, setLastKey] = useState(queryKey);
  if (lastKey !== queryKey) {
    setLastKey(queryKey);
    setSelected(new Set());
    setFocus(-1);
    setAnchor(-1);
  }

  // The image named in the URL: found in the grid's pages (loading up to where it was), or shown
  // on its own when the grid no longer holds it.
  const [standalone, setStandalone] = useState<GridItem | null>(null);
  const wanted = view.imageId;
  useEffect(() => {
    if (wanted === null || items[focus]?.id === wanted) return;
    const at = view.at ?? 0;
    const index = items[at]?.id === wanted ? at : items.findIndex((i) => i.id === wanted);
    if (index >= 0) {
      // eslint-disable-next-line react-hooks/set-state-in-effect -- following the URL
      setFocus(index);
      setAnchor(index);
      setSelected(new Set([wanted]));
    } else if (!pages.complete && items.length <= at) pages.need(at + 1);
    else if (pages.complete || items.length > at) {
      let live = true;
      void client
        .call('images.get', { imageId: wanted, runId: run?.id })
        .then((d) => live && setStandalone(d.item))
        .catch(() => live && setView({ imageId: null, at: null }));
      return () => {
        live = false;
      };
    }
  }, [wanted, items, focus, view.at, pages, client, run]);
  useEffect(() => {
    // Tag counts follow every tag change (from this window, another one or the CLI); a burst of
    // hotkeys is counted once, shortly after it.
    let pending: ReturnType<typeof setTimeout> | undefined;
    const off = client.onEvent((event) => {
      if ('datasetId' in event && event.datasetId !== dataset?.id) return;
      if (event.type === 'imagesChanged' || event.type === 'job.finished') refresh();
      else if (event.type === 'tagsChanged') {
        clearTimeout(pending);
        pending = setTimeout(refreshFacets, FACETS_AFTER_TAGS_MS);
      }
    });
    return () => {
      off();
      clearTimeout(pending);
    };
  }, [client, dataset, refresh, refreshFacets]);

  const inGrid: GridItem | null = focus >= 0 ? (items[focus] ?? null) : null;
  const focused: GridItem | null =
    open && inGrid?.id !== view.imageId && standalone?.id === view.imageId ? standalone : inGrid;
  const selectedItems = useMemo(() => items.filter((i) => selected.has(i.id)), [items, selected]);

  // Moving is immediate so that keys typed in a burst (1, j, 1, j …) apply in order; the image
  // view waits for the write queue before it shows the next image.
  const moveTo = useCallback(
    (index: number) => {
      if (index < 0 || index >= total) return;
      pages.need(index + 1);
      setFocus(index);
      setAnchor(index);
      const item = items[index];
      if (item) setSelected(new Set([item.id]));
      // Moving in the image view keeps the URL on the shown image (without a history entry each).
      if (item && readView().imageId !== null) setView({ imageId: item.id, at: index });
    },
    [items, total, pages],
  );

  // A pool candidate is tagged with the pool's tag of the same name (made on first use).
  const togglePoolTag = useCallback(
    (tag: TagInfo, targets: GridItem[], pool: NonNullable<SimilarView['pool']>) => {
      const known = pool.tags.find((t) => t.name === tag.name);
      const remove = !!known && targets.every((i) => i.tagIds.includes(known.id));
      const imageIds = targets.map((i) => i.id);
      void enqueueWrite(async () => {
        const poolTag = await poolTagFor(client, pool.id, tag, pool.tags);
        setSimilar((s) =>
          s?.pool && !s.pool.tags.some((t) => t.id === poolTag.id)
            ? { ...s, pool: { ...s.pool, tags: [...s.pool.tags, poolTag] } }
            : s,
        );
        for (const item of targets) {
          patch(item.id, (i) => ({
            ...i,
            tagIds: remove
              ? i.tagIds.filter((t) => t !== poolTag.id)
              : [...new Set([...i.tagIds, poolTag.id])],
          }));
        }
        await client.call(remove ? 'tags.remove' : 'tags.apply', {
          tagId: poolTag.id,
          selection: { imageIds },
        });
      })
        .then(() =>
          onStatus(
            `${remove ? 'Removed' : 'Tagged'} “${tag.name}” ${remove ? 'from' : 'on'} ${imageIds.length} image${imageIds.length > 1 ? 's' : ''} of ${pool.name}`,
          ),
        )
        .catch((e: Error) => onStatus(`Not saved in ${pool.name}: ${e.message}`));
    },
    [client, patch, onStatus],
  );

  const toggleTag = useCallback(
    (tag: TagInfo) => {
      const targets = selectedItems.length ? selectedItems : focused ? [focused] : [];
      if (!targets.length) return;
      if (similar?.pool) return togglePoolTag(tag, targets, similar.pool);
      const remove = targets.every((i) => i.tagIds.includes(tag.id));
      for (const item of targets) {
        patch(item.id, (i) => ({
          ...i,
          tagIds: remove ? i.tagIds.filter((t) => t !== tag.id) : [...new Set([...i.tagIds, tag.id])],
        }));
      }
      const selection = { imageIds: targets.map((i) => i.id) };
      void enqueueWrite(() =>
        client.call(remove ? 'tags.remove' : 'tags.apply', { tagId: tag.id, selection }),
      )
        // The service's tagsChanged event refreshes the counts.
        .then(() =>
          onStatus(
            `${remove ? 'Removed' : 'Tagged'} “${tag.name}” ${remove ? 'from' : 'on'} ${targets.length} image${targets.length > 1 ? 's' : ''}`,
          ),
        )
        .catch((e: Error) => {
          onStatus(`Not saved: ${e.message}`);
          refresh();
        });
    },
    [client, selectedItems, focused, patch, refresh, onStatus, similar, togglePoolTag],
  );

  const markReviewed = useCallback(() => {
    const targets = selectedItems.length ? selectedItems : focused ? [focused] : [];
    if (!targets.length) return;
    const reviewed = !targets.every((i) => i.reviewed);
    for (const item of targets) patch(item.id, (i) => ({ ...i, reviewed }));
    void enqueueWrite(() =>
      client.call('images.setReview', { selection: { imageIds: targets.map((i) => i.id) }, reviewed }),
    ).catch((e: Error) => onStatus(`Not saved: ${e.message}`));
    if (open && reviewed) moveTo(focus + 1);
  }, [client, selectedItems, focused, patch, open, focus, moveTo, onStatus]);

  const undo = useCallback(() => {
    if (!dataset) return;
    void enqueueWrite(() => client.call('audit.undo', { datasetId: dataset.id })).then(({ undone }) => {
      onStatus(undone ? `Undone: ${undone.summary}` : 'Nothing to undo');
      refresh();
      refreshTags();
    });
  }, [client, dataset, refresh, refreshTags, onStatus]);

  const seq = useRef(0);
  const findSimilarTo = useCallback(
    (
      from: { tag?: TagInfo; images?: boolean },
      mode: 'nearest' | 'mean' = 'nearest',
      where: number | null = searchIn,
    ) => {
      if (!dataset) return;
      const pool = where !== null && where !== dataset.id ? datasets.find((d) => d.id === where) : undefined;
      if (!run) return onStatus('Find similar needs a run: choose one (a predict run stores the embeddings)');
      const targets = from.images ? (selectedItems.length ? selectedItems : focused ? [focused] : []) : [];
      if (!from.tag && !targets.length) return onStatus('Select images (or open one) to find similar ones');
      onStatus(`Finding similar images${pool ? ` in ${pool.name}` : ''}…`);
      setMissingPoolRun(null);
      client
        .call('similar.find', {
          datasetId: dataset.id,
          runId: run.id,
          tag: from.tag?.name ?? null,
          imageIds: targets.map((i) => i.id),
          poolDatasetId: pool?.id,
          mode,
          k: SIMILAR_K,
        })
        .then(async (result) => {
          const poolTags = pool ? await client.call('tags.list', { datasetId: pool.id }) : [];
          setView({ imageId: null, at: null });
          setSimilar({
            seq: ++seq.current,
            base: JSON.stringify(query),
            from,
            pattern: from.tag ?? null,
            pool: pool ? { id: pool.id, name: pool.name, tags: poolTags } : null,
            result,
            items: result.items,
          });
          onStatus(
            `${result.items.length} candidates in ${result.ms} ms` +
              (result.missing.length ? `; ${result.missing.length} query image(s) have no embedding` : ''),
          );
        })
        .catch((e: Error & { code?: string }) => {
          if (!pool || e.code !== 'no-pool-run') return onStatus(`Find similar: ${e.message}`);
          onStatus(`Find similar: ${pool.name} has no run of this model yet`);
          setMissingPoolRun({
            pool,
            model: String(run.settings.model),
            modelName: run.modelName ?? run.name,
            message: e.message,
            from,
            mode,
          });
        });
    },
    [client, dataset, datasets, searchIn, run, query, selectedItems, focused, onStatus],
  );

  const rejectCandidates = useCallback(() => {
    if (!similar) return onStatus('“Not this pattern” (x) applies to the candidates of Find similar');
    const targets = selectedItems.length ? selectedItems : focused ? [focused] : [];
    if (!targets.length) return;
    const gone = new Set(targets.map((i) => i.id));
    const left = similar.items.filter((i) => !gone.has(i.id));
    setSimilar({ ...similar, items: left });
    // The next candidate takes the rejected one's place.
    const at = Math.min(Math.max(focus, 0), left.length - 1);
    setFocus(at);
    setAnchor(at);
    setSelected(new Set(left[at] ? [left[at].id] : []));
    const pattern = similar.pattern;
    if (!pattern)
      return onStatus('Hidden from this list (Find similar from a tag to remember “not this pattern”)');
    void enqueueWrite(() => client.call('tags.reject', { tag: pattern.name, imageIds: [...gone] }))
      .then(() =>
        onStatus(
          `Not “${pattern.name}”: ${gone.size} image${gone.size > 1 ? 's' : ''} will not be proposed again`,
        ),
      )
      .catch((e: Error) => onStatus(`Not saved: ${e.message}`));
  }, [client, similar, selectedItems, focused, focus, onStatus]);

  useShortcuts([
    { keys: ['ArrowRight', 'l'], description: 'next', run: () => moveTo(Math.max(0, focus + 1)) },
    { keys: ['ArrowLeft', 'h'], description: 'previous', run: () => moveTo(Math.max(0, focus - 1)) },
    {
      keys: ['ArrowDown'],
      description: 'down',
      run: () => moveTo(open ? focus + 1 : Math.max(0, focus) + (focus < 0 ? 0 : columns.current)),
    },
    {
      keys: ['ArrowUp'],
      description: 'up',
      run: () => moveTo(open ? focus - 1 : focus - columns.current),
    },
    { keys: ['j'], description: 'next', run: () => moveTo(focus + 1) },
    { keys: ['k'], description: 'previous', run: () => moveTo(Math.max(0, focus - 1)) },
    { keys: ['Enter'], description: 'open', run: () => focus >= 0 && setOpen(true, focus) },
    {
      keys: ['Escape'],
      description: 'back',
      run: () => (open || !similar ? setOpen(false) : setSimilar(null)),
    },
    {
      keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9'],
      description: 'tag',
      run: (e) => {
        const tag = tags.find((t) => t.hotkey === Number(e.key));
        if (!tag) return onStatus(`No tag has hotkey ${e.key}`);
        const shownId = similar?.pool ? similar.pool.tags.find((t) => t.name === tag.name)?.id : tag.id;
        const adds = !(focused?.tagIds.includes(shownId ?? -1) ?? true);
        toggleTag(tag);
        // Confirming a candidate moves on to the next one.
        if (similar && adds && selectedItems.length <= 1) moveTo(focus + 1);
      },
    },
    { keys: [' '], description: 'reviewed', run: markReviewed },
    { keys: ['u'], description: 'undo', run: undo },
    { keys: ['/'], description: 'filter', run: () => textFilter.current?.focus() },
    { keys: ['e'], description: 'export', run: () => setExporting(true) },
    { keys: ['f'], description: 'find similar', run: () => findSimilarTo({ images: true }) },
    { keys: ['x'], description: 'not this pattern', run: rejectCandidates },
  ]);

  if (!dataset) return <p className="empty">No dataset yet: add one under Datasets.</p>;
  if (!query) return <p className="empty">Loading…</p>;

  return (
    <div className="review">
      <FilterBar
        ref={textFilter}
        filters={filters}
        facets={facets}
        onChange={(patchFilters) => setFilters((f) => ({ ...f, ...patchFilters }))}
        onReset={() => setFilters(() => EMPTY_FILTERS, true)}
      />
      <div className="review-body">
        <div className="review-main">
          {similar && (
            <SimilarBanner
              view={similar}
              datasetName={dataset.name}
              datasets={searchDatasets}
              onMode={(mode) => findSimilarTo(similar.from, mode, similar.pool?.id ?? null)}
              onSearchIn={(id) => {
                setSearchIn(id);
                findSimilarTo(similar.from, similar.result.mode, id);
              }}
              onBack={() => setSimilar(null)}
            />
          )}
          {missingPoolRun && (
            <PoolRunNeeded
              missing={missingPoolRun}
              onStatus={onStatus}
              onDismiss={() => setMissingPoolRun(null)}
              onReady={() => findSimilarTo(missingPoolRun.from, missingPoolRun.mode, missingPoolRun.pool.id)}
            />
          )}
          {pages.error && (
            <p role="alert" className="error">
              {pages.error}
            </p>
          )}
          {open && focused ? (
            <ImageView
              key={focused.id}
              item={focused}
              runId={similar?.pool ? similar.result.pool.run : undefined}
              position={
                focused === inGrid
                  ? `${focus + 1} of ${total.toLocaleString()}`
                  : 'not among the filtered images'
              }
            />
          ) : (
            <ReviewGrid
              queryKey={queryKey}
              items={items}
              total={total}
              tags={gridTags}
              selected={selected}
              focus={focus}
              safeView={settings.safeView}
              heatmapRunId={
                settings.overlayInGrid && run ? (similar?.pool ? similar.result.pool.run : run.id) : null
              }
              similarity={similarity}
              onNeed={pages.need}
              onColumns={(c) => (columns.current = c)}
              onOpen={(index) => {
                moveTo(index);
                setOpen(true, index);
              }}
              onClick={(index, e) => {
                const item = items[index];
                if (!item) return;
                if (e.shiftKey && anchor >= 0) {
                  const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
                  setSelected(new Set(items.slice(a, b + 1).map((i) => i.id)));
                } else if (e.ctrlKey || e.metaKey) {
                  const next = new Set(selected);
                  if (next.has(item.id)) next.delete(item.id);
                  else next.add(item.id);
                  setSelected(next);
                  setAnchor(index);
                } else {
                  setSelected(new Set([item.id]));
                  setAnchor(index);
                }
                setFocus(index);
              }}
            />
          )}
        </div>
        <div className="review-side">
          <TagPanel
            selectedItems={selectedItems}
            focused={focused}
            onToggleTag={toggleTag}
            onChanged={refresh}
            onFindSimilar={(tag) => findSimilarTo({ tag })}
          />
          {searchDatasets.length > 1 && (
            <SearchInSelect
              name="Find similar in"
              datasets={searchDatasets}
              value={searchIn ?? dataset.id}
              onChange={setSearchIn}
            />
          )}
          <button
            disabled={!selectedItems.length && !focused}
            title="Rank the chosen dataset by similarity to the selected (or open) images (f)"
            onClick={() => findSimilarTo({ images: true })}
          >
            Find similar
          </button>
          <button className="primary" onClick={() => setExporting(true)}>
            Export
          </button>
        </div>
      </div>
      {exporting && (
        <ExportDialog query={query} selectedIds={[...selected]} onClose={() => setExporting(false)} />
      )}
    </div>
  );
}
