// The image view: the picture with its saliency heatmap over the part the model saw. Method,
// target class, colour map and opacity change the drawing, not the computation (maps are cached
// by the service). Compare methods or top-1 against top-2, see each block's contribution, score
// the maps' faithfulness on demand, zoom and pan, and read the value under the cursor.
import { useEffect, useState } from 'react';
import type { GridItem } from '../../../electron/contract/query';
import { SALIENCY_METHODS, type Result } from '../../../electron/contract/protocol';
import { HeatmapCanvas } from '../components/HeatmapCanvas';
import { LabelledSelect } from '../components/LabelledSelect';
import { useConnection } from '../state/connection';
import { useViewSettings, type ColourMap, type Method } from '../state/settings';
import { useColourMaps } from '../state/useColourMaps';
import { useWorkspace } from '../state/workspace';
import { writesSettled } from '../state/writeQueue';
import { BlockStrip } from './BlockStrip';
import { FaithfulnessTable } from './FaithfulnessTable';
import { RegionCheck } from './RegionCheck';

type Saliency = Result<'saliency.get'>;
type Detail = Result<'images.get'>;
const COLOUR_MAPS: ColourMap[] = ['turbo', 'jet', 'viridis', 'inferno'];
const VIEW = 448;

interface Props {
  item: GridItem;
  position: string;
}

/** top-1 / top-2 / a label → the label to explain: null asks the service for the run's top-1
 *  straight away (no need to wait for the probabilities), undefined waits for them. */
function targetLabel(target: string, detail: Detail | null): string | null | undefined {
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

export function ImageView({ item, position }: Props) {
  const { client, mediaUrl } = useConnection();
  const { run } = useWorkspace();
  const [settings, updateSettings] = useViewSettings();
  const luts = useColourMaps();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [target, setTarget] = useState('top1');
  const [compare, setCompare] = useState<'none' | 'methods' | 'targets'>('none');
  const [zoom, setZoom] = useState(1);
  const [pan, setPan] = useState({ x: 0, y: 0 });
  const [hover, setHover] = useState<string>('');
  const runId = run?.id ?? null;

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
  const saliency = useSaliency(item, settings.method, label, runId);
  const top5 = detail?.probabilities ? [...detail.probabilities].sort((a, b) => b.p - a.p).slice(0, 5) : [];
  const aspect = item.width / item.height;
  const width = aspect >= 1 ? VIEW : VIEW * aspect;
  const height = aspect >= 1 ? VIEW / aspect : VIEW;

  return (
    <section className="image-view" aria-label="Image view">
      <header className="image-toolbar">
        <strong title={item.relPath}>{item.relPath}</strong>
        <span className="muted">{position}</span>
        <LabelledSelect
          caption="Method"
          value={settings.method}
          onChange={(method) => updateSettings({ method })}
        >
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
      </header>
      <div className="image-body">
        {compare === 'none' ? (
          <div
            className="zoom-frame"
            style={{ width: VIEW, height: VIEW }}
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
            </div>
          </div>
        ) : (
          <ComparePanels item={item} compare={compare} target={target} detail={detail} runId={runId} />
        )}
        <div className="image-side">
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
              {saliency.error}
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

function ComparePanels({
  item,
  compare,
  target,
  detail,
  runId,
}: {
  item: GridItem;
  compare: 'methods' | 'targets';
  /** The target selector's choice: the methods side by side all explain it. */
  target: string;
  detail: Detail | null;
  runId: number | null;
}) {
  const [settings] = useViewSettings();
  const panels: { method: Method; target: string; title: string }[] =
    compare === 'methods'
      ? SALIENCY_METHODS.map((m) => ({ method: m, target, title: m }))
      : [
          { method: settings.method, target: 'top1', title: 'top-1' },
          { method: settings.method, target: 'top2', title: 'top-2' },
        ];
  return (
    <div className="compare" role="group" aria-label="Compare">
      {panels.map((panel) => (
        <ComparePanel
          key={panel.title}
          item={item}
          {...panel}
          label={targetLabel(panel.target, detail)}
          runId={runId}
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
}: {
  item: GridItem;
  method: Method;
  title: string;
  label: string | null | undefined;
  runId: number | null;
}) {
  const { mediaUrl } = useConnection();
  const [settings] = useViewSettings();
  const luts = useColourMaps();
  const saliency = useSaliency(item, method, label, runId);
  const size = 220;
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
      </div>
      <figcaption>
        {title} {saliency?.saliency && `· ${saliency.saliency.target}`}{' '}
        {saliency?.error && <span className="error">{saliency.error}</span>}
      </figcaption>
    </figure>
  );
}
