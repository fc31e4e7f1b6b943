import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../util/errors';

/**
 * IDX files (the MNIST / LymphoMNIST container): 2 zero bytes, a type byte, a dimension count,
 * that many big-endian uint32 sizes, then the row-major data. Only unsigned bytes (type 0x08) are
 * used by cell images and labels, so only that type is read and written. A gzip stream (1f 8b) is
 * inflated first.
 */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = { 0x08: 'ubyte', 0x09: 'byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

/** Parse an IDX buffer (optionally gzipped). `what` names the file in error messages. */
export function parseIdx(buf: Uint8Array, what = 'IDX file'): IdxArray {
  let b = buf;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = gunzipSync(b);
    } catch (e) {
      throw new InputError(`${what}: corrupt gzip stream (${(e as Error).message})`);
    }
  }
  if (b.length < 4) throw new InputError(`${what}: truncated header (${b.length} bytes, need at least 4)`);
  if (b[0] !== 0 || b[1] !== 0)
    throw new InputError(`${what}: bad magic ${hex(b.subarray(0, 4))}, expected 00 00 08 <ndims>`);
  const type = b[2]!;
  if (type !== UBYTE)
    throw new InputError(`${what}: element type 0x${type.toString(16)} (${TYPE_NAMES[type] ?? 'unknown'}) not supported, expected 0x08 (ubyte)`);
  const ndims = b[3]!;
  if (ndims < 1 || ndims > 4) throw new InputError(`${what}: ${ndims} dimensions, expected 1..4`);
  const headerLen = 4 + 4 * ndims;
  if (b.length < headerLen) throw new InputError(`${what}: truncated header (${b.length} bytes, need ${headerLen} for ${ndims} dims)`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, d) => a * d, 1);
  const have = b.length - headerLen;
  if (have < count) throw new InputError(`${what}: truncated data: dims ${dims.join('x')} need ${count} bytes, file has ${have}`);
  if (have > count) throw new InputError(`${what}: ${have - count} trailing bytes after ${dims.join('x')} data`);
  return { dims, data: b.slice(headerLen) };
}

/** Serialise to IDX (ubyte); gzip when asked (e.g. for a .gz path). */
export function encodeIdx(arr: IdxArray, gzip = false): Uint8Array {
  const count = arr.dims.reduce((a, d) => a * d, 1);
  if (arr.dims.length < 1 || arr.dims.length > 4) throw new InputError(`IDX: ${arr.dims.length} dimensions, expected 1..4`);
  if (count !== arr.data.length) throw new InputError(`IDX: dims ${arr.dims.join('x')} need ${count} bytes, data has ${arr.data.length}`);
  const out = new Uint8Array(4 + 4 * arr.dims.length + count);
  out[2] = UBYTE;
  out[3] = arr.dims.length;
  const view = new DataView(out.buffer);
  arr.dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(arr.data, 4 + 4 * arr.dims.length);
  return gzip ? new Uint8Array(gzipSync(out)) : out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}
