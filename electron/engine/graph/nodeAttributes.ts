// Typed access to NodeProto attributes and the construction of new ones.
import { AttributeType, type AttributeProto, type NodeProto, type TensorProto } from '../onnx/onnxSchema';

/** number → INT, {f} → FLOAT, string → STRING, number[] → INTS, {floats} → FLOATS, tensor → TENSOR. */
export type AttributeValue = number | { f: number } | string | number[] | { floats: number[] } | TensorProto;

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function intAttr(node: NodeProto, name: string, fallback: number): number;
export function intAttr(node: NodeProto, name: string): number | undefined;
export function intAttr(node: NodeProto, name: string, fallback?: number): number | undefined {
  const a = find(node, name);
  return a && a.i !== undefined ? a.i : a ? 0 : fallback;
}

export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a ? (a.f ?? 0) : fallback;
}

export function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? (a.ints ?? []) : undefined;
}

export function stringAttr(node: NodeProto, name: string, fallback: string): string {
  const a = find(node, name);
  return a && a.s ? new TextDecoder().decode(a.s) : fallback;
}

export function tensorAttr(node: NodeProto, name: string): TensorProto | undefined {
  return find(node, name)?.t;
}

export function makeAttributes(attrs: Record<string, AttributeValue | undefined>): AttributeProto[] {
  const out: AttributeProto[] = [];
  for (const [name, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (typeof v === 'number') out.push({ name, type: AttributeType.INT, i: v });
    else if (typeof v === 'object' && 'f' in v) out.push({ name, type: AttributeType.FLOAT, f: v.f });
    else if (typeof v === 'string')
      out.push({ name, type: AttributeType.STRING, s: new TextEncoder().encode(v) });
    else if (Array.isArray(v)) out.push({ name, type: AttributeType.INTS, ints: v });
    else if ('floats' in v) out.push({ name, type: AttributeType.FLOATS, floats: v.floats });
    else out.push({ name, type: AttributeType.TENSOR, t: v });
  }
  return out;
}
