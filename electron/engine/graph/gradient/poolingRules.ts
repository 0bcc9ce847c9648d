// Vector-Jacobian rules of the ops that gather values from windows or pick one out of many:
// AveragePool, GlobalAveragePool, ReduceMax / ReduceMin and Col2Im (VOLO's fold, whose adjoint is the unfold).
import { floatTensor } from '../../onnx/tensorData';
import { DataType, type NodeProto } from '../../onnx/onnxSchema';
import { intAttr, intsAttr, stringAttr } from '../nodeAttributes';
import { keptReductionGradient, unsupported, type VjpRule } from './vjpContext';

interface WindowAttrs {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin pads then end pads, one per spatial axis. */
  pads: number[];
}

function windowAttrs(node: NodeProto, kernel: number[]): WindowAttrs {
  const n = kernel.length;
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID')
    throw unsupported(node, `auto_pad ${autoPad} has no gradient rule yet; export with explicit pads`);
  return {
    kernel,
    strides: intsAttr(node, 'strides') ?? new Array<number>(n).fill(1),
    dilations: intsAttr(node, 'dilations') ?? new Array<number>(n).fill(1),
    pads:
      autoPad === 'VALID'
        ? new Array<number>(2 * n).fill(0)
        : (intsAttr(node, 'pads') ?? new Array<number>(2 * n).fill(0)),
  };
}

/**
 * AveragePool: every input element receives the gradient of each window it lies in, divided by
 * that window's divisor. The spreading is a depthwise ConvTranspose with a kernel of ones.
 */
const averagePool: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  const { node, ctx } = a;
  const e = ctx.editor;
  const x = node.input![0];
  const dims = ctx.dims(x);
  const outDims = ctx.dims(node.output![0], node);
  const kernel = intsAttr(node, 'kernel_shape') ?? [];
  if (intAttr(node, 'ceil_mode', 0) !== 0)
    throw unsupported(node, 'AveragePool with ceil_mode has no gradient rule yet');
  const w = windowAttrs(node, kernel);
  const n = kernel.length;
  const area = kernel.reduce((p, q) => p * q, 1);
  const padded = w.pads.some((p) => p !== 0);
  // dilations exist on AveragePool from opset 19 only: name them only where they are not 1.
  const dilated = w.dilations.some((d) => d !== 1);
  const convAttrs = { strides: w.strides, pads: w.pads, dilations: dilated ? w.dilations : undefined };
  const channels = dims[1];
  const ones = e.float(new Array<number>(channels * area).fill(1), [channels, 1, ...kernel]);
  let scaled: string;
  if (padded && intAttr(node, 'count_include_pad', 0) === 0) {
    // The divisor of each window is the number of real (unpadded) elements it covers.
    const onesLike = e.op('ConstantOfShape', [ctx.shapeOf(x)], { value: floatTensor('one', [1], [1]) });
    const counted = e.op('AveragePool', [onesLike], {
      kernel_shape: kernel,
      ...convAttrs,
      count_include_pad: 1,
    });
    scaled = e.op('Div', [g, e.op('Mul', [counted, e.float(area)])]);
  } else scaled = e.op('Mul', [g, e.float(1 / area)]);
  const outputPadding = Array.from({ length: n }, (_, i) => {
    const reach = w.strides[i] * (outDims[2 + i] - 1) + (kernel[i] - 1) * w.dilations[i] + 1;
    return dims[2 + i] - (reach - w.pads[i] - w.pads[n + i]);
  });
  return [
    e.op('ConvTranspose', [scaled, ones], {
      ...convAttrs,
      group: channels,
      kernel_shape: kernel,
      output_padding: outputPadding.some((p) => p !== 0) ? outputPadding : undefined,
    }),
  ];
};

/** GlobalAveragePool: every spatial element receives its channel's gradient over the window size. */
const globalAveragePool: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  const { node, ctx } = a;
  const x = node.input![0];
  const spatial = ctx.dims(x).slice(2);
  const scaled = ctx.editor.op('Mul', [g, ctx.editor.float(1 / spatial.reduce((p, q) => p * q, 1))]);
  return [ctx.editor.op('Expand', [scaled, ctx.shapeOf(x)])];
};

/**
 * ReduceMax / ReduceMin. Over one axis the gradient goes to the first extreme element, as
 * PyTorch's max(dim) sends it to the index it returns; over several axes it is split evenly between
 * ties, as PyTorch's amax does.
 */
function extremum(opType: 'ReduceMax' | 'ReduceMin'): VjpRule {
  return (a) => {
    const g = a.gradOut(0);
    if (!g || !a.needs(0)) return [];
    const { node, ctx } = a;
    const e = ctx.editor;
    const x = node.input![0];
    const y = node.output![0];
    const kept = keptReductionGradient(ctx, node, g);
    if (kept === undefined) return [g];
    const { gKeep, axes, dims, keepdims } = kept;
    let mask: string;
    if (axes.length === 1) {
      const axis = axes[0];
      const arg = e.op(opType === 'ReduceMax' ? 'ArgMax' : 'ArgMin', [x], {
        axis,
        keepdims: 1,
        select_last_index: 0,
      });
      const positions = e.ints(
        Array.from({ length: dims[axis] }, (_, i) => i),
        [dims[axis], ...new Array<number>(dims.length - axis - 1).fill(1)],
      );
      mask = e.op('Cast', [e.op('Equal', [positions, arg])], { to: DataType.FLOAT });
    } else {
      const hit = e.op('Cast', [e.op('Equal', [x, keepdims ? y : e.unsqueeze(y, axes)])], {
        to: DataType.FLOAT,
      });
      mask = e.op('Div', [hit, e.reduce('ReduceSum', hit, axes, true)]);
    }
    return [e.op('Mul', [mask, gKeep])];
  };
}

/**
 * Col2Im adds each column's K = kh·kw values into the image at its window; the adjoint reads them
 * back: for every kernel offset, a strided Slice of the padded gradient gives that offset's value
 * for every window.
 */
const col2Im: VjpRule = (a) => {
  const g = a.gradOut(0);
  if (!g || !a.needs(0)) return [];
  const { node, ctx } = a;
  const e = ctx.editor;
  const [, imageShapeName, blockShapeName] = node.input!;
  const image = ctx.ints(imageShapeName, node);
  const block = ctx.ints(blockShapeName, node);
  if (image.length !== 2) throw unsupported(node, 'Col2Im over other than two spatial axes');
  const w = windowAttrs(node, block);
  const channels = ctx.dims(node.output![0], node)[1];
  const outSize = (i: number): number =>
    Math.floor(
      (image[i] + w.pads[i] + w.pads[2 + i] - ((block[i] - 1) * w.dilations[i] + 1)) / w.strides[i],
    ) + 1;
  const [oh, ow] = [outSize(0), outSize(1)];
  const padded = w.pads.some((p) => p !== 0)
    ? e.op('Pad', [g, e.ints([0, 0, w.pads[0], w.pads[1], 0, 0, w.pads[2], w.pads[3]])])
    : g;
  const offsets: string[] = [];
  for (let i = 0; i < block[0]; i++)
    for (let j = 0; j < block[1]; j++) {
      const top = i * w.dilations[0];
      const left = j * w.dilations[1];
      const window = e.op('Slice', [
        padded,
        e.ints([top, left]),
        e.ints([top + (oh - 1) * w.strides[0] + 1, left + (ow - 1) * w.strides[1] + 1]),
        e.ints([2, 3]),
        e.ints(w.strides),
      ]);
      offsets.push(e.unsqueeze(window, [2]));
    }
  const stacked = offsets.length === 1 ? offsets[0] : e.op('Concat', offsets, { axis: 2 });
  const k = block[0] * block[1];
  return [e.op('Reshape', [stacked, e.ints([0, channels * k, oh * ow])])];
};

export const poolingRules: Record<string, VjpRule> = {
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  ReduceMax: extremum('ReduceMax'),
  ReduceMin: extremum('ReduceMin'),
  Col2Im: col2Im,
};
