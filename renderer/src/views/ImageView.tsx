// The image view: the picture with its saliency heatmap over the part the model saw. Method,
// target class, colour map and opacity change the drawing, not the computation (maps are cached
// by the service). Compare methods or top-1 against top-2, see each block's contribution, score
// the maps' faithfulness on demand, zoom and pan, and read the value under the cursor.
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import type { GridItem } from '../../../electron/contract/query';
import { SALIENCY_METHODS } from '../../../electron/contract/protocol';
import { ColourLegend } from '../components/ColourLegend';
import { HeatmapCanvas } from '../components/HeatmapCanvas';
import { MaskOutline } from '../components/MaskOutline';
import { LabelledSelect } from '../components/LabelledSelect';
import { useConnection } from '../state/connection';
import { useViewSettings, type ColourMap, type Method } from '../state/settings';
import { uiError } from '../state/uiErrors';
import { useColourMaps } from '../state/useColourMaps';
import { useResizeBox } from '../state/useResizeBox';
import { targetLabel, useSaliency, type Detail } from '../state/useSaliency';
import { setView, useView, type CompareMode } from '../state/viewUrl';
import { useWorkspace } from '../state/workspace';
import { writesSettled } from '../state/writeQueue';
import { BlockStrip } from './BlockStrip';
import { FaithfulnessTable } from './FaithfulnessTable';
import { RegionCheck } from './RegionCheck';

const COLOUR_MAPS: ColourMap[] = ['turbo', 'jet', 'viridis', 'inferno'];
// Compare mode is loaded when first asked for, not with the first screen.
const ComparePanels = lazy(() => import('./ComparePanels').then((m) => ({ default: m.ComparePanels })));

/** The picture's square: as large as the stage allows (the stage fills the window's height). */
function singleSize(box: { width: number; height: number }): number {
  return Math.max(160, Math.floor(Math.min(box.width, box.height) - 4));
}

interface Props {
  item: GridItem;
  position: string;
  /** The run explaining the image when it is not the chosen one (a Find-similar pool's run of the same model). */
  runId?: number;
}

export function ImageView({ item, position, runId: poolRunId }: Props) {
  const { client, mediaUrl } = useConnection();
  const { run } = useWorkspace();
  const [settings, updateSettings] = useViewSettings();
  const luts = useColourMaps();
  const [detail, setDetail] = useState<Detail | null>(null);
  // Method, target and compare mode are in the URL: a reload or a shared link shows the same map.
  const view = useView();
  const method = view.method ?? settings.method;
  const setMethod = (m: Method) => {
    updateSettings({ method: m });
    setView({ method: m });
  };
  const target = view.target;
  const setTarget = (t: string) => setView({ target: t });
  const compare = view.compare;
  const setCompare = (c: CompareMode) => setView({ compare: c }, true);
  const [showMask, setShowMask] = useState(true);
  const stage = useRef<HTMLDivElement>(null);
  const box = useResizeBox(stage);
  const [zoom, setZoom] = useState(1);
  const [pan, setPan] = useState({ x: 0, y: 0 });
  const [hover, setHover] = useState<string>('');
  const runId = poolRunId ?? run?.id ?? null;

  useEffect(() => {
    let live = true;
    // The next image shows only once the previous one's tag and review writes are saved.
    void writesSettled()
      .then(() => client.call('images.get', { imageId: item.id, runId: runId ?? undefined }))
      .then((d) => live && setDetail(d));
    return () => {
      live = false;
    };
  }, [client, item.id, runId]);

  const label = targetLabel(target, detail);
  const saliency = useSaliency(item, method, label, runId);
  const top5 = detail?.probabilities ? [...detail.probabilities].sort((a, b) => b.p - a.p).slice(0, 5) : [];
  const side = singleSize(box);
  const aspect = item.width / item.height;
  const width = aspect >= 1 ? side : side * aspect;
  const height = aspect >= 1 ? side / aspect : side;

  return (
    <section className="image-view" aria-label="Image view">
      <header className="image-toolbar">
        <strong title={item.relPath}>{item.relPath}</strong>
        <span className="muted">{position}</span>
        <LabelledSelect caption="Method" value={method} onChange={setMethod}>
          <option value="default">model default</option>
          {SALIENCY_METHODS.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </LabelledSelect>
        <LabelledSelect caption="Target class" value={target} onChange={setTarget}>
          <option value="top1">top-1{top5[0] ? ` (${top5[0].label})` : ''}</option>
          <option value="top2">top-2{top5[1] ? ` (${top5[1].label})` : ''}</option>
          {(run?.labels ?? []).map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </LabelledSelect>
        <LabelledSelect
          caption="Colour map"
          value={settings.colourMap}
          onChange={(colourMap) => updateSettings({ colourMap })}
        >
          {COLOUR_MAPS.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </LabelledSelect>
        <label>
          Opacity
          <input
            type="range"
            aria-label="Heatmap opacity"
            min={0}
            max={1}
            step={0.05}
            value={settings.opacity}
            onChange={(e) => updateSettings({ opacity: Number(e.target.value) })}
          />
        </label>
        <LabelledSelect caption="Compare" value={compare} onChange={setCompare}>
          <option value="none">Off</option>
          <option value="methods">Methods side by side</option>
          <option value="targets">Top-1 against top-2</option>
        </LabelledSelect>
        {item.hasMask && (
          <label className="check">
            <input
              type="checkbox"
              aria-label="Mask outline"
              checked={showMask}
              onChange={(e) => setShowMask(e.target.checked)}
            />
            Mask outline
          </label>
        )}
      </header>
      <div className="image-body">
        <div className="image-stage" ref={stage}>
          {compare === 'none' ? (
            <div
              className="zoom-frame"
              style={{ width: side, height: side }}
              onWheel={(e) => setZoom((z) => Math.min(16, Math.max(1, z * (e.deltaY < 0 ? 1.2 : 1 / 1.2))))}
              onMouseMove={(e) => {
                if (e.buttons === 1) setPan((p) => ({ x: p.x + e.movementX, y: p.y + e.movementY }));
              }}
              onDoubleClick={() => {
                setZoom(1);
                setPan({ x: 0, y: 0 });
              }}
            >
              <div
                className="zoom-content"
                style={{ width, height, transform: `translate(${pan.x}px, ${pan.y}px) scale(${zoom})` }}
              >
                <img
                  src={mediaUrl('original', item.datasetId, item.relPath)}
                  alt={item.relPath}
                  width={width}
                  height={height}
                  draggable={false}
                />
                {saliency?.saliency && luts && (
                  <HeatmapCanvas
                    map={{ grid: saliency.saliency.grid, values: saliency.saliency.map }}
                    lut={luts[settings.colourMap]}
                    opacity={settings.opacity}
                    width={width}
                    height={height}
                    onHover={(value, cell) =>
                      setHover(
                        value === null || !cell
                          ? ''
                          : `value ${value.toFixed(3)} · patch row ${cell[0]}, col ${cell[1]}`,
                      )
                    }
                  />
                )}
                {item.hasMask && showMask && <MaskOutline imageId={item.id} width={width} height={height} />}
              </div>
            </div>
          ) : (
            <Suspense fallback={<p className="muted">Loading compare…</p>}>
              <ComparePanels
                item={item}
                compare={compare}
                method={method}
                target={target}
                detail={detail}
                runId={runId}
                box={box}
                showMask={item.hasMask && showMask}
              />
            </Suspense>
          )}
        </div>
        <div className="image-side">
          {luts && runId !== null && (
            <ColourLegend
              lut={luts[settings.colourMap]}
              method={compare === 'methods' ? 'each method' : (saliency?.saliency?.method ?? method)}
              target={saliency?.saliency?.target ?? null}
            />
          )}
          {runId === null && (
            <p className="muted">Run a model on this dataset to see predictions and heatmaps.</p>
          )}
          {saliency?.saliency?.warnings.map((warning) => (
            <p key={warning} role="note" className="warning">
              {warning}
            </p>
          ))}
          {saliency?.error && (
            <p role="alert" className="error">
              {uiError(saliency.error)}
            </p>
          )}
          <p className="muted" aria-live="polite">
            {saliency?.saliency
              ? `explaining “${saliency.saliency.target}”${saliency.saliency.cached ? ' (cached)' : ''}`
              : runId !== null
                ? 'computing…'
                : ''}
            {hover && ` · ${hover}`} {zoom > 1 && `· zoom ${zoom.toFixed(1)}×`}
          </p>
          {saliency?.saliency && (
            <p className="method-reason" aria-label="Method shown">
              {saliency.saliency.method} ·{' '}
              {saliency.saliency.reason
                ? `default for this model: ${saliency.saliency.reason}`
                : 'your choice (Method: model default shows the leaderboard winner)'}
            </p>
          )}
          <table className="top5" aria-label="Top-5 scores">
            <tbody>
              {top5.map((p) => (
                <tr key={p.label} className={p.label === item.prediction?.trueClass ? 'truth' : ''}>
                  <th>{p.label}</th>
                  <td>
                    <meter min={0} max={1} value={p.p} />
                  </td>
                  <td>{p.p.toFixed(3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {runId !== null && saliency?.saliency && (
            <>
              <BlockStrip
                imageId={item.id}
                runId={runId}
                target={saliency.saliency.target}
                lut={luts?.[settings.colourMap] ?? null}
              />
              <RegionCheck
                imageId={item.id}
                runId={runId}
                method={saliency.saliency.method}
                target={saliency.saliency.target}
              />
              <FaithfulnessTable imageId={item.id} runId={runId} target={saliency.saliency.target} />
            </>
          )}
        </div>
      </div>
    </section>
  );
}
