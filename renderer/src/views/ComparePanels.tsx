// Compare mode of the image view (loaded on first use, apart from the first screen's bundle):
// the methods side by side, or top-1 against top-2, as a 2×2 grid or one row when the stage is
// wide enough.
import { SALIENCY_METHODS } from '../../../electron/contract/protocol';
import type { GridItem } from '../../../electron/contract/query';
import { HeatmapCanvas } from '../components/HeatmapCanvas';
import { MaskOutline } from '../components/MaskOutline';
import { useConnection } from '../state/connection';
import { useViewSettings, type Method } from '../state/settings';
import { targetLabel, useSaliency, type Detail } from '../state/useSaliency';
import { uiError } from '../state/uiErrors';
import { useColourMaps } from '../state/useColourMaps';

/** Gap between compare panels, and the room a panel's caption takes below it. */
const GAP = 12;
const CAPTION = 22;

/**
 * Compare panels in full rows (never a row with a hole): of the column counts that divide the
 * panels (one row, 2×2, 4×2 for eight …), the one that gives the biggest panels in the stage.
 */
export function compareLayout(box: { width: number; height: number }, panels: number) {
  let best = { columns: panels, size: 0 };
  for (let columns = 1; columns <= panels; columns++) {
    if (panels % columns !== 0) continue;
    const rows = panels / columns;
    const size = Math.floor(
      Math.min(
        (box.width - GAP * (columns - 1)) / columns,
        (box.height - rows * CAPTION - GAP * (rows - 1)) / rows,
      ),
    );
    if (size > best.size) best = { columns, size };
  }
  return { columns: best.columns, size: Math.max(120, best.size) };
}

export function ComparePanels({
  item,
  compare,
  method,
  target,
  detail,
  runId,
  box,
  showMask,
}: {
  item: GridItem;
  compare: 'methods' | 'targets';
  /** The method the top-1 against top-2 comparison uses. */
  method: Method;
  /** The target selector's choice: the methods side by side all explain it. */
  target: string;
  detail: Detail | null;
  runId: number | null;
  box: { width: number; height: number };
  showMask: boolean;
}) {
  const panels: { method: Method; target: string; title: string }[] =
    compare === 'methods'
      ? SALIENCY_METHODS.map((m) => ({ method: m, target, title: m }))
      : [
          { method, target: 'top1', title: 'top-1' },
          { method, target: 'top2', title: 'top-2' },
        ];
  const layout = compareLayout(box, panels.length);
  return (
    <div
      className="compare"
      role="group"
      aria-label="Compare"
      style={{ gridTemplateColumns: `repeat(${layout.columns}, ${layout.size}px)`, gap: GAP }}
    >
      {panels.map((panel) => (
        <ComparePanel
          key={panel.title}
          item={item}
          {...panel}
          label={targetLabel(panel.target, detail)}
          runId={runId}
          size={layout.size}
          showMask={showMask}
        />
      ))}
    </div>
  );
}

function ComparePanel({
  item,
  method,
  title,
  label,
  runId,
  size,
  showMask,
}: {
  item: GridItem;
  method: Method;
  title: string;
  label: string | null | undefined;
  runId: number | null;
  size: number;
  showMask: boolean;
}) {
  const { mediaUrl } = useConnection();
  const [settings] = useViewSettings();
  const luts = useColourMaps();
  const saliency = useSaliency(item, method, label, runId);
  return (
    <figure className="compare-panel">
      <div className="zoom-content" style={{ width: size, height: size }}>
        <img src={mediaUrl('original', item.datasetId, item.relPath)} alt="" width={size} height={size} />
        {saliency?.saliency && luts && (
          <HeatmapCanvas
            label={`Heatmap ${title}`}
            map={{ grid: saliency.saliency.grid, values: saliency.saliency.map }}
            lut={luts[settings.colourMap]}
            opacity={settings.opacity}
            width={size}
            height={size}
          />
        )}
        {showMask && <MaskOutline imageId={item.id} width={size} height={size} />}
      </div>
      <figcaption>
        {title} {saliency?.saliency && `· ${saliency.saliency.target}`}{' '}
        {saliency?.error && <span className="error">{uiError(saliency.error)}</span>}
      </figcaption>
    </figure>
  );
}
