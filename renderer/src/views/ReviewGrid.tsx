// The virtualised review grid: only the rows on screen are in the DOM, pages are fetched as the
// reviewer scrolls, and each cell shows the label, prediction, score and tag chips. Selection
// follows the usual desktop rules (click, shift-click for a range, ctrl-click to toggle).
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef } from 'react';
import type { GridItem } from '../../../electron/contract/query';
import type { TagInfo } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';
import { useResizeWidth } from '../state/useResizeWidth';
import { GridHeatmap } from './GridHeatmap';

export const CELL = 150;

interface Props {
  items: GridItem[];
  total: number;
  tags: Map<number, TagInfo>;
  selected: Set<number>;
  focus: number;
  safeView: boolean;
  /** The run whose top-1 heatmaps are drawn over the thumbnails; null: none. */
  heatmapRunId: number | null;
  onNeed(index: number): void;
  onClick(index: number, event: { shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }): void;
  onOpen(index: number): void;
  onColumns(columns: number): void;
}

export function ReviewGrid({
  items,
  total,
  tags,
  selected,
  focus,
  safeView,
  heatmapRunId,
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
  const visible = virtualizer.getVirtualItems();
  const lastVisible = visible.length ? (visible[visible.length - 1].index + 1) * columns : 0;

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

interface CellProps {
  item: GridItem;
  index: number;
  selected: boolean;
  focused: boolean;
  tags: Map<number, TagInfo>;
  heatmapRunId: number | null;
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
  thumbUrl,
  onClick,
  onOpen,
}: CellProps) {
  const prediction = item.prediction;
  const wrong = prediction && prediction.trueClass !== null && prediction.trueClass !== prediction.predClass;
  return (
    <div
      role="gridcell"
      aria-label={item.relPath}
      aria-selected={selected}
      className={`cell${selected ? ' selected' : ''}${focused ? ' focused' : ''}${item.reviewed ? ' reviewed' : ''}`}
      title={item.relPath}
      onClick={(e) => onClick(index, e)}
      onDoubleClick={() => onOpen(index)}
    >
      <div className="thumb">
        <img src={thumbUrl} alt="" loading="lazy" decoding="async" draggable={false} />
        {heatmapRunId !== null && <GridHeatmap item={item} runId={heatmapRunId} size={100} />}
      </div>
      <div className="badges">
        <span className="badge label" title="label">
          {prediction?.trueClass ?? item.label ?? '—'}
        </span>
        {prediction && (
          <span className={`badge pred${wrong ? ' wrong' : ''}`} title="prediction and score">
            {prediction.predClass} {prediction.score.toFixed(2)}
          </span>
        )}
      </div>
      <div className="chips">
        {item.tagIds.map((id) => {
          const tag = tags.get(id);
          return tag ? (
            <span key={id} className="chip" style={{ background: tag.colour }} title={tag.name}>
              {tag.name}
            </span>
          ) : null;
        })}
        {item.status !== 'ok' && <span className="chip status">{item.status}</span>}
      </div>
    </div>
  );
});
