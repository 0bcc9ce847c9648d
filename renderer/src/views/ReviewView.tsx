// The review loop: filter to the misdetections, move through them by keyboard, open one to see
// why, toggle the recurring pattern's tag with its hotkey, mark it reviewed, move on.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { GridItem } from '../../../electron/contract/query';
import type { TagInfo } from '../../../electron/contract/protocol';
import { ExportDialog } from '../components/ExportDialog';
import { useConnection } from '../state/connection';
import { EMPTY_FILTERS, toQuery, type FilterState } from '../state/filters';
import { useViewSettings } from '../state/settings';
import { useShortcuts } from '../state/shortcuts';
import { useQueryPages } from '../state/useQueryPages';
import { useWorkspace } from '../state/workspace';
import { enqueueWrite } from '../state/writeQueue';
import { FilterBar } from './FilterBar';
import { ImageView } from './ImageView';
import { ReviewGrid } from './ReviewGrid';
import { TagPanel } from './TagPanel';

interface Props {
  filters: FilterState;
  setFilters(update: (f: FilterState) => FilterState): void;
  onStatus(message: string): void;
}

export function ReviewView({ filters, setFilters, onStatus }: Props) {
  const { client } = useConnection();
  const { dataset, run, tags, refreshTags } = useWorkspace();
  const [settings] = useViewSettings();
  const query = useMemo(
    () => (dataset ? toQuery(dataset.id, run?.id ?? null, filters) : null),
    [dataset, run, filters],
  );
  const pages = useQueryPages(query);
  const { items, facets, patch, refresh } = pages;
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [focus, setFocus] = useState(-1);
  const [anchor, setAnchor] = useState(-1);
  const [open, setOpen] = useState(false);
  const [exporting, setExporting] = useState(false);
  const columns = useRef(1);
  const textFilter = useRef<HTMLInputElement>(null);
  // Cells show a tag's name and colour; a new count (every hotkey press) must not redraw the grid.
  const tagLook = tags.map((t) => `${t.id}\u0000${t.name}\u0000${t.colour}`).join('\u0001');
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const tagById = useMemo(() => new Map(tags.map((t) => [t.id, t])), [tagLook]);
  const total = facets?.total ?? items.length;

  // A new query starts from nothing selected.
  const queryKey = JSON.stringify(query);
  const [lastKey, setLastKey] = useState(queryKey);
  if (lastKey !== queryKey) {
    setLastKey(queryKey);
    setSelected(new Set());
    setFocus(-1);
    setAnchor(-1);
    setOpen(false);
  }

  useEffect(
    () =>
      client.onEvent((event) => {
        if (
          (event.type === 'imagesChanged' || event.type === 'job.finished') &&
          (!('datasetId' in event) || event.datasetId === dataset?.id)
        )
          refresh();
      }),
    [client, dataset, refresh],
  );

  const focused: GridItem | null = focus >= 0 ? (items[focus] ?? null) : null;
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
    },
    [items, total, pages],
  );

  const toggleTag = useCallback(
    (tag: TagInfo) => {
      const targets = selectedItems.length ? selectedItems : focused ? [focused] : [];
      if (!targets.length) return;
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
    [client, selectedItems, focused, patch, refresh, onStatus],
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
    { keys: ['Enter'], description: 'open', run: () => focus >= 0 && setOpen(true) },
    { keys: ['Escape'], description: 'back', run: () => setOpen(false) },
    {
      keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9'],
      description: 'tag',
      run: (e) => {
        const tag = tags.find((t) => t.hotkey === Number(e.key));
        if (tag) toggleTag(tag);
        else onStatus(`No tag has hotkey ${e.key}`);
      },
    },
    { keys: [' '], description: 'reviewed', run: markReviewed },
    { keys: ['u'], description: 'undo', run: undo },
    { keys: ['/'], description: 'filter', run: () => textFilter.current?.focus() },
    { keys: ['e'], description: 'export', run: () => setExporting(true) },
  ]);

  if (!dataset || !query) return <p className="empty">No dataset yet: add one under Datasets.</p>;

  return (
    <div className="review">
      <FilterBar
        ref={textFilter}
        filters={filters}
        facets={facets}
        onChange={(patchFilters) => setFilters((f) => ({ ...f, ...patchFilters }))}
        onReset={() => setFilters(() => EMPTY_FILTERS)}
      />
      <div className="review-body">
        <div className="review-main">
          {pages.error && (
            <p role="alert" className="error">
              {pages.error}
            </p>
          )}
          {open && focused ? (
            <ImageView
              key={focused.id}
              item={focused}
              position={`${focus + 1} of ${total.toLocaleString()}`}
            />
          ) : (
            <ReviewGrid
              items={items}
              total={total}
              tags={tagById}
              selected={selected}
              focus={focus}
              safeView={settings.safeView}
              heatmapRunId={settings.overlayInGrid && run ? run.id : null}
              onNeed={pages.need}
              onColumns={(c) => (columns.current = c)}
              onOpen={(index) => {
                moveTo(index);
                setOpen(true);
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
          />
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
