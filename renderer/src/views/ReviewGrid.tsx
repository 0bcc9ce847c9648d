// The virtualised review grid: only the rows on screen are in the DOM, pages are fetched as the
// reviewer scrolls, and each cell shows the label, prediction, score and tag chips. Selection
// follows the usual desktop rules (click, shift-click for a range, ctrl-click to toggle).
// During a fast flick (faster than anyone can look at thumbnails) cells are drawn as bare tiles
// and filled in once the scroll slows or stops, so that every frame of the flick stays cheap.
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef, useState, type RefObject } from 'react';
import type { GridItem } from '../../../electron/contract/query';
import type { TagInfo } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';
import { useResizeWidth } from '../state/useResizeWidth';
import { GridHeatmap } from './GridHeatmap';

export const CELL = 150;
/** Scrolling faster than this (px per ms, about 27 rows a second) shows bare tiles. */
const FAST_SCROLL = 4;
/** Thumbnails come back this long after the last fast scroll step. */
const SETTLE_MS = 120;

interface Props {
  /** Changes with the query: a new query starts at the top of the grid. */
  queryKey: string;
  items: GridItem[];
  total: number;
  tags: Map<number, TagInfo>;
  selected: Set<number>;
  focus: number;
  safeView: boolean;
  /** The run whose top-1 heatmaps are drawn over the thumbnails; null: none. */
  heatmapRunId: number | null;
  /** Find similar: each candidate's cosine similarity to the query, shown on its tile. */
  similarity?: ReadonlyMap<number, number> | null;
  onNeed(index: number): void;
  onClick(index: number, event: { shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }): void;
  onOpen(index: number): void;
  onColumns(columns: number): void;
}

export function ReviewGrid({
  queryKey,
  items,
  total,
  tags,
  selected,
  focus,
  safeView,
  heatmapRunId,
  similarity,
  onNeed,
  onClick,
  onOpen,
  onColumns,
}: Props) {
  const { mediaUrl } = useConnection();
  const scroller = useRef<HTMLDivElement>(null);
  const width = useResizeWidth(scroller);
  const columns = Math.max(1, Math.floor((width - 16) / CELL));
  const rows = Math.ceil(total / columns);
  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scroller.current,
    estimateSize: () => CELL,
    overscan: 3,
  });
  const flicking = useFastScroll(scroller);
  const visible = virtualizer.getVirtualItems();
  const lastVisible = visible.length ? (visible[visible.length - 1].index + 1) * columns : 0;

  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
  }, [queryKey]);
  useEffect(() => {
    onColumns(columns);
  }, [columns, onColumns]);
  useEffect(() => {
    onNeed(lastVisible);
  }, [lastVisible, onNeed]);
  useEffect(() => {
    if (focus >= 0) virtualizer.scrollToIndex(Math.floor(focus / columns));
  }, [focus, columns, virtualizer]);

  return (
    <div
      ref={scroller}
      className={`grid-scroller${safeView ? ' safe-view' : ''}`}
      role="grid"
      aria-label="Images"
      aria-rowcount={rows}
      aria-multiselectable="true"
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {visible.map((row) => (
          <div
            key={row.key}
            role="row"
            aria-rowindex={row.index + 1}
            className="grid-row"
            style={{ transform: `translateY(${row.start}px)`, height: CELL }}
          >
            {Array.from({ length: columns }, (_, c) => row.index * columns + c)
              .filter((index) => index < items.length)
              .map((index) => (
                <GridCell
                  key={items[index].id}
                  item={items[index]}
                  index={index}
                  selected={selected.has(items[index].id)}
                  focused={index === focus}
                  tags={tags}
                  heatmapRunId={heatmapRunId}
                  similarity={similarity?.get(items[index].id)}
                  bare={flicking}
                  thumbUrl={mediaUrl('thumb', items[index].datasetId, items[index].relPath)}
                  onClick={onClick}
                  onOpen={onOpen}
                />
              ))}
          </div>
        ))}
      </div>
    </div>
  );
}

/** True while the element scrolls faster than FAST_SCROLL, until SETTLE_MS after it slows. */
function useFastScroll(scroller: RefObject<HTMLDivElement | null>): boolean {
  const [fast, setFast] = useState(false);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let lastTop = el.scrollTop;
    let lastTime = performance.now();
    let settle: ReturnType<typeof setTimeout> | undefined;
    const onScroll = () => {
      const now = performance.now();
      const speed = Math.abs(el.scrollTop - lastTop) / Math.max(1, now - lastTime);
      lastTop = el.scrollTop;
      lastTime = now;
      if (speed < FAST_SCROLL) return;
      setFast(true);
      clearTimeout(settle);
      settle = setTimeout(() => setFast(false), SETTLE_MS);
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => {
      el.removeEventListener('scroll', onScroll);
      clearTimeout(settle);
    };
  }, [scroller]);
  return fast;
}

/** Chips drawn before "+N": two fit a tile (each shortened with an ellipsis when long). */
function chipsShown(count: number): number {
  return count <= 2 ? count : 1;
}

interface CellProps {
  item: GridItem;
  index: number;
  selected: boolean;
  focused: boolean;
  tags: Map<number, TagInfo>;
  heatmapRunId: number | null;
  similarity: number | undefined;
  /** A bare tile (name and state only) while the grid is flicked past. */
  bare: boolean;
  thumbUrl: string;
  onClick: Props['onClick'];
  onOpen: Props['onOpen'];
}

/** One thumbnail with its badges and chips; memoised so scrolling renders only the new rows. */
const GridCell = memo(function GridCell({
  item,
  index,
  selected,
  focused,
  tags,
  heatmapRunId,
  similarity,
  bare,
  thumbUrl,
  onClick,
  onOpen,
}: CellProps) {
  const prediction = item.prediction;
  const wrong = prediction && prediction.trueClass !== null && prediction.trueClass !== prediction.predClass;
  const tagNames = item.tagIds.flatMap((id) => tags.get(id)?.name ?? []);
  const shownTags = item.tagIds.slice(0, chipsShown(item.tagIds.length));
  const label = prediction?.trueClass ?? item.label ?? '—';
  return (
    <div
      role="gridcell"
      aria-label={`${item.relPath}${tagNames.length ? ` · tags: ${tagNames.join(', ')}` : ''}`}
      aria-selected={selected}
      data-path={item.relPath}
      className={`cell${selected ? ' selected' : ''}${focused ? ' focused' : ''}${item.reviewed ? ' reviewed' : ''}`}
      title={tagNames.length ? `${item.relPath}\ntags: ${tagNames.join(', ')}` : item.relPath}
      onClick={(e) => onClick(index, e)}
      onDoubleClick={() => onOpen(index)}
    >
      {!bare && (
        <>
          <div className="thumb">
            <img src={thumbUrl} alt="" loading="lazy" decoding="async" draggable={false} />
            {heatmapRunId !== null && <GridHeatmap item={item} runId={heatmapRunId} size={100} />}
          </div>
          <div className="badges">
            <span className="badge label" title={`label: ${label}`}>
              {label}
            </span>
            {prediction && (
              <span
                className={`badge pred${wrong ? ' wrong' : ''}`}
                title={`prediction ${prediction.predClass}, score ${prediction.score.toFixed(3)}`}
              >
                <span className="badge-text">{prediction.predClass}</span>
                <span className="badge-number">{prediction.score.toFixed(2)}</span>
              </span>
            )}
            {similarity !== undefined && (
              <span
                className="badge similarity"
                title={`cosine similarity to the query ${similarity.toFixed(3)}`}
              >
                ≈{similarity.toFixed(2)}
              </span>
            )}
          </div>
          <div className="chips">
            {shownTags.map((id) => {
              const tag = tags.get(id);
              return tag ? (
                <span key={id} className="chip" style={{ background: tag.colour }}>
                  {tag.name}
                </span>
              ) : null;
            })}
            {item.tagIds.length > shownTags.length && (
              <span className="chip more">+{item.tagIds.length - shownTags.length}</span>
            )}
            {item.hasMask && (
              <span className="chip mask" title="has a mask">
                mask
              </span>
            )}
            {item.status !== 'ok' && <span className="chip status">{item.status}</span>}
          </div>
        </>
      )}
    </div>
  );
});
