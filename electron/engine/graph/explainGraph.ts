// Builds the explain graph of a ViT export: the original graph plus every block's attention
// (normalised to [batch, heads, T, T]) as outputs and, optionally, the gradients of
// Σ logits ⊙ target_onehot with respect to each attention, with target_onehot a new graph input.
// The analysis (probe run, attention sites, token layout) is kept as JSON-able metadata so that a
// cached graph can be reused without repeating it.
import { EngineError } from '../errors';
import { defaultOpset } from '../onnx/modelFile';
import { DataType, type ModelProto } from '../onnx/onnxSchema';
import { findAttention } from './attentionFinder';
import { buildGradients } from './gradient/gradientBuilder';
import { GradientContext } from './gradient/vjpContext';
import { GraphEditor } from './graphEditor';
import { probeTensors, type TensorInfoMap } from './shapeProbe';
import { inferTokenLayout, type LayoutOverrides, type TokenLayout } from './tokenLayout';
import { inferWindowedBlocks, poolTermNodes, type WindowedBlock, windowedTermNodes } from './windowedLayout';

// 4: graphs cached by 3 may hold a head read by a negative index that pruning broke.
// 5: graphs rewritten for the WebGPU provider's kernels.
// 6: windowed models (per-block term outputs); skipped blocks get no gradient.
export const EXPLAIN_GRAPH_VERSION = 6;
export const TARGET_INPUT = 'vsw_target_onehot';

export interface ModelAnalysis extends TokenLayout {
  version: number;
  opset: number;
  inputName: string;
  /** Per-image input dims [C, H, W]. */
  imageDims: [number, number, number];
  /** The export has batch 1 baked in: runs go one image at a time. */
  fixedBatch: boolean;
  logitsName: string;
  numClasses: number;
  attentionNodes: string[];
  attentionTensors: string[];
  /**
   * Windowed models (Swin): each block's own grid and window layout. Their explain graph gives
   * per-block terms instead of attention matrices; `grid` is then the last block's grid.
   */
  windowed?: WindowedBlock[];
}

export interface ExplainGraph {
  model: ModelProto;
  attentionOutputs: string[];
  /** Present where gradients were built. */
  gradientOutputs?: string[];
}

export interface AnalyseOptions extends LayoutOverrides {
  attentionNodes?: string[];
}

const MIN_OPSET = 13;
const MAX_OPSET = 23; // 21–23 changed no op the engine reads; 23 added Attention (rewritten first)

function imageInput(model: ModelProto): { name: string; dims: (number | undefined)[] } {
  const graph = model.graph!;
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const input = (graph.input ?? []).find((i) => !inits.has(i.name));
  if (!input?.name) throw new EngineError('The model has no input.', 'corrupt-onnx');
  const elem = input.type?.tensorType?.elemType;
  if (elem !== undefined && elem !== DataType.FLOAT)
    throw new EngineError(
      `The model's input '${input.name}' is not float32 (ONNX type ${elem}); only float32 models are supported.`,
      'unsupported-model',
    );
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimValue !== undefined && d.dimValue > 0 ? d.dimValue : undefined,
  );
  return { name: input.name, dims };
}

export async function analyseModel(
  model: ModelProto,
  options: AnalyseOptions = {},
): Promise<{ analysis: ModelAnalysis; info: TensorInfoMap }> {
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new EngineError(
      `The model uses ONNX opset ${opset}; the explain engine supports opsets ${MIN_OPSET}–${MAX_OPSET}. Re-export with opset_version between ${MIN_OPSET} and ${MAX_OPSET}.`,
      'unsupported-opset',
    );
  }
  const input = imageInput(model);
  if (input.dims.length !== 4 || input.dims.slice(1).some((d) => d === undefined)) {
    throw new EngineError(
      `The model input '${input.name}' must have the static shape [batch, C, H, W]; it has [${input.dims.map((d) => d ?? '?').join(', ')}]. Re-export with a fixed image size.`,
      'unsupported-model',
    );
  }
  const imageDims = input.dims.slice(1) as [number, number, number];
  const sites = findAttention(model.graph!, options.attentionNodes);
  let fixedBatch = input.dims[0] !== undefined;
  let probeBatch = fixedBatch ? input.dims[0]! : 2;
  let info: TensorInfoMap;
  try {
    info = await probeTensors(model, input.name, [probeBatch, ...imageDims]);
  } catch (e) {
    if (fixedBatch) throw e;
    // A "dynamic" batch that the graph does not really support (hard-coded reshapes): run singly.
    fixedBatch = true;
    probeBatch = 1;
    info = await probeTensors(model, input.name, [1, ...imageDims]);
  }
  if (fixedBatch && probeBatch !== 1)
    throw new EngineError(
      `The model's batch size is fixed at ${probeBatch}; export it with batch 1 or a dynamic batch.`,
      'unsupported-model',
    );
  const logitsName = model.graph!.output?.[0]?.name ?? '';
  const logits = info.get(logitsName);
  if (!logits || logits.dims.length !== 2 || logits.dims[0] !== probeBatch || logits.type !== 'float32') {
    throw new EngineError(
      `The model's first output '${logitsName}' is not float32 logits of shape [batch, classes] (it is ${logits ? `${logits.type} [${logits.dims.join(', ')}]` : 'unknown'}).`,
      'unsupported-model',
    );
  }
  let layout: TokenLayout;
  let windowed: WindowedBlock[] | undefined;
  try {
    layout = inferTokenLayout(model.graph!, sites, info, probeBatch, options);
  } catch (e) {
    // Attention that is not one token set for every block: try windows traced from the graph.
    if (!(e instanceof EngineError) || e.code !== 'not-supported-yet' || options.grid) throw e;
    windowed = inferWindowedBlocks(model.graph!, sites, info, probeBatch);
    const live = windowed.filter((b) => b.kind !== 'skipped');
    const grid = live[live.length - 1].grid;
    layout = { heads: live[0].heads, tokens: grid[0] * grid[1], grid, prefixTokens: 0, attentionRank: 4 };
  }
  const analysis: ModelAnalysis = {
    version: EXPLAIN_GRAPH_VERSION,
    opset,
    inputName: input.name,
    imageDims,
    fixedBatch,
    logitsName,
    numClasses: logits.dims[1],
    attentionNodes: sites.map((s) => s.label),
    attentionTensors: sites.map((s) => s.tensor),
    ...layout,
    ...(windowed ? { windowed } : {}),
  };
  return { analysis, info };
}

/** A copy of the model whose graph lists can be appended to without touching the original. */
export function cloneForEditing(model: ModelProto): ModelProto {
  const g = model.graph!;
  return {
    ...model,
    graph: {
      ...g,
      node: [...(g.node ?? [])],
      initializer: [...(g.initializer ?? [])],
      input: [...(g.input ?? [])],
      output: [...(g.output ?? [])],
      valueInfo: [...(g.valueInfo ?? [])],
    },
  };
}

/**
 * Where the gradients' seed comes from: 'input' — the one-hot rows fed as TARGET_INPUT; 'top1' —
 * the one-hot of each image's arg-max logit, made inside the graph (first index on ties, as
 * Array.indexOf of the maximum), so that one run gives the prediction and its explanation.
 */
export type TargetSource = 'input' | 'top1';

/** The backward pass's seed: the one-hot targets, fed as TARGET_INPUT or made from the arg-max. */
export function targetSeed(editor: GraphEditor, analysis: ModelAnalysis, targets: TargetSource): string {
  if (targets === 'top1') return firstMaxOneHot(editor, analysis.logitsName);
  editor.addInput(TARGET_INPUT, DataType.FLOAT, ['batch', analysis.numClasses]);
  return TARGET_INPUT;
}

/**
 * Appends to `editor`'s graph: the normalised attentions and (with `gradients`) their gradients.
 * Returns the tensor names; does not add graph outputs.
 */
export function appendExplainNodes(
  editor: GraphEditor,
  analysis: ModelAnalysis,
  info: TensorInfoMap | undefined,
  gradients: boolean,
  targets: TargetSource = 'input',
): { attention: string[]; gradient?: string[] } {
  const { heads, tokens } = analysis;
  const normalise = (t: string): string =>
    analysis.attentionRank === 4 || analysis.windowed
      ? t
      : editor.op('Reshape', [t, editor.ints([-1, heads, tokens, tokens])]);
  const attention = analysis.attentionTensors.map(normalise);
  if (!gradients) return { attention };
  if (!info) throw new Error('internal: building gradients needs the probe information');
  // Blocks left out of the product (outlook attention) need no gradient: '' in their place.
  const wanted = analysis.attentionTensors.filter((_, b) => analysis.windowed?.[b].kind !== 'skipped');
  const raw = buildGradients(new GradientContext(editor, info), {
    output: analysis.logitsName,
    seed: targetSeed(editor, analysis, targets),
    wrt: wanted,
  });
  const byTensor = new Map(wanted.map((t, i) => [t, normalise(raw[i])]));
  return { attention, gradient: analysis.attentionTensors.map((t) => byTensor.get(t) ?? '') };
}

/**
 * Per row of [batch, classes], 1 at the first largest value and 0 elsewhere (the one-hot of
 * ArgMax), in float ops only: ORT's WebGPU provider has no OneHot kernel. A running count of the
 * row's maxima keeps only the first on ties.
 */
function firstMaxOneHot(editor: GraphEditor, logits: string): string {
  const isMax = editor.op(
    'Cast',
    [editor.op('Equal', [logits, editor.reduce('ReduceMax', logits, [1], true)])],
    {
      to: DataType.FLOAT,
    },
  );
  const seen = editor.op('CumSum', [isMax, editor.ints([1], [])]);
  const first = editor.op('Cast', [editor.op('Equal', [seen, editor.float(1)])], { to: DataType.FLOAT });
  return editor.op('Mul', [isMax, first]);
}

/**
 * The explain graph: original outputs + attentions (+ gradients) as named outputs. For windowed
 * models, per-block terms on each block's own grid instead ([batch, rows·cols]): of A alone as the
 * attentions, of A ⊙ G as the gradients.
 */
export function buildExplainGraph(
  model: ModelProto,
  analysis: ModelAnalysis,
  info: TensorInfoMap,
  gradients: boolean,
): ExplainGraph {
  const copy = cloneForEditing(model);
  const editor = new GraphEditor(copy, analysis.opset);
  const { attention, gradient } = appendExplainNodes(editor, analysis, info, gradients);
  const windowed = analysis.windowed;
  copy.graph!.output = [copy.graph!.output![0]];
  // Outlook blocks of windowed models are not in the product and get no outputs.
  const blocks = analysis.attentionTensors.map((_, b) => b).filter((b) => windowed?.[b].kind !== 'skipped');
  const output = (t: string, name: string, b: number): string => {
    const block = windowed?.[b];
    renameOutput(editor, block ? windowedTermNodes(editor, t, block) : t, name);
    const dims = block
      ? ['batch', block.grid[0] * block.grid[1]]
      : ['batch', analysis.heads, analysis.tokens, analysis.tokens];
    editor.addOutput(name, DataType.FLOAT, dims);
    return name;
  };
  const attentionOutputs = blocks.map((b) => output(attention[b], `vsw_attention_${b}`, b));
  // Windowed blocks give the term of A ⊙ G in place of the gradient itself.
  const gradientOutputs = gradient
    ? blocks.map((b) =>
        output(
          windowed ? editor.op('Mul', [analysis.attentionTensors[b], gradient[b]]) : gradient[b],
          `vsw_gradient_${b}`,
          b,
        ),
      )
    : undefined;
  return { model: copy, attentionOutputs, gradientOutputs };
}

/** A windowed block's term (of A, or of A ⊙ G) pooled onto the model's grid, [batch, cells]. */
export function pooledWindowedTerm(
  editor: GraphEditor,
  analysis: ModelAnalysis,
  b: number,
  x: string,
): string {
  const block = analysis.windowed![b];
  return poolTermNodes(editor, windowedTermNodes(editor, x, block), block.grid, analysis.grid);
}

/** Exposes tensor `t` under a stable output name (an Identity, which ORT folds away). */
function renameOutput(editor: GraphEditor, t: string, name: string): string {
  editor.node('Identity', [t], {}, [name]);
  return name;
}
