// The classifier head of a ViT reads only its first token(s) (the class token; DeiT also the
// distillation token) of the last block's output. Everything token-wise between the last
// attention and that read (output projection, residual, MLP, final LayerNorm) is computed for
// every token in the export, and the explain graph would differentiate it for every token too.
// This pass puts a Slice of the first k tokens right where the head reads them and pushes it up
// through token-wise ops until it meets one that mixes tokens or reshapes (the attention's head
// merge, the residual stream's other readers), so ONNX Runtime computes those ops for k rows.
// Logits and every attention are unchanged; the rewrite is exact.
import type { ModelProto, NodeProto, TensorProto } from '../onnx/onnxSchema';
import { cloneForEditing } from './explainGraph';
import { normaliseAxis } from './gradient/vjpContext';
import { graphConstants, knownIntegers } from './graphConstants';
import { GraphEditor } from './graphEditor';
import { intAttr, intsAttr } from './nodeAttributes';
import type { TensorInfoMap } from './shapeProbe';

const TOKEN_AXIS = 1;
const UNARY = new Set([
  'Relu',
  'Gelu',
  'Erf',
  'Tanh',
  'Sigmoid',
  'Sqrt',
  'Reciprocal',
  'Neg',
  'Exp',
  'Abs',
  'Identity',
  'Cast',
  'Dropout',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow']);

export interface PrunedModel {
  model: ModelProto;
  /** The probe information, with the shapes of the sliced tensors added. */
  info: TensorInfoMap;
  /** Tokens kept after the push (null: the head's read was not recognised; nothing changed). */
  tokensKept: number | null;
  /** Forward ops that now run on the kept tokens only. */
  opsPruned: number;
}

export function pruneHeadTokens(
  model: ModelProto,
  info: TensorInfoMap,
  opset: number,
  tokens: number,
): PrunedModel {
  return new HeadTokenPruner(model, info, opset, tokens).run();
}

class HeadTokenPruner {
  private readonly copy: ModelProto;
  private readonly editor: GraphEditor;
  private readonly info: TensorInfoMap;
  private readonly constants: Map<string, TensorProto>;
  private readonly position = new Map<NodeProto, number>();
  private readonly producer = new Map<string, NodeProto>();
  private readonly consumers = new Map<string, Set<NodeProto>>();
  private readonly graphOutputs: Set<string>;
  /** The Slice nodes this pass made, by the tensor they slice. */
  private readonly slices = new Map<string, NodeProto>();
  /** Sliced tensors whose producer the Slice could not move above. */
  private readonly stopped = new Set<string>();
  private readonly replacedIndices = new Set<string>();
  private rows = 0;
  private pruned = 0;
  private nextOffset = 0;

  constructor(
    model: ModelProto,
    info: TensorInfoMap,
    opset: number,
    private readonly tokens: number,
  ) {
    this.copy = cloneForEditing(model);
    this.editor = new GraphEditor(this.copy, opset, 'vsw_rows');
    this.info = new Map(info);
    const g = this.copy.graph!;
    this.graphOutputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
    this.constants = graphConstants(g);
    (g.node ?? []).forEach((n, i) => this.add(n, i));
  }

  run(): PrunedModel {
    const head = this.findHeadRead();
    if (!head) return { model: this.copy, info: this.info, tokensKept: null, opsPruned: 0 };
    this.rows = head.rows;
    const sliced = this.sliceOf(head.tensor);
    for (const reader of head.readers) {
      const input = this.indicesFromFront(reader).map((x) => (x === head.tensor ? sliced : x));
      this.replace(reader, { ...reader, input });
    }
    for (let t = this.nextTensor(); t; t = this.nextTensor()) this.pushUp(t);
    const live = [...this.position].sort((a, b) => a[1] - b[1]).map(([n]) => n);
    this.copy.graph!.node = live;
    // Index constants replaced by their from-the-front copies and read by nothing else.
    this.copy.graph!.initializer = this.copy.graph!.initializer!.filter(
      (t) => !this.replacedIndices.has(t.name ?? '') || (this.consumers.get(t.name!)?.size ?? 0) > 0,
    );
    return { model: this.copy, info: this.info, tokensKept: this.rows, opsPruned: this.pruned };
  }

  /** A [batch, tokens, …] float tensor whose every reader takes rows below some k < tokens. */
  private findHeadRead(): { tensor: string; readers: NodeProto[]; rows: number } | undefined {
    let best: { tensor: string; readers: NodeProto[]; rows: number; at: number } | undefined;
    for (const [tensor, readers] of this.consumers) {
      if (!this.isTokenTensor(tensor) || this.graphOutputs.has(tensor) || readers.size === 0) continue;
      let rows = 0;
      for (const r of readers) {
        const k = r.input?.[0] === tensor ? this.rowsRead(r) : undefined;
        if (k === undefined) {
          rows = this.tokens;
          break;
        }
        rows = Math.max(rows, k);
      }
      const at = this.position.get(this.producer.get(tensor)!) ?? -1;
      if (rows > 0 && rows < this.tokens && (!best || at > best.at))
        best = { tensor, readers: [...readers], rows, at };
    }
    return best;
  }

  /** Rows [0, k) of the token axis that a Gather or Slice reads, or undefined for anything else. */
  private rowsRead(n: NodeProto): number | undefined {
    const rank = this.dims(n.input![0])!.length;
    if (n.opType === 'Gather') {
      if (normaliseAxis(intAttr(n, 'axis', 0), rank) !== TOKEN_AXIS) return undefined;
      const idx = this.ints(n.input![1])?.map((v) => normaliseAxis(v, this.tokens));
      if (!idx?.length || idx.some((v) => v < 0 || v >= this.tokens)) return undefined;
      return Math.max(...idx) + 1;
    }
    if (n.opType === 'Slice') {
      const [, s, e, ax, st] = n.input!;
      const starts = this.ints(s);
      const ends = this.ints(e);
      const axes = ax ? this.ints(ax) : starts?.map((_, i) => i);
      const steps = st ? this.ints(st) : undefined;
      if (!starts || !ends || !axes || axes.length !== 1 || normaliseAxis(axes[0], rank) !== TOKEN_AXIS)
        return undefined;
      if (steps && steps[0] !== 1) return undefined;
      const end = Math.min(normaliseAxis(ends[0], this.tokens), this.tokens);
      return normaliseAxis(starts[0], this.tokens) >= 0 && end > 0 ? end : undefined;
    }
    return undefined;
  }

  /**
   * The reader's inputs with its token indices counted from the front: a negative index counts
   * from the end of the whole token axis, which is not the end of the kept rows (Gather(-2) on
   * T tokens is row T-2, but on the k kept rows it would be row k-2).
   */
  private indicesFromFront(n: NodeProto): string[] {
    const input = [...n.input!];
    const fromFront = (name: string, clampToTokens: boolean): string => {
      const values = this.ints(name)!;
      if (values.every((v) => v >= 0)) return name;
      this.replacedIndices.add(name);
      // A scalar constant has no dims in the protobuf; a Gather by a scalar drops the axis.
      const constant = this.constants.get(name);
      const dims = constant ? (constant.dims ?? []).map(Number) : (this.info.get(name)?.dims ?? []);
      const fixed = values.map((v) => normaliseAxis(v, this.tokens));
      return this.editor.ints(clampToTokens ? fixed.map((v) => Math.min(v, this.tokens)) : fixed, dims);
    };
    if (n.opType === 'Gather') input[1] = fromFront(input[1], false);
    else {
      input[1] = fromFront(input[1], true);
      input[2] = fromFront(input[2], true);
    }
    return input;
  }

  /** The queued sliced tensor whose producer comes last, so all its readers were seen first. */
  private nextTensor(): string | undefined {
    let best: string | undefined;
    let at = -Infinity;
    for (const t of this.slices.keys()) {
      const p = this.producer.get(t);
      const pos = p ? this.position.get(p)! : -1;
      if (p && pos > at && !this.stopped.has(t)) {
        best = t;
        at = pos;
      }
    }
    return best;
  }

  /** Moves the Slice of `t` above t's producer where that op works token by token. */
  private pushUp(t: string): void {
    this.stopped.add(t);
    const slice = this.slices.get(t)!;
    const p = this.producer.get(t)!;
    const readers = this.consumers.get(t)!;
    if (this.graphOutputs.has(t) || readers.size !== 1 || (p.output ?? []).filter(Boolean).length !== 1)
      return;
    const toSlice = this.tokenInputs(p);
    if (!toSlice) return;
    const inputs = p.input!.map((x, i) => (toSlice.includes(i) ? this.sliceOf(x) : x));
    const moved: NodeProto = { ...p, input: inputs, output: [slice.output![0]] };
    const at = this.position.get(p)!;
    this.remove(p);
    this.remove(slice);
    this.slices.delete(t);
    this.add(moved, at);
    this.pruned++;
  }

  /** Which inputs of `p` carry the token axis (to slice), or undefined if p mixes or reshapes tokens. */
  private tokenInputs(p: NodeProto): number[] | undefined {
    const ins = p.input ?? [];
    const out = this.dims(p.output![0]);
    if (!out || out.length < 3 || out[TOKEN_AXIS] !== this.tokens) return undefined;
    const op = p.opType ?? '';
    if ((p.domain ?? '') !== '' && p.domain !== 'ai.onnx') return undefined;
    if (UNARY.has(op)) return this.isTokenTensor(ins[0]) ? [0] : undefined;
    if (BINARY.has(op)) {
      const picked: number[] = [];
      for (let i = 0; i < ins.length; i++) {
        const d = this.dims(ins[i]);
        if (!d) return undefined;
        const axis = TOKEN_AXIS - (out.length - d.length);
        if (axis >= 0 && d[axis] === this.tokens && this.isTokenTensor(ins[i])) picked.push(i);
        else if (axis >= 0 && d[axis] !== 1) return undefined;
      }
      return picked;
    }
    if (op === 'LayerNormalization') {
      const axis = intAttr(p, 'axis', -1);
      return normaliseAxis(axis, out.length) > TOKEN_AXIS && this.isTokenTensor(ins[0]) ? [0] : undefined;
    }
    if (op === 'MatMul')
      return this.isTokenTensor(ins[0]) && this.dims(ins[1])?.length === 2 ? [0] : undefined;
    if (op === 'ReduceMean' || op === 'ReduceSum') {
      const axes = ins[1] ? this.ints(ins[1]) : intsAttr(p, 'axes');
      if (!axes?.length || !this.isTokenTensor(ins[0])) return undefined;
      return axes.every((a) => normaliseAxis(a, out.length) > TOKEN_AXIS) ? [0] : undefined;
    }
    return undefined;
  }

  /** The name of `x` sliced to the kept rows, adding the Slice right after x's producer. */
  private sliceOf(x: string): string {
    const existing = this.slices.get(x);
    if (existing) return existing.output![0];
    const out = this.editor.uniqueName('rows');
    const node: NodeProto = {
      opType: 'Slice',
      name: `${out}_slice`,
      input: [x, this.editor.ints([0]), this.editor.ints([this.rows]), this.editor.ints([TOKEN_AXIS])],
      output: [out],
    };
    const p = this.producer.get(x);
    this.add(node, (p ? this.position.get(p)! : -1) + 0.5 + (this.nextOffset += 1e-6));
    this.slices.set(x, node);
    const info = this.info.get(x)!;
    this.info.set(out, {
      dims: info.dims.map((d, i) => (i === TOKEN_AXIS ? this.rows : d)),
      type: info.type,
    });
    return out;
  }

  private isTokenTensor(name: string | undefined): boolean {
    const i = name ? this.info.get(name) : undefined;
    return !!i && i.type === 'float32' && i.dims.length >= 3 && i.dims[TOKEN_AXIS] === this.tokens;
  }

  private dims(name: string): number[] | undefined {
    return this.info.get(name)?.dims ?? this.constants.get(name)?.dims?.map(Number);
  }

  private ints(name: string): number[] | undefined {
    return knownIntegers(name, this.constants, this.info);
  }

  private add(n: NodeProto, at: number): void {
    this.position.set(n, at);
    for (const o of n.output ?? []) if (o) this.producer.set(o, n);
    for (const x of n.input ?? []) {
      if (!x) continue;
      let set = this.consumers.get(x);
      if (!set) this.consumers.set(x, (set = new Set()));
      set.add(n);
    }
  }

  private remove(n: NodeProto): void {
    this.position.delete(n);
    for (const o of n.output ?? []) if (this.producer.get(o) === n) this.producer.delete(o);
    for (const x of n.input ?? []) this.consumers.get(x)?.delete(n);
  }

  private replace(old: NodeProto, next: NodeProto): void {
    const at = this.position.get(old)!;
    this.remove(old);
    this.add(next, at);
  }
}
