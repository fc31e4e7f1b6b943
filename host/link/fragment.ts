/**
 * Splitting bulk writes to the current chunk (docs/protocol.md#reliability): a MEM_WRITE keeps its word address
 * (advanced per fragment), a STREAM_WRITE its channel byte. Fragments share their request's promise (`group`).
 */
import { REQ } from '../../generator/link/protocol';
import type { Pending } from './pending';

export function splittable(p: Pending): boolean {
  return p.type === REQ.MEM_WRITE || p.type === REQ.STREAM_WRITE;
}

/** Bytes before the data: the word address of a MEM_WRITE, the channel of a STREAM_WRITE. */
function headBytes(p: Pending): number {
  return p.type === REQ.MEM_WRITE ? 4 : 1;
}

/** Data bytes per fragment for a chunk of `chunk` payload bytes (whole words for memory). */
function stepFor(p: Pending, chunk: number): number {
  const head = headBytes(p);
  return p.type === REQ.MEM_WRITE ? Math.max(4, (chunk - head) & ~3) : Math.max(1, chunk - head);
}

/** The body of the fragment holding data bytes [from, to) of p. */
function part(p: Pending, from: number, to: number): Uint8Array {
  const head = headBytes(p);
  const data = p.body.subarray(head + from, head + to);
  const body = new Uint8Array(head + data.length);
  if (p.type === REQ.MEM_WRITE) new DataView(body.buffer).setUint32(0, (new DataView(p.body.buffer, p.body.byteOffset).getUint32(0, true) + from / 4) >>> 0, true);
  else body[0] = p.body[0]!;
  body.set(data, head);
  return body;
}

/** p as fragments of at most `chunk` payload bytes (p itself, with seq cleared, when it fits or cannot be split). */
export function fragments(p: Pending, chunk: number): Pending[] {
  if (!splittable(p)) return [{ ...p, seq: -1 }];
  const n = p.body.length - headBytes(p);
  const step = stepFor(p, chunk);
  if (n <= step) return [{ ...p, seq: -1 }];
  const k = Math.ceil(n / step);
  const group = p.group ?? { left: 1, failed: false };
  group.left += k - 1;
  return Array.from({ length: k }, (_, i) => ({ ...p, body: part(p, i * step, Math.min(n, (i + 1) * step)), group, seq: -1, resume: p.resume && i === 0 }));
}

/** p split in two when longer than the chunk: the first fragment of at most `chunk` bytes and the rest. */
export function splitOff(p: Pending, chunk: number): Pending[] {
  if (!splittable(p)) return [p];
  const n = p.body.length - headBytes(p);
  const step = stepFor(p, chunk);
  if (n <= step) return [p];
  const group = p.group ?? { left: 1, failed: false };
  group.left += 1;
  return [
    { ...p, body: part(p, 0, step), group },
    { ...p, body: part(p, step, n), group, resume: false },
  ];
}
