// What a vector-Jacobian rule sees and returns, and the helpers rules share: static shapes from
// the probe, constant integer inputs, and undoing broadcasting.
import { EngineError } from '../../errors';
import type { NodeProto, TensorProto } from '../../onnx/onnxSchema';
import { tensorValues } from '../../onnx/tensorData';
import { graphConstants, knownIntegers } from '../graphConstants';
import { intAttr, intsAttr } from '../nodeAttributes';
import type { GraphEditor } from '../graphEditor';
import type { TensorInfoMap } from '../shapeProbe';

/**
 * A gradient contribution to one input: a full tensor (the input's shape), or a tensor that fills
 * only [start, end) along one axis (from Gather/Slice/Split users), which the accumulator can put
 * together with one Concat instead of padding each piece.
 */
export type Contribution = string | { tensor: string; axis: number; start: number; end: number };

export interface VjpArgs {
  node: NodeProto;
  ctx: GradientContext;
  /** The accumulated gradient of output i, or undefined where nothing downstream depends on it. */
  gradOut(i: number): string | undefined;
  /** Whether input i needs a gradient. */
  needs(i: number): boolean;
}

/** Returns one contribution (or undefined) per node input. */
export type VjpRule = (args: VjpArgs) => (Contribution | undefined)[];

export class GradientContext {
  private readonly constants: Map<string, TensorProto>;
  private readonly shapeNodes = new Map<string, string>();

  constructor(
    readonly editor: GraphEditor,
    readonly info: TensorInfoMap,
  ) {
    this.constants = graphConstants(editor.graph);
  }

  /** Static shape of a tensor (batch as probed). */
  dims(name: string, node?: NodeProto): number[] {
    const info = this.info.get(name);
    if (info) return info.dims;
    const c = this.constants.get(name);
    if (c) return c.dims ?? [];
    throw new EngineError(
      `The shape of tensor '${name}'${node ? ` (node ${describe(node)})` : ''} is unknown to the gradient builder.`,
      'unknown-shape',
    );
  }

  rank(name: string): number {
    return this.dims(name).length;
  }

  /** Values of an integer input that is a constant or fixed by the probe run (axes, bounds, indices). */
  ints(name: string, node: NodeProto): number[] {
    const known = knownIntegers(name, this.constants, this.info);
    if (known) return known;
    throw new EngineError(
      `Node ${describe(node)} takes '${name}' as a constant, but its value is not known before running the model; the gradient builder cannot differentiate through it.`,
      'unsupported-op',
    );
  }

  /** The value of a one-element float constant, or undefined. */
  scalar(name: string | undefined): number | undefined {
    const c = name ? this.constants.get(name) : undefined;
    if (!c || (c.dims ?? []).reduce((p, q) => p * q, 1) !== 1) return undefined;
    const v = tensorValues(c);
    return v instanceof Float32Array || v instanceof Float64Array ? v[0] : undefined;
  }

  isFloat(name: string): boolean {
    const t = this.info.get(name)?.type;
    return t === 'float32' || t === 'float64' || t === 'float16';
  }

  /** A (shared) Shape node of a forward tensor. */
  shapeOf(name: string): string {
    let s = this.shapeNodes.get(name);
    if (!s) {
      s = this.editor.op('Shape', [name]);
      this.shapeNodes.set(name, s);
    }
    return s;
  }

  /** Sums a gradient of shape `gradDims` down to the shape of `target` (undoes broadcasting). */
  unbroadcast(grad: string, gradDims: number[], target: string): string {
    const t = this.dims(target);
    if (sameDims(gradDims, t)) return grad;
    const lead = gradDims.length - t.length;
    const axes: number[] = [];
    for (let i = 0; i < gradDims.length; i++) {
      if (i < lead) axes.push(i);
      else if (t[i - lead] === 1 && gradDims[i] !== 1) axes.push(i);
    }
    let g = grad;
    if (axes.length > 0) g = this.editor.reduce('ReduceSum', g, axes, true);
    if (lead > 0) g = this.editor.op('Reshape', [g, this.shapeOf(target)]);
    return g;
  }
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function describe(node: NodeProto): string {
  return `'${node.name || node.output?.[0] || '?'}' (${node.opType})`;
}

export function normaliseAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * The normalised, sorted axes a Reduce* node runs over (axes as attribute, or as input from opsets
 * 13/18; none: all axes); undefined when it is a no-op (noop_with_empty_axes).
 */
export function reducedAxes(ctx: GradientContext, node: NodeProto, rank: number): number[] | undefined {
  const axesInput = node.input![1];
  let axes = axesInput ? ctx.ints(axesInput, node) : (intsAttr(node, 'axes') ?? []);
  if (axes.length === 0) {
    if (intAttr(node, 'noop_with_empty_axes', 0) !== 0) return undefined;
    axes = Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((v) => normaliseAxis(v, rank)).sort((p, q) => p - q);
}

/**
 * A Reduce* node's output gradient `g` with the reduced axes put back as size-1 dims (whatever its
 * keepdims), with those axes and the input's dims; undefined when the node is a no-op, whose
 * gradient passes through unchanged.
 */
export function keptReductionGradient(
  ctx: GradientContext,
  node: NodeProto,
  g: string,
): { gKeep: string; axes: number[]; dims: number[]; keepdims: boolean } | undefined {
  const dims = ctx.dims(node.input![0]);
  const axes = reducedAxes(ctx, node, dims.length);
  if (axes === undefined) return undefined;
  const keepdims = intAttr(node, 'keepdims', 1) !== 0;
  return { gKeep: keepdims ? g : ctx.editor.unsqueeze(g, axes), axes, dims, keepdims };
}

/** Broadcast shape of several static shapes (numpy rules). */
export function broadcastDims(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i];
      if (v !== undefined && v !== 1) d = v;
    }
    out.push(d);
  }
  return out;
}

export function unsupported(node: NodeProto, why: string): EngineError {
  return new EngineError(`Cannot differentiate node ${describe(node)}: ${why}.`, 'unsupported-op');
}
