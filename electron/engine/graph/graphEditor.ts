// Appends nodes, constants, inputs and outputs to an ONNX graph under unique names, and hides the
// opset differences of the ops the builders emit (Reduce* axes as attribute or input, Split sizes).
import {
  DataType,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../onnx/onnxSchema';
import { floatTensor, int64Tensor } from '../onnx/tensorData';
import { type AttributeValue, makeAttributes } from './nodeAttributes';

export class GraphEditor {
  readonly graph: GraphProto;
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(
    readonly model: ModelProto,
    readonly opset: number,
    private readonly prefix = 'vsw',
  ) {
    this.graph = model.graph!;
    for (const t of this.graph.initializer ?? []) this.used.add(t.name ?? '');
    for (const v of this.graph.input ?? []) this.used.add(v.name ?? '');
    for (const n of this.graph.node ?? []) {
      for (const o of n.output ?? []) this.used.add(o);
      if (n.name) this.used.add(n.name);
    }
  }

  uniqueName(base: string): string {
    let name: string;
    do name = `${this.prefix}/${base}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  /** Adds a node and returns its output names (fresh names unless given). */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttributeValue | undefined> = {},
    outputs: number | string[] = 1,
  ): string[] {
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, () => this.uniqueName(opType.toLowerCase()))
        : outputs;
    const node: NodeProto = {
      input: inputs,
      output: outs,
      name: this.uniqueName(opType),
      opType,
      attribute: makeAttributes(attrs),
    };
    (this.graph.node ??= []).push(node);
    return outs;
  }

  /** One-output node. */
  op(opType: string, inputs: string[], attrs: Record<string, AttributeValue | undefined> = {}): string {
    return this.node(opType, inputs, attrs, 1)[0];
  }

  private constant(key: string, make: (name: string) => TensorProto): string {
    let name = this.constants.get(key);
    if (!name) {
      name = this.uniqueName('const');
      (this.graph.initializer ??= []).push(make(name));
      this.constants.set(key, name);
    }
    return name;
  }

  /** A float32 constant (scalar unless dims are given), shared between uses. */
  float(values: number | number[], dims?: number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const d = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    return this.constant(`f:${d.join(',')}:${arr.join(',')}`, (name) => floatTensor(name, d, arr));
  }

  /** An int64 constant (1-D unless dims are given). */
  ints(values: number[], dims?: number[]): string {
    const d = dims ?? [values.length];
    return this.constant(`i:${d.join(',')}:${values.join(',')}`, (name) => int64Tensor(name, d, values));
  }

  /** Reduction with axes given the way this opset wants (ReduceSum: input from 13; others: from 18). */
  reduce(
    opType: 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin',
    x: string,
    axes: number[],
    keepdims: boolean,
  ): string {
    const axesAsInput = opType === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    if (axesAsInput) return this.op(opType, [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
    return this.op(opType, [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  /** Split along an axis into the given sizes (sizes as input: opset ≥ 13). */
  split(x: string, axis: number, sizes: number[]): string[] {
    return this.node('Split', [x, this.ints(sizes)], { axis }, sizes.length);
  }

  unsqueeze(x: string, axes: number[]): string {
    return this.op('Unsqueeze', [x, this.ints(axes)]);
  }

  squeeze(x: string, axes: number[]): string {
    return this.op('Squeeze', [x, this.ints(axes)]);
  }

  slice(x: string, starts: number[], ends: number[], axes: number[]): string {
    return this.op('Slice', [x, this.ints(starts), this.ints(ends), this.ints(axes)]);
  }

  addInput(name: string, elemType: number, dims: (number | string)[]): void {
    (this.graph.input ??= []).push(valueInfo(name, elemType, dims));
    this.used.add(name);
  }

  addOutput(name: string, elemType: number = DataType.FLOAT, dims?: (number | string)[]): void {
    (this.graph.output ??= []).push(valueInfo(name, elemType, dims));
  }
}

export function valueInfo(name: string, elemType: number, dims?: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: dims
          ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }
          : undefined,
      },
    },
  };
}
