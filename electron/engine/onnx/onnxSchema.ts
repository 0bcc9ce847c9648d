// The ONNX protobuf messages the engine reads and writes (onnx.proto, IR 7–10), as codec schemas
// and TypeScript shapes. Messages the engine never edits (functions, training info, sparse
// tensors, …) are left out of the schemas on purpose: their bytes round-trip as unknown fields.
import type { MessageSchema } from './protobufWire';

export interface StringStringEntry {
  key?: string;
  value?: string;
  unknownFields?: Uint8Array[];
}

export interface OperatorSetId {
  domain?: string;
  version?: number;
  unknownFields?: Uint8Array[];
}

export interface TensorProto {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: number[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntry[];
  dataLocation?: number;
  doubleData?: number[];
  uint64Data?: number[];
  unknownFields?: Uint8Array[];
}

export interface TensorShapeDimension {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
  unknownFields?: Uint8Array[];
}

export interface TypeProto {
  tensorType?: {
    elemType?: number;
    shape?: { dim?: TensorShapeDimension[]; unknownFields?: Uint8Array[] };
    unknownFields?: Uint8Array[];
  };
  denotation?: string;
  unknownFields?: Uint8Array[];
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
  unknownFields?: Uint8Array[];
}

export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  unknownFields?: Uint8Array[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
  unknownFields?: Uint8Array[];
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
  unknownFields?: Uint8Array[];
}

export interface ModelProto {
  irVersion?: number;
  opsetImport?: OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntry[];
  unknownFields?: Uint8Array[];
}

/** TensorProto.DataType values the engine uses. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

const stringStringEntry: MessageSchema = {
  name: 'StringStringEntryProto',
  fields: [
    { no: 1, name: 'key', kind: 'string' },
    { no: 2, name: 'value', kind: 'string' },
  ],
};

const operatorSetId: MessageSchema = {
  name: 'OperatorSetIdProto',
  fields: [
    { no: 1, name: 'domain', kind: 'string' },
    { no: 2, name: 'version', kind: 'int64' },
  ],
};

export const tensorSchema: MessageSchema = {
  name: 'TensorProto',
  fields: [
    { no: 1, name: 'dims', kind: 'int64', repeated: true },
    { no: 2, name: 'dataType', kind: 'int32' },
    { no: 4, name: 'floatData', kind: 'float', repeated: true, packed: true },
    { no: 5, name: 'int32Data', kind: 'int32', repeated: true, packed: true },
    { no: 6, name: 'stringData', kind: 'bytes', repeated: true },
    { no: 7, name: 'int64Data', kind: 'int64', repeated: true, packed: true },
    { no: 8, name: 'name', kind: 'string' },
    { no: 9, name: 'rawData', kind: 'bytes' },
    { no: 10, name: 'doubleData', kind: 'double', repeated: true, packed: true },
    { no: 11, name: 'uint64Data', kind: 'uint64', repeated: true, packed: true },
    { no: 12, name: 'docString', kind: 'string' },
    { no: 13, name: 'externalData', kind: 'message', repeated: true, message: () => stringStringEntry },
    { no: 14, name: 'dataLocation', kind: 'enum' },
  ],
};

const dimension: MessageSchema = {
  name: 'TensorShapeProto.Dimension',
  fields: [
    { no: 1, name: 'dimValue', kind: 'int64' },
    { no: 2, name: 'dimParam', kind: 'string' },
    { no: 3, name: 'denotation', kind: 'string' },
  ],
};

const tensorShape: MessageSchema = {
  name: 'TensorShapeProto',
  fields: [{ no: 1, name: 'dim', kind: 'message', repeated: true, message: () => dimension }],
};

const tensorType: MessageSchema = {
  name: 'TypeProto.Tensor',
  fields: [
    { no: 1, name: 'elemType', kind: 'int32' },
    { no: 2, name: 'shape', kind: 'message', message: () => tensorShape },
  ],
};

const typeSchema: MessageSchema = {
  name: 'TypeProto',
  fields: [
    { no: 1, name: 'tensorType', kind: 'message', message: () => tensorType },
    { no: 6, name: 'denotation', kind: 'string' },
  ],
};

const valueInfo: MessageSchema = {
  name: 'ValueInfoProto',
  fields: [
    { no: 1, name: 'name', kind: 'string' },
    { no: 2, name: 'type', kind: 'message', message: () => typeSchema },
    { no: 3, name: 'docString', kind: 'string' },
  ],
};

const attribute: MessageSchema = {
  name: 'AttributeProto',
  fields: [
    { no: 1, name: 'name', kind: 'string' },
    { no: 2, name: 'f', kind: 'float' },
    { no: 3, name: 'i', kind: 'int64' },
    { no: 4, name: 's', kind: 'bytes' },
    { no: 5, name: 't', kind: 'message', message: () => tensorSchema },
    { no: 6, name: 'g', kind: 'message', message: () => graphSchema },
    { no: 7, name: 'floats', kind: 'float', repeated: true },
    { no: 8, name: 'ints', kind: 'int64', repeated: true },
    { no: 9, name: 'strings', kind: 'bytes', repeated: true },
    { no: 10, name: 'tensors', kind: 'message', repeated: true, message: () => tensorSchema },
    { no: 11, name: 'graphs', kind: 'message', repeated: true, message: () => graphSchema },
    { no: 13, name: 'docString', kind: 'string' },
    { no: 20, name: 'type', kind: 'enum' },
    { no: 21, name: 'refAttrName', kind: 'string' },
  ],
};

const nodeSchema: MessageSchema = {
  name: 'NodeProto',
  fields: [
    { no: 1, name: 'input', kind: 'string', repeated: true },
    { no: 2, name: 'output', kind: 'string', repeated: true },
    { no: 3, name: 'name', kind: 'string' },
    { no: 4, name: 'opType', kind: 'string' },
    { no: 5, name: 'attribute', kind: 'message', repeated: true, message: () => attribute },
    { no: 6, name: 'docString', kind: 'string' },
    { no: 7, name: 'domain', kind: 'string' },
  ],
};

export const graphSchema: MessageSchema = {
  name: 'GraphProto',
  fields: [
    { no: 1, name: 'node', kind: 'message', repeated: true, message: () => nodeSchema },
    { no: 2, name: 'name', kind: 'string' },
    { no: 5, name: 'initializer', kind: 'message', repeated: true, message: () => tensorSchema },
    { no: 10, name: 'docString', kind: 'string' },
    { no: 11, name: 'input', kind: 'message', repeated: true, message: () => valueInfo },
    { no: 12, name: 'output', kind: 'message', repeated: true, message: () => valueInfo },
    { no: 13, name: 'valueInfo', kind: 'message', repeated: true, message: () => valueInfo },
  ],
};

export const modelSchema: MessageSchema = {
  name: 'ModelProto',
  fields: [
    { no: 1, name: 'irVersion', kind: 'int64' },
    { no: 2, name: 'producerName', kind: 'string' },
    { no: 3, name: 'producerVersion', kind: 'string' },
    { no: 4, name: 'domain', kind: 'string' },
    { no: 5, name: 'modelVersion', kind: 'int64' },
    { no: 6, name: 'docString', kind: 'string' },
    { no: 7, name: 'graph', kind: 'message', message: () => graphSchema },
    { no: 8, name: 'opsetImport', kind: 'message', repeated: true, message: () => operatorSetId },
    { no: 14, name: 'metadataProps', kind: 'message', repeated: true, message: () => stringStringEntry },
  ],
};
