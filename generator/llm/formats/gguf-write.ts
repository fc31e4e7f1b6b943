/**
 * GGUF writer (version 3, little endian): the header, metadata key/values, tensor infos, then the tensor data, each
 * tensor aligned to `general.alignment` (32 by default). The value and tensor type codes are @huggingface/gguf's
 * enums, so the writer and the parser that reads our files back agree on them by construction.
 */
import { GGMLQuantizationType, GGUFValueType } from '@huggingface/gguf';

export type GgufScalar =
  | { type: GGUFValueType.UINT32 | GGUFValueType.INT32 | GGUFValueType.FLOAT32 | GGUFValueType.UINT8 | GGUFValueType.INT8; value: number }
  | { type: GGUFValueType.UINT64 | GGUFValueType.INT64; value: bigint }
  | { type: GGUFValueType.BOOL; value: boolean }
  | { type: GGUFValueType.STRING; value: string };

export type GgufValue =
  | GgufScalar
  | { type: GGUFValueType.ARRAY; itemType: GGUFValueType.STRING; value: readonly string[] }
  | { type: GGUFValueType.ARRAY; itemType: GGUFValueType.FLOAT32 | GGUFValueType.INT32 | GGUFValueType.UINT32; value: ArrayLike<number> };

export interface GgufTensorOut {
  name: string;
  /** GGUF order: shape[0] is the innermost (contiguous) dimension, so a row-major [rows][cols] matrix is [cols, rows]. */
  shape: readonly number[];
  type: GGMLQuantizationType.F32 | GGMLQuantizationType.F16 | GGMLQuantizationType.BF16;
  /** Raw little-endian element data. */
  data: Uint8Array;
}

export const GGUF_ALIGNMENT = 32;

const BYTES_PER_ELEMENT: Record<GgufTensorOut['type'], number> = {
  [GGMLQuantizationType.F32]: 4,
  [GGMLQuantizationType.F16]: 2,
  [GGMLQuantizationType.BF16]: 2,
};

/** Little-endian byte sink that grows as needed. */
class Bytes {
  private buf = new Uint8Array(1 << 16);
  private dv = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): void { this.room(1); this.dv.setUint8(this.length, v); this.length += 1; }
  i8(v: number): void { this.room(1); this.dv.setInt8(this.length, v); this.length += 1; }
  u32(v: number): void { this.room(4); this.dv.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number): void { this.room(4); this.dv.setInt32(this.length, v, true); this.length += 4; }
  f32(v: number): void { this.room(4); this.dv.setFloat32(this.length, v, true); this.length += 4; }
  u64(v: bigint | number): void { this.room(8); this.dv.setBigUint64(this.length, BigInt(v), true); this.length += 8; }
  i64(v: bigint): void { this.room(8); this.dv.setBigInt64(this.length, v, true); this.length += 8; }
  raw(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.length); this.length += b.length; }
  str(s: string): void { const b = new TextEncoder().encode(s); this.u64(b.length); this.raw(b); }
  pad(align: number): void { const n = (align - (this.length % align)) % align; this.room(n); this.buf.fill(0, this.length, this.length + n); this.length += n; }
  bytes(): Uint8Array { return this.buf.slice(0, this.length); }
}

function writeScalar(out: Bytes, type: GGUFValueType, v: number | bigint | boolean | string): void {
  switch (type) {
    case GGUFValueType.UINT8: return out.u8(v as number);
    case GGUFValueType.INT8: return out.i8(v as number);
    case GGUFValueType.UINT32: return out.u32(v as number);
    case GGUFValueType.INT32: return out.i32(v as number);
    case GGUFValueType.FLOAT32: return out.f32(v as number);
    case GGUFValueType.UINT64: return out.u64(v as bigint);
    case GGUFValueType.INT64: return out.i64(v as bigint);
    case GGUFValueType.BOOL: return out.u8(v ? 1 : 0);
    case GGUFValueType.STRING: return out.str(v as string);
    default: throw new Error(`GGUF writer: value type ${GGUFValueType[type]} is not supported`);
  }
}

/** Serialise a complete GGUF file. Keys and tensor names must be unique. */
export function serializeGguf(kv: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensorOut[], alignment = GGUF_ALIGNMENT): Uint8Array {
  const keys = new Set<string>();
  for (const [k] of kv) {
    if (keys.has(k)) throw new Error(`GGUF writer: metadata key ${k} given twice`);
    keys.add(k);
  }
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`GGUF writer: tensor ${t.name} given twice`);
    names.add(t.name);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n * BYTES_PER_ELEMENT[t.type])
      throw new Error(`GGUF writer: tensor ${t.name} of shape [${t.shape.join(', ')}] needs ${n * BYTES_PER_ELEMENT[t.type]} bytes, got ${t.data.length}`);
  }
  const entries = alignment === GGUF_ALIGNMENT || keys.has('general.alignment') ? kv : [...kv, ['general.alignment', { type: GGUFValueType.UINT32, value: alignment }] as const];

  const out = new Bytes();
  out.raw(new TextEncoder().encode('GGUF'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(entries.length);
  for (const [key, v] of entries) {
    out.str(key);
    out.u32(v.type);
    if (v.type === GGUFValueType.ARRAY) {
      out.u32(v.itemType);
      out.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) writeScalar(out, v.itemType, v.value[i]!);
    } else writeScalar(out, v.type, v.value);
  }
  let offset = 0;
  for (const t of tensors) {
    out.str(t.name);
    out.u32(t.shape.length);
    for (const d of t.shape) out.u64(d);
    out.u32(t.type);
    out.u64(offset);
    offset += t.data.length;
    offset += (alignment - (offset % alignment)) % alignment;
  }
  out.pad(alignment);
  for (const t of tensors) {
    out.raw(t.data);
    out.pad(alignment);
  }
  return out.bytes();
}
