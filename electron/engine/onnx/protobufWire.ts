// A small schema-driven protobuf wire codec: enough of the format (varint, 64-bit, length-delimited,
// 32-bit) to read and write the ONNX messages. Fields the schema does not name are kept as raw bytes
// and written back unchanged, so a round trip preserves them. Byte fields are views into the input
// (no copies), which keeps multi-hundred-megabyte weight blobs cheap.

export type FieldKind =
  'int64' | 'int32' | 'enum' | 'uint64' | 'float' | 'double' | 'string' | 'bytes' | 'message';

export interface FieldSpec {
  no: number;
  name: string;
  kind: FieldKind;
  repeated?: boolean;
  /** Write repeated numbers packed (proto2 `[packed = true]`); reading accepts both forms. */
  packed?: boolean;
  message?: () => MessageSchema;
}

export interface MessageSchema {
  name: string;
  fields: FieldSpec[];
  byNumber?: Map<number, FieldSpec>;
}

/** A decoded message: known fields by name, plus the raw bytes of fields the schema lacks. */
export type DecodedMessage = Record<string, unknown> & { unknownFields?: Uint8Array[] };

export class WireFormatError extends Error {}

const TWO_32 = 4294967296;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

function fieldsByNumber(schema: MessageSchema): Map<number, FieldSpec> {
  if (!schema.byNumber) schema.byNumber = new Map(schema.fields.map((f) => [f.no, f]));
  return schema.byNumber;
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly view: DataView,
    readonly end: number,
  ) {}

  /** Reads a varint as a JS number; 64-bit two's-complement negatives come back negative. */
  varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const b = this.buf[this.pos++];
      if (i < 7) result += (b & 0x7f) * shift;
      else return this.varintSlow(i);
      shift *= 128;
      if ((b & 0x80) === 0) return result;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  private varintSlow(bytesRead: number): number {
    // Re-read the whole varint with BigInt (values beyond 2^49: rare, e.g. INT64_MAX sentinels).
    this.pos -= bytesRead + 1;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) break;
    }
    result = BigInt.asIntN(64, result);
    return Number(result);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const len = this.varint();
        this.pos += len;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new WireFormatError('field runs past the end of its message');
  }
}

function readScalar(r: Reader, kind: FieldKind, wireType: number): unknown {
  switch (kind) {
    case 'int64':
    case 'int32':
    case 'enum':
    case 'uint64':
      return r.varint();
    case 'float': {
      const v = r.view.getFloat32(r.pos, true);
      r.pos += 4;
      return v;
    }
    case 'double': {
      const v = r.view.getFloat64(r.pos, true);
      r.pos += 8;
      return v;
    }
    default:
      throw new WireFormatError(`field kind ${kind} read as scalar with wire type ${wireType}`);
  }
}

function expectedWireType(kind: FieldKind): number {
  switch (kind) {
    case 'float':
      return 5;
    case 'double':
      return 1;
    case 'string':
    case 'bytes':
    case 'message':
      return 2;
    default:
      return 0;
  }
}

const utf8 = new TextDecoder('utf-8');

function decodeFrom(r: Reader, schema: MessageSchema): DecodedMessage {
  const out: DecodedMessage = {};
  const fields = fieldsByNumber(schema);
  while (r.pos < r.end) {
    const start = r.pos;
    const key = r.varint();
    const no = Math.floor(key / 8);
    const wireType = key & 7;
    const spec = fields.get(no);
    if (!spec) {
      r.skip(wireType);
      (out.unknownFields ??= []).push(r.buf.subarray(start, r.pos));
      continue;
    }
    const want = expectedWireType(spec.kind);
    let values: unknown[];
    if (wireType === 2 && want !== 2) {
      // Packed repeated scalars.
      const len = r.varint();
      const stop = r.pos + len;
      values = [];
      while (r.pos < stop) values.push(readScalar(r, spec.kind, want));
      if (r.pos !== stop) throw new WireFormatError(`packed field ${schema.name}.${spec.name} is malformed`);
    } else if (wireType !== want) {
      throw new WireFormatError(
        `field ${schema.name}.${spec.name} has wire type ${wireType}, expected ${want}`,
      );
    } else if (want === 2) {
      const len = r.varint();
      if (len < 0 || r.pos + len > r.end)
        throw new WireFormatError(`field ${schema.name}.${spec.name} runs past the end`);
      const bytes = r.buf.subarray(r.pos, r.pos + len);
      const sub = new Reader(r.buf, r.view, r.pos + len);
      sub.pos = r.pos;
      r.pos += len;
      if (spec.kind === 'string') values = [utf8.decode(bytes)];
      else if (spec.kind === 'bytes') values = [bytes];
      else values = [decodeFrom(sub, spec.message!())];
    } else {
      values = [readScalar(r, spec.kind, wireType)];
    }
    if (spec.repeated) {
      const list = (out[spec.name] as unknown[] | undefined) ?? [];
      for (const v of values) list.push(v);
      out[spec.name] = list;
    } else {
      // proto semantics: the last value wins; sub-messages would merge, which ONNX never relies on.
      out[spec.name] = values[values.length - 1];
    }
  }
  if (r.pos !== r.end) throw new WireFormatError(`message ${schema.name} overruns its length`);
  return out;
}

export function decodeMessage(bytes: Uint8Array, schema: MessageSchema): DecodedMessage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeFrom(new Reader(bytes, view, bytes.length), schema);
}

// ---------------------------------------------------------------------------------------------
// Writing: messages are encoded to lists of chunks (big byte fields are not copied until the final
// concatenation), with each sub-message's length known before its header is written.

class Writer {
  chunks: Uint8Array[] = [];
  length = 0;
  private scratch = new Uint8Array(4096);
  private used = 0;

  private flushScratch(): void {
    if (this.used > 0) {
      this.chunks.push(this.scratch.slice(0, this.used));
      this.used = 0;
    }
  }

  private room(n: number): void {
    if (this.used + n > this.scratch.length) this.flushScratch();
  }

  byte(b: number): void {
    this.room(1);
    this.scratch[this.used++] = b;
    this.length++;
  }

  varint(value: number): void {
    if (Number.isInteger(value) && value >= 0 && value < TWO_32 * 2 ** 20) {
      this.room(10);
      let v = value;
      while (v >= 128) {
        this.scratch[this.used++] = (v % 128) | 0x80;
        this.length++;
        v = Math.floor(v / 128);
      }
      this.scratch[this.used++] = v;
      this.length++;
      return;
    }
    this.varintBig(value);
  }

  private varintBig(value: number): void {
    if (!Number.isFinite(value)) throw new WireFormatError(`cannot encode ${value} as an integer`);
    let big = BigInt(Math.trunc(value));
    // Numbers read from INT64_MAX/MIN round to ±2^63: clamp back (they are sentinels in ONNX).
    if (big > INT64_MAX) big = INT64_MAX;
    if (big < INT64_MIN) big = INT64_MIN;
    let u = BigInt.asUintN(64, big);
    this.room(10);
    while (u >= 128n) {
      this.scratch[this.used++] = Number(u & 0x7fn) | 0x80;
      this.length++;
      u >>= 7n;
    }
    this.scratch[this.used++] = Number(u);
    this.length++;
  }

  float(v: number): void {
    this.room(4);
    new DataView(this.scratch.buffer, this.used, 4).setFloat32(0, v, true);
    this.used += 4;
    this.length += 4;
  }

  double(v: number): void {
    this.room(8);
    new DataView(this.scratch.buffer, this.used, 8).setFloat64(0, v, true);
    this.used += 8;
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    if (b.length <= 256) {
      this.room(b.length);
      this.scratch.set(b, this.used);
      this.used += b.length;
      this.length += b.length;
      return;
    }
    this.flushScratch();
    this.chunks.push(b);
    this.length += b.length;
  }

  append(other: Writer): void {
    other.flushScratch();
    this.flushScratch();
    for (const c of other.chunks) this.chunks.push(c);
    this.length += other.length;
  }

  finish(): Uint8Array[] {
    this.flushScratch();
    return this.chunks;
  }
}

const utf8Encoder = new TextEncoder();

function writeScalar(w: Writer, kind: FieldKind, v: number): void {
  if (kind === 'float') w.float(v);
  else if (kind === 'double') w.double(v);
  else w.varint(v);
}

function encodeInto(w: Writer, msg: DecodedMessage, schema: MessageSchema): void {
  for (const spec of schema.fields) {
    const value = msg[spec.name];
    if (value === undefined || value === null) continue;
    const list = spec.repeated ? (value as unknown[]) : [value];
    if (spec.repeated && list.length === 0) continue;
    const wt = expectedWireType(spec.kind);
    if (spec.repeated && spec.packed && wt !== 2) {
      const inner = new Writer();
      for (const v of list) writeScalar(inner, spec.kind, v as number);
      w.varint(spec.no * 8 + 2);
      w.varint(inner.length);
      w.append(inner);
      continue;
    }
    for (const v of list) {
      w.varint(spec.no * 8 + wt);
      if (spec.kind === 'string') {
        const b = utf8Encoder.encode(v as string);
        w.varint(b.length);
        w.bytes(b);
      } else if (spec.kind === 'bytes') {
        const b = v as Uint8Array;
        w.varint(b.length);
        w.bytes(b);
      } else if (spec.kind === 'message') {
        const inner = new Writer();
        encodeInto(inner, v as DecodedMessage, spec.message!());
        w.varint(inner.length);
        w.append(inner);
      } else {
        writeScalar(w, spec.kind, v as number);
      }
    }
  }
  for (const raw of msg.unknownFields ?? []) w.bytes(raw);
}

/** Encodes a message to chunks (concatenate them, or write them to a file one by one). */
export function encodeMessageChunks(
  msg: DecodedMessage,
  schema: MessageSchema,
): { chunks: Uint8Array[]; length: number } {
  const w = new Writer();
  encodeInto(w, msg, schema);
  const chunks = w.finish();
  return { chunks, length: w.length };
}

export function encodeMessage(msg: DecodedMessage, schema: MessageSchema): Uint8Array {
  const { chunks, length } = encodeMessageChunks(msg, schema);
  const out = new Uint8Array(length);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
