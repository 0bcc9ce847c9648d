// Colour maps for heatmaps as 256-entry RGB lookup tables: turbo (Google's published polynomial
// approximation), jet (piecewise linear), viridis and inferno (matplotlib's tables sampled at a
// few control points, linearly interpolated).
import { EngineError } from '../errors';

export type ColormapName = 'turbo' | 'jet' | 'viridis' | 'inferno';
export const COLORMAP_NAMES: readonly ColormapName[] = ['turbo', 'jet', 'viridis', 'inferno'];

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Turbo, polynomial approximation by Anton Mikhailov (Google AI blog, 2019). */
function turbo(x: number): [number, number, number] {
  const x2 = x * x;
  const x3 = x2 * x;
  const x4 = x2 * x2;
  const x5 = x4 * x;
  return [
    0.13572138 + 4.6153926 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5,
    0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5,
    0.1066733 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5,
  ];
}

function jet(x: number): [number, number, number] {
  return [
    clamp01(1.5 - Math.abs(4 * x - 3)),
    clamp01(1.5 - Math.abs(4 * x - 2)),
    clamp01(1.5 - Math.abs(4 * x - 1)),
  ];
}

/** [index in matplotlib's 256-entry table, r, g, b]. */
type ControlPoint = [number, number, number, number];
const VIRIDIS: ControlPoint[] = [
  [0, 0.267004, 0.004874, 0.329415],
  [32, 0.278826, 0.17549, 0.483397],
  [64, 0.229739, 0.322361, 0.545706],
  [96, 0.172719, 0.448791, 0.557885],
  [128, 0.127568, 0.566949, 0.550556],
  [160, 0.157851, 0.683765, 0.501686],
  [192, 0.369214, 0.788888, 0.382914],
  [224, 0.678489, 0.863742, 0.189503],
  [255, 0.993248, 0.906157, 0.143936],
];
const INFERNO: ControlPoint[] = [
  [0, 0.001462, 0.000466, 0.013866],
  [25, 0.087411, 0.044556, 0.224813],
  [51, 0.258234, 0.038571, 0.406485],
  [76, 0.416331, 0.090203, 0.432943],
  [102, 0.578304, 0.148039, 0.404411],
  [128, 0.735683, 0.215906, 0.330245],
  [153, 0.865006, 0.316822, 0.226055],
  [179, 0.954506, 0.468744, 0.099874],
  [204, 0.987622, 0.64532, 0.039886],
  [230, 0.964394, 0.843848, 0.273391],
  [255, 0.988362, 0.998364, 0.644924],
];

function interpolated(points: ControlPoint[]): (x: number) => [number, number, number] {
  return (x) => {
    const t = x * 255;
    let i = 0;
    while (i < points.length - 2 && points[i + 1][0] < t) i++;
    const [t0, r0, g0, b0] = points[i];
    const [t1, r1, g1, b1] = points[i + 1];
    const f = clamp01((t - t0) / (t1 - t0));
    return [r0 + f * (r1 - r0), g0 + f * (g1 - g0), b0 + f * (b1 - b0)];
  };
}

const FUNCTIONS: Record<ColormapName, (x: number) => [number, number, number]> = {
  turbo,
  jet,
  viridis: interpolated(VIRIDIS),
  inferno: interpolated(INFERNO),
};

const tables = new Map<ColormapName, Uint8Array>();

/** 256 × RGB lookup table of a colour map: entry i is the colour of value i / 255. */
export function colormapTable(name: ColormapName): Uint8Array {
  let table = tables.get(name);
  if (table) return table;
  const f = FUNCTIONS[name];
  if (!f)
    throw new EngineError(
      `Unknown colour map '${String(name)}'; use ${COLORMAP_NAMES.join(', ')}.`,
      'bad-colormap',
    );
  table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const rgb = f(i / 255);
    for (let c = 0; c < 3; c++) table[i * 3 + c] = Math.round(clamp01(rgb[c]) * 255);
  }
  tables.set(name, table);
  return table;
}
