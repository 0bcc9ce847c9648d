// The heatmap over a grid thumbnail (the run's top-1 class, the default method), when the
// reviewer turns heatmaps on in the grid. Maps come from the service's saliency cache.
import type { GridItem } from '../../../electron/contract/query';
import { HeatmapCanvas } from '../components/HeatmapCanvas';
import { useViewSettings } from '../state/settings';
import { useColourMaps } from '../state/useColourMaps';
import { useSaliency } from '../state/useSaliency';

export function GridHeatmap({ item, runId, size }: { item: GridItem; runId: number; size: number }) {
  const [settings] = useViewSettings();
  const luts = useColourMaps();
  // Many thumbnails at once: the model's default becomes its best fast method.
  const saliency = useSaliency(
    item,
    settings.method === 'default' ? 'default-fast' : settings.method,
    null,
    runId,
  );
  if (!saliency?.saliency || !luts) return null;
  const aspect = item.width / item.height;
  return (
    <HeatmapCanvas
      label={`Heatmap of ${item.relPath}`}
      map={{ grid: saliency.saliency.grid, values: saliency.saliency.map }}
      lut={luts[settings.colourMap]}
      opacity={settings.opacity}
      width={aspect >= 1 ? size : size * aspect}
      height={aspect >= 1 ? size / aspect : size}
    />
  );
}
