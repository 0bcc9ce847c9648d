// Finds, from the graph alone, which token of the image each attention key is: the grid the keys'
// tokens lie on, and for windowed attention (Swin) which cell window w, position n holds, shifts
// and padding included. It walks from the attention's Q·Kᵀ product back to the key projection,
// then pushes token ids through the pure data-movement ops (Reshape, Transpose, Slice, Concat,
// Pad, Gather, Split, …) between the stage's token tensor and the projection's input.
import { EngineError } from '../errors';
import type { GraphProto, NodeProto } from '../onnx/onnxSchema';
import type { AttentionSite } from './attentionFinder';
import { activationTensors, graphConstants, knownIntegers } from './graphConstants';
import { intAttr, intsAttr } from './nodeAttributes';
import type { TensorInfoMap } from './shapeProbe';

export interface KeyTokens {
  /** The stage grid [rows, cols] of the tokens the keys come from. */
  grid: [number, number];
  /** Windows per image (1 for global attention). */
  windows: number;
  /** Keys per window. */
  positions: number;
  /**
   * For window w, key n (flat w·positions + n): the grid cell (row-major), -1 for padding, or -2
   * for a token of another tensor (a class token joined to the patches, as in class attention).
   */
  cellOf: number[];
}

const DATA_MOVEMENT = new Set([
  'Reshape',
  'Transpose',
  'Slice',
  'Concat',
  'Pad',
  'Gather',
  'Split',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'Identity',
]);

/** An integer tensor in row-major order. */
interface Ids {
  dims: number[];
  data: Int32Array;
}

class GraphIndex {
  readonly producer = new Map<string, { node: NodeProto; output: number }>();
  readonly dataDependent: Set<string>;
  readonly constants;

  constructor(
    readonly graph: GraphProto,
    readonly info: TensorInfoMap,
  ) {
    this.constants = graphConstants(graph);
    this.dataDependent = activationTensors(graph);
    for (const node of graph.node ?? [])
      (node.output ?? []).forEach((o, k) => o && this.producer.set(o, { node, output: k }));
  }

  dims(name: string): number[] {
    const dims = this.info.get(name)?.dims;
    if (!dims) throw new EngineError(`The shape of tensor '${name}' is unknown.`, 'unknown-shape');
    return dims;
  }

  ints(name: string): number[] {
    const v = knownIntegers(name, this.constants, this.info);
    if (!v) throw new EngineError(`Tensor '${name}' is not a known integer constant.`, 'unsupported-model');
    return v;
  }
}

/** The input of the key projection of the attention whose probabilities `site` names. */
function keyProjectionInput(index: GraphIndex, site: AttentionSite): string {
  // Back from the softmax's input to the Q·Kᵀ MatMul: through scaling, masks and biases.
  let t = site.node.input?.[0] ?? '';
  let scores: NodeProto | undefined;
  for (let steps = 0; steps < 20 && !scores; steps++) {
    const p = index.producer.get(t)?.node;
    if (!p) break;
    const data = (p.input ?? []).filter((x) => x && index.dataDependent.has(x));
    if (p.opType === 'MatMul' && data.length === 2) scores = p;
    else t = data[0] ?? '';
  }
  if (!scores) throw keyTraceError(site, 'no Q·Kᵀ product found before its softmax');
  // Back from Kᵀ through the head split to the projection: a MatMul or Gemm by a weight.
  t = scores.input![1];
  for (let steps = 0; steps < 30; steps++) {
    const p = index.producer.get(t)?.node;
    if (!p) break;
    const data = (p.input ?? []).filter((x) => x && index.dataDependent.has(x));
    if ((p.opType === 'MatMul' || p.opType === 'Gemm') && data.length === 1 && data[0] === p.input![0])
      return data[0];
    t = data[0] ?? '';
  }
  throw keyTraceError(site, 'no key projection (a MatMul by a weight) found behind Kᵀ');
}

function keyTraceError(site: AttentionSite, why: string): EngineError {
  return new EngineError(
    `Cannot tell which image tokens the keys of attention '${site.label}' are: ${why}. Name the grid in the model card (tokens.grid) if the attention is global, or report the model.`,
    'unsupported-model',
  );
}

/** Pushes token ids through data-movement ops from the first tensor that is not one's output. */
class IdEvaluator {
  private readonly memo = new Map<string, Ids>();
  source?: string;
  firstGrid?: [number, number];

  constructor(
    private readonly index: GraphIndex,
    private readonly probeBatch: number,
  ) {}

  /** Chooses the source before any evaluation: of all it reaches, the one with the most tokens. */
  chooseSource(name: string): void {
    const sources = new Set<string>();
    const walk = (t: string): void => {
      const from = this.index.producer.get(t);
      if (!from || !DATA_MOVEMENT.has(from.node.opType ?? '')) sources.add(t);
      else for (const x of from.node.opType === 'Concat' ? from.node.input! : [from.node.input![0]]) walk(x);
    };
    walk(name);
    const tokens = (t: string): number =>
      this.index
        .dims(t)
        .slice(1, -1)
        .reduce((p, q) => p * q, 1);
    this.source = [...sources].sort((a, b) => tokens(b) - tokens(a))[0];
  }

  value(name: string): Ids {
    const known = this.memo.get(name);
    if (known) return known;
    const made = this.make(name);
    const dims = made.dims;
    if (!this.firstGrid && dims.length === 4 && dims[0] === this.probeBatch)
      this.firstGrid = [dims[1], dims[2]];
    this.memo.set(name, made);
    return made;
  }

  private make(name: string): Ids {
    const from = this.index.producer.get(name);
    if (!from || !DATA_MOVEMENT.has(from.node.opType ?? '')) return this.sourceIds(name);
    const { node, output } = from;
    const x = this.value(node.input![0]);
    const out = this.index.dims(name);
    switch (node.opType) {
      case 'Reshape':
      case 'Flatten':
      case 'Squeeze':
      case 'Unsqueeze':
      case 'Identity':
        return { dims: out, data: x.data };
      case 'Transpose':
        return transpose(x, intsAttr(node, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i));
      case 'Slice': {
        const [, s, e, a, st] = node.input!;
        const starts = this.index.ints(s);
        const axes = a ? this.index.ints(a) : starts.map((_, i) => i);
        const steps = st ? this.index.ints(st) : starts.map(() => 1);
        return slice(x, starts, this.index.ints(e), axes, steps);
      }
      case 'Concat':
        return concat(
          node.input!.map((i) => this.value(i)),
          norm(intAttr(node, 'axis', 0), x.dims.length),
        );
      case 'Pad': {
        const pads = node.input![1] ? this.index.ints(node.input![1]) : (intsAttr(node, 'pads') ?? []);
        const axes = node.input![3] ? this.index.ints(node.input![3]) : x.dims.map((_, i) => i);
        return pad(x, pads, axes);
      }
      case 'Gather': {
        const axis = norm(intAttr(node, 'axis', 0), x.dims.length);
        return gather(x, this.index.ints(node.input![1]), axis, out);
      }
      case 'Split': {
        const axis = norm(intAttr(node, 'axis', 0), x.dims.length);
        const sizes = (node.output ?? []).map((o) => this.index.dims(o)[axis]);
        const start = sizes.slice(0, output).reduce((p, q) => p + q, 0);
        return slice(x, [start], [start + sizes[output]], [axis], [1]);
      }
      default:
        throw new Error(`internal: ${node.opType}`);
    }
  }

  /**
   * Ids of a source tensor [batch, …tokens…, channels]: the token's index in its image. The
   * patch tokens are the source with the most tokens; any other (a class token) is all -2.
   */
  private sourceIds(name: string): Ids {
    const dims = this.index.dims(name);
    if (name !== this.source) return { dims, data: new Int32Array(dims.reduce((p, q) => p * q, 1)).fill(-2) };
    const channels = dims[dims.length - 1];
    const data = new Int32Array(dims.reduce((p, q) => p * q, 1));
    const perImage = data.length / dims[0] / channels;
    for (let i = 0; i < data.length; i++) {
      const token = Math.floor(i / channels);
      data[i] = token % perImage;
    }
    return { dims, data };
  }
}

const norm = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Calls f(outIndex, coordinates) for every element of a tensor of `dims`, in row-major order. */
function forEachIndex(dims: number[], f: (flat: number, at: number[]) => void): void {
  const total = dims.reduce((p, q) => p * q, 1);
  const at = new Array<number>(dims.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    f(flat, at);
    for (let k = dims.length - 1; k >= 0; k--) {
      if (++at[k] < dims[k]) break;
      at[k] = 0;
    }
  }
}

function transpose(x: Ids, perm: number[]): Ids {
  const dims = perm.map((p) => x.dims[p]);
  const s = strides(x.dims);
  const data = new Int32Array(x.data.length);
  forEachIndex(dims, (flat, at) => {
    let src = 0;
    for (let k = 0; k < at.length; k++) src += at[k] * s[perm[k]];
    data[flat] = x.data[src];
  });
  return { dims, data };
}

function slice(x: Ids, starts: number[], ends: number[], axes: number[], steps: number[]): Ids {
  const rank = x.dims.length;
  const first = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const dims = [...x.dims];
  axes.forEach((a0, i) => {
    const a = norm(a0, rank);
    const d = x.dims[a];
    const at = (v: number): number => (v < 0 ? v + d : v);
    if (steps[i] > 0) {
      const s = Math.min(Math.max(at(starts[i]), 0), d);
      const e = Math.min(Math.max(at(ends[i]), 0), d);
      dims[a] = Math.max(0, Math.ceil((e - s) / steps[i]));
      first[a] = s;
    } else {
      const s = Math.min(Math.max(at(starts[i]), 0), d - 1);
      const e = Math.min(Math.max(at(ends[i]), -1), d - 1);
      dims[a] = Math.max(0, Math.ceil((s - e) / -steps[i]));
      first[a] = s;
    }
    step[a] = steps[i];
  });
  const s = strides(x.dims);
  const data = new Int32Array(dims.reduce((p, q) => p * q, 1));
  forEachIndex(dims, (flat, at) => {
    let src = 0;
    for (let k = 0; k < rank; k++) src += (first[k] + at[k] * step[k]) * s[k];
    data[flat] = x.data[src];
  });
  return { dims, data };
}

function concat(parts: Ids[], axis: number): Ids {
  const dims = [...parts[0].dims];
  dims[axis] = parts.reduce((p, q) => p + q.dims[axis], 0);
  const outer = dims.slice(0, axis).reduce((p, q) => p * q, 1);
  const data = new Int32Array(dims.reduce((p, q) => p * q, 1));
  let o = 0;
  for (let i = 0; i < outer; i++)
    for (const part of parts) {
      const block = part.dims.slice(axis).reduce((p, q) => p * q, 1);
      data.set(part.data.subarray(i * block, (i + 1) * block), o);
      o += block;
    }
  return { dims, data };
}

/** Constant padding: padded positions hold -1 (no token). */
function pad(x: Ids, pads: number[], axes: number[]): Ids {
  const rank = x.dims.length;
  const begin = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => (begin[norm(a, rank)] = pads[i]));
  const dims = [...x.dims];
  axes.forEach((a, i) => (dims[norm(a, rank)] += pads[i] + pads[axes.length + i]));
  const s = strides(x.dims);
  const data = new Int32Array(dims.reduce((p, q) => p * q, 1)).fill(-1);
  forEachIndex(dims, (flat, at) => {
    let src = 0;
    for (let k = 0; k < rank; k++) {
      const c = at[k] - begin[k];
      if (c < 0 || c >= x.dims[k]) return;
      src += c * s[k];
    }
    data[flat] = x.data[src];
  });
  return { dims, data };
}

function gather(x: Ids, indices: number[], axis: number, outDims: number[]): Ids {
  const d = x.dims[axis];
  const picked = indices.map((i) => (i < 0 ? i + d : i));
  const sliced = concat(
    picked.map((i) => slice(x, [i], [i + 1], [axis], [1])),
    axis,
  );
  return { dims: outDims, data: sliced.data };
}

/**
 * Traces the key tokens of a model's attention sites, with one index of the graph for all of them.
 * `probeBatch` is the batch the probe ran at; windows are batch-major (the first image's windows
 * first), as every window partition writes them.
 */
export class KeyTokenTracer {
  private readonly index: GraphIndex;

  constructor(
    graph: GraphProto,
    info: TensorInfoMap,
    private readonly probeBatch: number,
  ) {
    this.index = new GraphIndex(graph, info);
  }

  /** The key tokens of one site; `fallbackGrid` is the grid of flat [batch, tokens, channels] sources. */
  trace(site: AttentionSite, fallbackGrid?: [number, number]): KeyTokens {
    const { index, probeBatch } = this;
    const projected = keyProjectionInput(index, site);
    const evaluator = new IdEvaluator(index, probeBatch);
    let keys: Ids;
    try {
      evaluator.chooseSource(projected);
      keys = evaluator.value(projected);
    } catch (e) {
      if (e instanceof EngineError) throw keyTraceError(site, e.message);
      throw e;
    }
    const attention = index.dims(site.tensor);
    const positions = attention[attention.length - 1];
    const rows = keys.dims.slice(0, -1).reduce((p, q) => p * q, 1);
    const channels = keys.dims[keys.dims.length - 1];
    if (rows % (probeBatch * positions) !== 0)
      throw keyTraceError(site, `its ${positions} keys do not divide the ${rows} projected tokens`);
    const windows = rows / probeBatch / positions;
    const sourceDims = index.dims(evaluator.source!);
    const tokens = sourceDims.slice(1, -1).reduce((p, q) => p * q, 1);
    let grid: [number, number] | undefined =
      sourceDims.length === 4 ? [sourceDims[1], sourceDims[2]] : evaluator.firstGrid;
    // A flat [batch, tokens, channels] source: the previous block's grid, after any prefix tokens
    // (class attention's keys are [cls, patches] normalised together).
    let prefix = 0;
    if ((!grid || grid[0] * grid[1] !== tokens) && fallbackGrid) {
      const extra = tokens - fallbackGrid[0] * fallbackGrid[1];
      if (extra >= 0 && extra <= 8) [grid, prefix] = [fallbackGrid, extra];
    }
    if (!grid || grid[0] * grid[1] + prefix !== tokens)
      throw keyTraceError(
        site,
        `the token tensor '${evaluator.source}' has no [batch, rows, cols, channels] layout`,
      );
    const cellOf: number[] = [];
    for (let k = 0; k < windows * positions; k++) {
      const id = keys.data[k * channels];
      cellOf.push(id < 0 ? id : id < prefix ? -2 : id - prefix);
    }
    // Every cell exactly once, padding aside.
    const seen = new Set(cellOf.filter((c) => c >= 0));
    // (class-token keys, -2, are allowed: class attention reads [cls, patches])
    if (seen.size !== tokens - prefix || cellOf.some((c) => c >= tokens - prefix))
      throw keyTraceError(site, 'the traced windows do not cover the token grid once');
    return { grid, windows, positions, cellOf };
  }
}
