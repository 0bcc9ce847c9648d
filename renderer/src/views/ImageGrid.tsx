// The virtualised thumbnail grid of one dataset: only the rows on screen are in the DOM, and
// pages of images are fetched from the service as the reviewer scrolls towards them.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import type { DatasetSummary, ImageItem } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';
import { useResizeWidth } from '../state/useResizeWidth';

const CELL = 132;
const PAGE = 1000;

export function ImageGrid({ dataset }: { dataset: DatasetSummary }) {
  const { client, mediaUrl } = useConnection();
  const [items, setItems] = useState<ImageItem[]>([]);
  const [total, setTotal] = useState(dataset.imageCount);
  const cursor = useRef<{ nextAfter: number | null; loading: boolean }>({ nextAfter: 0, loading: false });
  const scroller = useRef<HTMLDivElement>(null);
  const width = useResizeWidth(scroller);
  const columns = Math.max(1, Math.floor((width - 16) / CELL));
  const rows = Math.ceil(total / columns);

  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scroller.current,
    estimateSize: () => CELL,
    overscan: 4,
  });
  const visible = virtualizer.getVirtualItems();
  const lastNeeded = visible.length ? (visible[visible.length - 1].index + 1) * columns : 0;

  useEffect(() => {
    const state = cursor.current;
    if (state.loading || state.nextAfter === null || items.length >= Math.min(total, lastNeeded + PAGE / 2))
      return;
    state.loading = true;
    void client
      .call('images.page', { datasetId: dataset.id, after: state.nextAfter, limit: PAGE })
      .then((page) => {
        state.nextAfter = page.nextAfter;
        setTotal(page.total);
        setItems((prev) => prev.concat(page.items));
      })
      .finally(() => {
        state.loading = false;
      });
  }, [client, dataset.id, items.length, lastNeeded, total]);

  return (
    <div ref={scroller} className="grid-scroller" role="grid" aria-label="Images" aria-rowcount={rows}>
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {visible.map((row) => (
          <div
            key={row.key}
            role="row"
            aria-rowindex={row.index + 1}
            className="grid-row"
            style={{ transform: `translateY(${row.start}px)`, height: CELL }}
          >
            {Array.from({ length: columns }, (_, c) => items[row.index * columns + c])
              .filter((item): item is ImageItem => item !== undefined)
              .map((item) => (
                <figure
                  key={item.id}
                  role="gridcell"
                  aria-label={item.relPath}
                  className="cell"
                  title={item.relPath}
                >
                  <img
                    src={mediaUrl('thumb', item.datasetId, item.relPath)}
                    alt=""
                    loading="lazy"
                    draggable={false}
                  />
                  <figcaption>{item.label ?? '—'}</figcaption>
                </figure>
              ))}
          </div>
        ))}
      </div>
    </div>
  );
}
