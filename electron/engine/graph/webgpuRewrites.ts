// Rewrites a built graph so that ONNX Runtime's WebGPU provider has a kernel for every node that
// touches image data: ops it lacks become ops it has, with the same values. Without this, ORT
// places those nodes on the CPU and copies activations GPU↔CPU inside every block (issue 14: 141
// of 1,243 explain-graph nodes, 22 img/s instead of hundreds). The graph stays valid for every
// provider, so the CPU runs the same graph (maps equal within float rounding).
import type { GraphProto, ModelProto, NodeProto } from '../onnx/onnxSchema';
import { tensorIntegers } from '../onnx/tensorData';
import { activationTensors, graphConstants } from './graphConstants';
import { GraphEditor } from './graphEditor';
import { intAttr } from './nodeAttributes';
import { missingWebGpuKernel } from './webgpuKernels';

/**
 * Nodes on activations that the WebGPU provider would run on the CPU: no kernel for their op at
 * `opset`, or (where `types` gives the element type of tensors) none for their input types.
 */
export function cpuBoundActivationNodes(
  graph: GraphProto,
  opset: number,
  types?: ReadonlyMap<string, number>,
): { node: NodeProto; why: string }[] {
  const live = activationTensors(graph);
  const out: { node: NodeProto; why: string }[] = [];
  for (const node of graph.node ?? []) {
    const ins = node.input ?? [];
    // ORT removes an Identity, except before a graph output (the hand-off to the caller).
    if (node.opType === 'Identity' || !ins.some((x) => x && live.has(x))) continue;
    const inputTypes = ins.map((x) => (x && live.has(x) ? types?.get(x) : undefined));
    const why = missingWebGpuKernel(node.opType ?? '', node.domain ?? '', opset, inputTypes);
    if (why) out.push({ node, why });
  }
  return out;
}

/** A Slice end that reaches the end of any axis. */
const TO_END = Number.MAX_SAFE_INTEGER;

/**
 * Rewrites `model`'s graph in place: Sum → a balanced tree of Add; Gather with constant scalar or
 * contiguous indices on an activation → Slice (+ Squeeze for a scalar index). Returns how many
 * nodes were rewritten.
 */
export function rewriteForWebGpu(model: ModelProto, opset: number): number {
  const graph = model.graph!;
  const live = activationTensors(graph);
  const constants = graphConstants(graph);
  const editor = new GraphEditor(model, opset, 'vsw_gpu');
  const original = graph.node ?? [];
  graph.node = [];
  let rewritten = 0;
  const orphans = new Set<string>();
  for (const node of original) {
    const ins = node.input ?? [];
    const outs = node.output ?? [];
    if (node.opType === 'Sum' && (node.domain ?? '') === '' && ins.length !== 2) {
      emitSum(editor, ins, outs[0]);
      rewritten++;
      continue;
    }
    if (node.opType === 'Sum' && (node.domain ?? '') === '') {
      editor.node('Add', ins, {}, [outs[0]]);
      rewritten++;
      continue;
    }
    if (node.opType === 'Gather' && (node.domain ?? '') === '' && live.has(ins[0]) && !live.has(ins[1])) {
      const index = constants.get(ins[1]);
      if (index && gatherAsSlice(editor, node, tensorIntegers(index), (index.dims ?? []).length)) {
        orphans.add(ins[1]);
        rewritten++;
        continue;
      }
    }
    graph.node.push(node);
  }
  dropUnusedConstants(graph, orphans);
  return rewritten;
}

/** Removes the constants in `names` that no node or output reads any more (ORT warns about them). */
function dropUnusedConstants(graph: GraphProto, names: Set<string>): void {
  const used = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  for (const n of graph.node ?? []) for (const x of n.input ?? []) used.add(x);
  const gone = (name: string | undefined) => !!name && names.has(name) && !used.has(name);
  graph.node = (graph.node ?? []).filter((n) => !(n.opType === 'Constant' && gone(n.output?.[0])));
  graph.initializer = (graph.initializer ?? []).filter((t) => !gone(t.name));
}

/** Σ inputs as a balanced tree of Add (shorter dependency chains than a left fold), into `out`. */
function emitSum(editor: GraphEditor, inputs: string[], out: string): void {
  if (inputs.length === 1) {
    editor.node('Identity', inputs, {}, [out]);
    return;
  }
  let level = inputs;
  while (level.length > 2) {
    const next: string[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(editor.op('Add', [level[i], level[i + 1]]));
    if (level.length % 2) next.push(level[level.length - 1]);
    level = next;
  }
  editor.node('Add', level, {}, [out]);
}

/** Emits the Slice (+ Squeeze) form of a constant-index Gather; false where it does not apply. */
function gatherAsSlice(editor: GraphEditor, node: NodeProto, indices: number[], indexRank: number): boolean {
  const axis = intAttr(node, 'axis', 0);
  const out = node.output![0];
  const x = node.input![0];
  if (indexRank > 1 || indices.length === 0) return false;
  const first = indices[0];
  const last = indices[indices.length - 1];
  const contiguous = indices.every((v, i) => v === first + i);
  // Negative and non-negative indices mixed cannot be one slice without the axis length.
  if (!contiguous || (first < 0 && last >= 0)) return false;
  const end = last === -1 ? TO_END : last + 1;
  if (indexRank === 0) {
    const piece = editor.slice(x, [first], [end], [axis]);
    editor.node('Squeeze', [piece, editor.ints([axis])], {}, [out]);
  } else {
    editor.node('Slice', [x, editor.ints([first]), editor.ints([end]), editor.ints([axis])], {}, [out]);
  }
  return true;
}
