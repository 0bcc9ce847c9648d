// Fused transformer ops rewritten into ONNX primitives before a model is explained, so that every
// block's attention probabilities are a Softmax output feeding the product with V (what the
// attention finder looks for) and every op on the gradient path has a rule: ONNX `Attention`
// (opset 23), ORT's com.microsoft `Attention`, `MultiHeadAttention` and `GroupQueryAttention`, and
// the ops ORT's transformer optimizer fuses around them (`SkipLayerNormalization`, `BiasGelu`,
// `FastGelu`, `Gelu`). The forms ViT exports use are rewritten; anything else (caches, rotary
// embeddings, padding masks, packed inputs) is refused with the op, the node and the input or
// attribute named.
import { EngineError } from '../errors';
import { readModelAsFloat32 } from '../onnx/float16Upcast';
import { defaultOpset } from '../onnx/modelFile';
import { DataType, type ModelProto, type NodeProto } from '../onnx/onnxSchema';
import { floatTensor } from '../onnx/tensorData';
import { GraphEditor } from './graphEditor';
import { floatAttr, intAttr, intsAttr } from './nodeAttributes';

const MS = 'com.microsoft';
/** Masked scores: far below any real score, so exp() gives exactly 0, yet finite. */
const MASKED = -1e30;
/** Fused attention ops no ViT export writes and that are not rewritten. */
const REFUSED_ATTENTION = [
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderMaskedMultiHeadAttention',
  'DecoderMaskedSelfAttention',
  'SparseAttention',
  'LongformerAttention',
  'QAttention',
];

export interface FusedRewrite {
  model: ModelProto;
  /** "OpType 'node'" of every node rewritten (empty: the model came back unchanged). */
  rewritten: string[];
}

interface AttentionCore {
  /** [B, H, S, d], [B, Hkv, L, d], [B, Hkv, L, dv]. */
  q: string;
  k: string;
  v: string;
  /** Query heads and key/value heads, where known: key/value heads are repeated per group. */
  heads?: number;
  kvHeads?: number;
  /** The scale of Q·Kᵀ; default 1/sqrt(d) from Q's shape. */
  scale?: number;
  /** Float tensors added to the scores (attention bias, additive masks). */
  add: string[];
  /** Boolean masks (true: may attend). */
  keep: string[];
  causal: boolean;
}

class Rewriter {
  readonly rewritten: string[] = [];
  private readonly used = new Set<string>();
  private readonly types = new Map<string, number>();
  private readonly rank = new Map<string, number>();
  private readonly initializerDims = new Map<string, number[]>();

  constructor(
    readonly e: GraphEditor,
    nodes: NodeProto[],
  ) {
    const g = e.graph;
    for (const n of nodes) for (const x of n.input ?? []) if (x) this.used.add(x);
    for (const o of g.output ?? []) if (o.name) this.used.add(o.name);
    for (const t of g.initializer ?? []) {
      this.types.set(t.name ?? '', t.dataType ?? 0);
      this.initializerDims.set(t.name ?? '', t.dims ?? []);
    }
    for (const v of [...(g.input ?? []), ...(g.valueInfo ?? [])]) {
      const tt = v.type?.tensorType;
      if (!v.name || !tt) continue;
      if (tt.elemType !== undefined) this.types.set(v.name, tt.elemType);
      if (tt.shape?.dim) this.rank.set(v.name, tt.shape.dim.length);
    }
  }

  private label(n: NodeProto): string {
    return `${n.opType} node '${n.name || n.output?.[0]}'`;
  }

  refuse(
    n: NodeProto,
    what: string,
    todo = 'Export the model without it, or without attention fusion',
  ): never {
    throw new EngineError(
      `The model's ${this.label(n)} uses ${what}, which the explain engine cannot rewrite into plain ops (it rewrites the forms ViT exports use). ${todo}.`,
      'unsupported-model',
    );
  }

  /** Refuses the named optional inputs where they are given. */
  private refuseInputs(n: NodeProto, names: Record<number, string>): void {
    for (const [k, name] of Object.entries(names))
      if (n.input?.[Number(k)]) this.refuse(n, `input ${k} (${name})`);
  }

  /** Refuses the named optional outputs where the graph reads them. */
  private refuseReadOutputs(n: NodeProto, names: Record<number, string>): void {
    for (const [k, name] of Object.entries(names)) {
      const o = n.output?.[Number(k)];
      if (o && this.used.has(o)) this.refuse(n, `output ${k} (${name}), which the graph reads`);
    }
  }

  private numHeads(n: NodeProto, name = 'num_heads'): number {
    const heads = intAttr(n, name, 0);
    if (heads <= 0) this.refuse(n, `no positive ${name} attribute`, `Set ${name} on the node`);
    return heads;
  }

  /** Refuses the named attributes where they are set to anything but 0. */
  private refuseNonZero(n: NodeProto, names: string[]): void {
    for (const a of names)
      if ((intAttr(n, a) ?? 0) !== 0 || floatAttr(n, a, 0) !== 0) this.refuse(n, `attribute ${a}`);
  }

  /** [B, S, H·d] → [B, H, S, d]. */
  private heads(x: string, heads: number): string {
    const e = this.e;
    return e.op('Transpose', [e.op('Reshape', [x, e.ints([0, 0, heads, -1])])], { perm: [0, 2, 1, 3] });
  }

  /** [B, H, S, d] → [B, S, H·d] into the given name. */
  private merge(x: string, out: string): void {
    const e = this.e;
    e.node('Reshape', [e.op('Transpose', [x], { perm: [0, 2, 1, 3] }), e.ints([0, 0, -1])], {}, [out]);
  }

  /** softmax(scale · Q·Kᵀ + masks) · V, [B, H, S, dv]; the Softmax is what the finder finds. */
  private attention(n: NodeProto, c: AttentionCore): string {
    const e = this.e;
    if (c.causal && e.opset < 14)
      this.refuse(n, `a causal mask at opset ${e.opset}`, 'Re-export at opset 14 or later (Trilu)');
    let { k, v } = c;
    if (c.heads && c.kvHeads && c.kvHeads !== c.heads) {
      if (c.heads % c.kvHeads !== 0)
        this.refuse(n, `${c.heads} query heads on ${c.kvHeads} key/value heads`, 'Check the head counts');
      // Grouped key/value heads: query head h reads key/value head floor(h / group), so each is
      // repeated group times in place ([B, Hkv, L, d] → [B, Hkv, group, L, d] → [B, H, L, d]).
      // Expand rather than a Gather by head, which WebGPU would run on the CPU.
      const group = c.heads / c.kvHeads;
      const repeat = (t: string): string => {
        const shape = e.op('Shape', [t]);
        const target = e.op(
          'Concat',
          [e.slice(shape, [0], [1], [0]), e.ints([c.heads!]), e.slice(shape, [2], [4], [0])],
          { axis: 0 },
        );
        const spread = e.op('Expand', [e.unsqueeze(t, [2]), e.ints([1, 1, group, 1, 1])]);
        return e.op('Reshape', [spread, target]);
      };
      k = repeat(k);
      v = repeat(v);
    }
    let scores = e.op('MatMul', [c.q, e.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
    const scale =
      c.scale !== undefined
        ? e.float(c.scale)
        : e.op('Reciprocal', [
            e.op('Sqrt', [
              e.op('Cast', [e.op('Gather', [e.op('Shape', [c.q]), e.ints([3])], { axis: 0 })], {
                to: DataType.FLOAT,
              }),
            ]),
          ]);
    scores = e.op('Mul', [scores, scale]);
    for (const a of c.add) scores = e.op('Add', [scores, a]);
    for (const keep of c.keep) scores = e.op('Where', [keep, scores, e.float(MASKED)]);
    if (c.causal) {
      // Keys after the query masked: the strict upper triangle of a [.., S, L] block.
      const fill = e.op('ConstantOfShape', [e.op('Shape', [scores])], {
        value: floatTensor('', [1], [MASKED]),
      });
      scores = e.op('Add', [scores, e.op('Trilu', [fill, e.ints([1], [])], { upper: 1 })]);
    }
    const probs = e.op('Softmax', [scores], { axis: -1 });
    return e.op('MatMul', [probs, v]);
  }

  private addBias(x: string, bias: string | undefined): string {
    return bias ? this.e.op('Add', [x, bias]) : x;
  }

  /** com.microsoft Attention: one packed projection [in, Dq + Dk + Dv] of one input. */
  msAttention(n: NodeProto): void {
    const [x, weights, bias, , , attentionBias] = n.input ?? [];
    this.refuseInputs(n, { 3: 'mask_index', 4: 'past', 6: 'past_sequence_length' });
    this.refuseReadOutputs(n, { 1: 'present' });
    this.refuseNonZero(n, ['do_rotary', 'past_present_share_buffer']);
    const heads = this.numHeads(n);
    let sizes = intsAttr(n, 'qkv_hidden_sizes');
    if (!sizes || sizes.length === 0) {
      const dims = this.initializerDims.get(weights);
      if (!dims || dims.length !== 2 || dims[1] % 3 !== 0)
        this.refuse(n, 'weights that are not a constant [in, 3·hidden] and no qkv_hidden_sizes attribute');
      sizes = [dims[1] / 3, dims[1] / 3, dims[1] / 3];
    }
    const e = this.e;
    const [q, k, v] = e.split(this.addBias(e.op('MatMul', [x, weights]), bias), -1, sizes);
    const context = this.attention(n, {
      q: this.heads(q, heads),
      k: this.heads(k, heads),
      v: this.heads(v, heads),
      scale: floatAttr(n, 'scale', 0) || 1 / Math.sqrt(sizes[0] / heads),
      add: attentionBias ? [attentionBias] : [],
      keep: [],
      causal: intAttr(n, 'unidirectional', 0) !== 0,
    });
    this.merge(context, n.output![0]);
  }

  /** com.microsoft MultiHeadAttention with separate [B, S, D] query, key and value. */
  msMultiHeadAttention(n: NodeProto): void {
    const [query, key, value, bias, , attentionBias] = n.input ?? [];
    if (!key) this.refuse(n, 'packed query/key/value in its query input (key empty)');
    if (!value) this.refuse(n, 'packed key/value in its key input (value empty)');
    if (this.rank.get(key) === 4 || this.rank.get(value) === 4)
      this.refuse(n, 'key and value already split into heads ([B, heads, L, d])');
    this.refuseInputs(n, {
      4: 'key_padding_mask',
      6: 'past_key',
      7: 'past_value',
      8: 'past_sequence_length',
      9: 'cache_indirection',
    });
    this.refuseReadOutputs(n, { 1: 'present_key', 2: 'present_value', 3: 'qk' });
    const heads = this.numHeads(n);
    const e = this.e;
    let biases: (string | undefined)[] = [undefined, undefined, undefined];
    if (bias) {
      const dims = this.initializerDims.get(bias);
      if (!dims || dims.length !== 1 || dims[0] % 3 !== 0)
        this.refuse(n, 'a bias that is not a constant of 3·hidden values');
      biases = e.split(bias, 0, [dims[0] / 3, dims[0] / 3, dims[0] / 3]);
    }
    const scale = floatAttr(n, 'scale', 0);
    const context = this.attention(n, {
      q: this.heads(this.addBias(query, biases[0]), heads),
      k: this.heads(this.addBias(key, biases[1]), heads),
      v: this.heads(this.addBias(value, biases[2]), heads),
      scale: scale || undefined,
      add: attentionBias ? [attentionBias] : [],
      keep: [],
      causal: intAttr(n, 'unidirectional', 0) !== 0,
    });
    this.merge(context, n.output![0]);
  }

  /**
   * com.microsoft GroupQueryAttention without a cache: causal attention (the op has no other
   * kind), key/value heads shared by groups of query heads. seqlens_k is not read: every sequence
   * of a ViT batch is whole, so every key up to the query counts.
   */
  msGroupQueryAttention(n: NodeProto): void {
    const [query, key, value, , , , , , , , attentionBias] = n.input ?? [];
    this.refuseInputs(n, {
      3: 'past_key',
      4: 'past_value',
      7: 'cos_cache',
      8: 'sin_cache',
      9: 'position_ids',
      11: 'head_sink',
    });
    this.refuseReadOutputs(n, { 1: 'present_key', 2: 'present_value', 3: 'output_qk' });
    this.refuseNonZero(n, ['do_rotary', 'softcap', 'smooth_softmax', 'qk_output']);
    if (intAttr(n, 'local_window_size', -1) !== -1) this.refuse(n, 'attribute local_window_size');
    const heads = this.numHeads(n);
    const kvHeads = this.numHeads(n, 'kv_num_heads');
    const e = this.e;
    let q: string, k: string, v: string;
    if (!key) {
      // Packed [B, S, (H + 2·Hkv)·d]: heads first, then split.
      const all = e.op('Reshape', [query, e.ints([0, 0, heads + 2 * kvHeads, -1])]);
      [q, k, v] = e
        .split(all, 2, [heads, kvHeads, kvHeads])
        .map((t) => e.op('Transpose', [t], { perm: [0, 2, 1, 3] }));
    } else {
      [q, k, v] = [this.heads(query, heads), this.heads(key, kvHeads), this.heads(value, kvHeads)];
    }
    const scale = floatAttr(n, 'scale', 0);
    const context = this.attention(n, {
      q,
      k,
      v,
      heads,
      kvHeads,
      scale: scale || undefined,
      add: attentionBias ? [attentionBias] : [],
      keep: [],
      causal: true,
    });
    this.merge(context, n.output![0]);
  }

  /** ONNX Attention (opset 23): [B, H, S, d] inputs, or [B, S, H·d] with q_num_heads given. */
  onnxAttention(n: NodeProto): void {
    const [query, key, value, mask] = n.input ?? [];
    this.refuseInputs(n, { 4: 'past_key', 5: 'past_value', 6: 'nonpad_kv_seqlen' });
    this.refuseReadOutputs(n, { 1: 'present_key', 2: 'present_value', 3: 'qk_matmul_output' });
    this.refuseNonZero(n, ['softcap']);
    const qHeads = intAttr(n, 'q_num_heads');
    const kvHeads = intAttr(n, 'kv_num_heads');
    const threeD = qHeads !== undefined;
    if (threeD && kvHeads === undefined) this.refuse(n, 'q_num_heads without kv_num_heads');
    const add: string[] = [];
    const keep: string[] = [];
    if (mask) {
      const type = this.types.get(mask);
      if (type === DataType.BOOL) keep.push(mask);
      else if (type === DataType.FLOAT) add.push(mask);
      else this.refuse(n, `an attn_mask ('${mask}') whose element type is not known from the graph`);
    }
    const scale = floatAttr(n, 'scale', 0);
    // Head counts of the 4-D form from the exporter's value_info, where it wrote them.
    const dim1 = (t: string): number | undefined => {
      const v = (this.e.graph.valueInfo ?? []).find((i) => i.name === t);
      const d = v?.type?.tensorType?.shape?.dim?.[1]?.dimValue;
      return d && d > 0 ? d : undefined;
    };
    const context = this.attention(n, {
      q: threeD ? this.heads(query, qHeads) : query,
      k: threeD ? this.heads(key, kvHeads!) : key,
      v: threeD ? this.heads(value, kvHeads!) : value,
      heads: threeD ? qHeads : dim1(query),
      kvHeads: threeD ? kvHeads : dim1(key),
      scale: scale || undefined,
      add,
      keep,
      causal: intAttr(n, 'is_causal', 0) !== 0,
    });
    if (threeD) this.merge(context, n.output![0]);
    else this.e.node('Identity', [context], {}, [n.output![0]]);
  }

  /** SkipLayerNormalization: LayerNorm(input + skip + bias); output 3 is that sum. */
  skipLayerNorm(n: NodeProto, simplified: boolean): void {
    if (simplified) this.refuse(n, 'RMS normalisation (SkipSimplifiedLayerNormalization)');
    const [x, skip, gamma, beta, bias] = n.input ?? [];
    this.refuseReadOutputs(n, { 1: 'mean', 2: 'inv_std_var' });
    const e = this.e;
    const sum = this.addBias(e.op('Add', [x, skip]), bias);
    const epsilon = floatAttr(n, 'epsilon', 1e-12);
    const out = n.output![0];
    if (e.opset >= 17) {
      e.node(
        'LayerNormalization',
        [sum, gamma, beta ?? ''].filter((t, i) => i < 2 || t),
        { axis: -1, epsilon: { f: epsilon } },
        [out],
      );
    } else {
      const centred = e.op('Sub', [sum, e.reduce('ReduceMean', sum, [-1], true)]);
      const variance = e.reduce('ReduceMean', e.op('Mul', [centred, centred]), [-1], true);
      const normed = e.op('Div', [centred, e.op('Sqrt', [e.op('Add', [variance, e.float(epsilon)])])]);
      const scaled = e.op('Mul', [normed, gamma]);
      e.node(beta ? 'Add' : 'Identity', beta ? [scaled, beta] : [scaled], {}, [out]);
    }
    const total = n.output?.[3];
    if (total) e.node('Identity', [sum], {}, [total]);
  }

  /** Gelu / BiasGelu (erf) and FastGelu (tanh) of x (+ bias). */
  gelu(n: NodeProto, tanh: boolean): void {
    const [x, bias] = n.input ?? [];
    const e = this.e;
    const y = this.addBias(x, bias);
    const out = n.output![0];
    if (e.opset >= 20) {
      e.node('Gelu', [y], { approximate: tanh ? 'tanh' : 'none' }, [out]);
      return;
    }
    let inner: string;
    if (tanh) {
      // 0.5·y·(1 + tanh(sqrt(2/π)·(y + 0.044715·y³)))
      const cube = e.op('Mul', [e.op('Mul', [y, y]), y]);
      const arg = e.op('Add', [y, e.op('Mul', [cube, e.float(0.044715)])]);
      inner = e.op('Tanh', [e.op('Mul', [arg, e.float(Math.sqrt(2 / Math.PI))])]);
    } else {
      inner = e.op('Erf', [e.op('Mul', [y, e.float(Math.SQRT1_2)])]);
    }
    const half = e.op('Mul', [y, e.float(0.5)]);
    e.node('Mul', [half, e.op('Add', [inner, e.float(1)])], {}, [out]);
  }

  /** Rewrites one node into primitives; false: not a fused op, keep it. */
  rewrite(n: NodeProto): boolean {
    const domain = n.domain ?? '';
    const op = n.opType ?? '';
    if (domain === '' || domain === 'ai.onnx') {
      if (op !== 'Attention') return false;
      this.onnxAttention(n);
    } else if (domain === MS) {
      if (op === 'Attention') this.msAttention(n);
      else if (op === 'MultiHeadAttention') this.msMultiHeadAttention(n);
      else if (op === 'GroupQueryAttention') this.msGroupQueryAttention(n);
      else if (op === 'SkipLayerNormalization' || op === 'SkipSimplifiedLayerNormalization')
        this.skipLayerNorm(n, op === 'SkipSimplifiedLayerNormalization');
      else if (op === 'Gelu' || op === 'BiasGelu') this.gelu(n, false);
      else if (op === 'FastGelu') this.gelu(n, true);
      else if (REFUSED_ATTENTION.includes(op))
        this.refuse(n, 'a fused attention op', 'Export the model without attention fusion');
      else return false;
    } else {
      return false;
    }
    this.rewritten.push(this.label(n));
    return true;
  }
}

/**
 * The model with its fused transformer ops written as primitives, in place (node order kept), or
 * the model itself where it has none. The graph computes the same function.
 */
export function rewriteFusedOps(model: ModelProto): FusedRewrite {
  const nodes = model.graph?.node ?? [];
  const fused = (n: NodeProto): boolean =>
    n.domain === MS || ((n.domain ?? '') === '' && n.opType === 'Attention');
  if (!nodes.some(fused)) return { model, rewritten: [] };
  const graph = { ...model.graph!, node: [...nodes], initializer: [...(model.graph!.initializer ?? [])] };
  const copy: ModelProto = { ...model, graph };
  // The editor reserves the original names; then the node list is rebuilt, rewrites in place.
  const editor = new GraphEditor(copy, defaultOpset(model), 'vsw_unfused');
  graph.node = [];
  const rewriter = new Rewriter(editor, nodes);
  for (const n of nodes) if (!rewriter.rewrite(n)) graph.node.push(n);
  return { model: copy, rewritten: rewriter.rewritten };
}

/**
 * A model file as the explain engine reads it: float16 exports upcast (float16Upcast.ts), fused
 * ops rewritten. `original` is the upcast model before the rewrite.
 */
export function readModelForExplain(file: string): FusedRewrite & {
  original: ModelProto;
  sha256: string;
  float16: boolean;
} {
  const read = readModelAsFloat32(file);
  return { ...read, original: read.model, ...rewriteFusedOps(read.model) };
}
