/**
 * The Node side of the simulator's binary pipe protocol (docs/sim.md): command encoders and the reply decoder.
 * Pure byte work, no process or promise state; sim/run.ts keeps that.
 */
import { endianness } from 'node:os';
import type { PortDesc, StreamDesc } from '../generator/hdl/interface';
import { decodeWord, encodeWord, type Word } from './codec';
import { limbsFor } from './harness';
import type { SimStats, StreamStats } from './run-types';

if (endianness() !== 'LE') throw new Error('sim: the protocol assumes a little-endian host');

/** Beats per PUSH command: keeps each write moderate so pipe backpressure works. */
const CHUNK_BYTES = 256 * 1024;

export const CMD_RUN = Buffer.from([0x52]); // 'R'
export const CMD_FINISH = Buffer.from([0x46]); // 'F'
export const CMD_STATS = Buffer.from([0x51]); // 'Q'

function u64(buf: Buffer, off: number): number {
  const lo = buf.readUInt32LE(off);
  const hi = buf.readUInt32LE(off + 4);
  if (hi === 0xffffffff && lo === 0xffffffff) return -1;
  return hi * 4294967296 + lo;
}

/** 'S': set a plain input port. */
export function encodeSet(id: number, width: number, value: Word, what: string): Buffer {
  const nl = limbsFor(width);
  const buf = Buffer.alloc(3 + nl * 4);
  buf[0] = 0x53;
  buf.writeUInt16LE(id, 1);
  const limbs = new Uint32Array(nl);
  encodeWord(value, width, nl, limbs, 0, what);
  Buffer.from(limbs.buffer).copy(buf, 3);
  return buf;
}

/**
 * 'P': beats for an input stream, in commands of at most CHUNK_BYTES. `what(i)` names beat i for errors; flags bit 0 =
 * more will follow, bit 1 = per-beat last flags follow the data. An empty push is one command (it closes the stream).
 */
export function encodePush(id: number, width: number, words: readonly Word[] | Uint32Array, last: boolean[] | null, more: boolean, what: (i: number) => string): Buffer[] {
  const nl = limbsFor(width);
  const packed = words instanceof Uint32Array;
  const n = packed ? words.length / nl : words.length;
  const flags = (more ? 1 : 0) | (last ? 2 : 0);
  const per = Math.max(1, Math.floor(CHUNK_BYTES / (nl * 4 + 1)));
  const cmds: Buffer[] = [];
  for (let b0 = 0; b0 < n || (n === 0 && b0 === 0); b0 += per) {
    const k = Math.min(per, n - b0);
    const dataBytes = k * nl * 4;
    const ab = new ArrayBuffer(8 + dataBytes + (last ? k : 0));
    const buf = Buffer.from(ab);
    buf[0] = 0x50;
    buf.writeUInt16LE(id, 1);
    buf[3] = flags;
    buf.writeUInt32LE(k, 4);
    const limbs = new Uint32Array(ab, 8, k * nl);
    if (packed) limbs.set((words as Uint32Array).subarray(b0 * nl, (b0 + k) * nl));
    else {
      const ws = words as readonly Word[];
      for (let i = 0; i < k; i++) encodeWord(ws[b0 + i]!, width, nl, limbs, i * nl, what(b0 + i));
    }
    if (last) for (let i = 0; i < k; i++) buf[8 + dataBytes + i] = last[b0 + i] ? 1 : 0;
    cmds.push(buf);
    if (n === 0) break;
  }
  return cmds;
}

/** 'E': the simulator should run until `total` beats in all have left output stream `id`. */
export function encodeCollect(id: number, total: number): Buffer {
  const buf = Buffer.alloc(11);
  buf[0] = 0x45;
  buf.writeUInt16LE(id, 1);
  buf.writeBigUInt64LE(BigInt(total), 3);
  return buf;
}

/** 'N': run exactly n cycles. */
export function encodeStep(n: number): Buffer {
  const buf = Buffer.alloc(9);
  buf[0] = 0x4e;
  buf.writeBigUInt64LE(BigInt(n), 1);
  return buf;
}

/** 'G': read a plain port. */
export function encodeRead(id: number): Buffer {
  const buf = Buffer.alloc(3);
  buf[0] = 0x47;
  buf.writeUInt16LE(id, 1);
  return buf;
}

/** 'W': pause or resume FST dumping. */
export function encodeTrace(on: boolean): Buffer {
  return Buffer.from([0x57, on ? 1 : 0]);
}

/** 'T': stall probability p in [0, 1) for input (kind 0) or output (kind 1) stream id. */
export function encodeStall(kind: 0 | 1, id: number, p: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x54;
  b[1] = kind;
  b.writeUInt16LE(id, 2);
  b.writeUInt32LE(Math.min(0xffffffff, Math.round(p * 4294967296)), 4);
  return b;
}

export interface ReplyHandlers {
  beat(id: number, data: bigint, cycle: number, last: boolean): void;
  inputStamp(id: number, cycle: number): void;
  /** A RUN/STEP ended; reason 1 = input stream `streamId` ran dry although pushed with more. */
  runDone(reason: number, streamId: number, cycle: number): void;
  read(id: number, value: bigint): void;
  stats(st: SimStats): void;
}

/** Splits the simulator's stdout into replies. feed() throws on a protocol error or a simulator error message. */
export class ReplyDecoder {
  private rx: Buffer = Buffer.alloc(0);
  private readonly statsLen: number;

  constructor(
    private readonly ins: StreamDesc[],
    private readonly outs: StreamDesc[],
    private readonly ports: PortDesc[],
    private readonly outSigned: boolean[],
    private readonly on: ReplyHandlers,
  ) {
    this.statsLen = 9 + 24 * (ins.length + outs.length);
  }

  feed(chunk: Buffer): void {
    const buf = this.rx.length ? Buffer.concat([this.rx, chunk]) : chunk;
    this.rx = Buffer.alloc(0);
    let off = 0;
    for (;;) {
      if (off >= buf.length) break;
      const t = buf[off]!;
      const avail = buf.length - off;
      if (t === 1) {
        if (avail < 3) break;
        const id = buf.readUInt16LE(off + 1);
        const s = this.outs[id];
        if (!s) throw new Error(`protocol: output beat for unknown stream id ${id}`);
        const nl = limbsFor(s.width);
        if (avail < 12 + nl * 4) break;
        const cyc = u64(buf, off + 4);
        const last = buf[off + 3] !== 0;
        const data = decodeWord(buf, off + 12, s.width, nl, this.outSigned[id]!);
        off += 12 + nl * 4;
        this.on.beat(id, data, cyc, last);
      } else if (t === 2) {
        if (avail < 11) break;
        const id = buf.readUInt16LE(off + 1);
        const cyc = u64(buf, off + 3);
        off += 11;
        this.on.inputStamp(id, cyc);
      } else if (t === 3) {
        if (avail < 12) break;
        const reason = buf[off + 1]!;
        const sid = buf.readUInt16LE(off + 2);
        const cyc = u64(buf, off + 4);
        off += 12;
        this.on.runDone(reason, sid, cyc);
      } else if (t === 4) {
        if (avail < 3) break;
        const id = buf.readUInt16LE(off + 1);
        const p = this.ports[id];
        if (!p) throw new Error(`protocol: read reply for unknown port id ${id}`);
        const nl = limbsFor(p.width);
        if (avail < 3 + nl * 4) break;
        const v = decodeWord(buf, off + 3, p.width, nl, p.signed);
        off += 3 + nl * 4;
        this.on.read(id, v);
      } else if (t === 5) {
        if (avail < this.statsLen) break;
        const st = this.parseStats(buf, off + 1);
        off += this.statsLen;
        this.on.stats(st);
      } else if (t === 6) {
        if (avail < 5) break;
        const len = buf.readUInt32LE(off + 1);
        if (avail < 5 + len) break;
        throw new Error(buf.toString('utf8', off + 5, off + 5 + len));
      } else {
        throw new Error(`protocol: unknown message type ${t}`);
      }
    }
    this.rx = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
  }

  private parseStats(buf: Buffer, off: number): SimStats {
    const cycles = u64(buf, off);
    off += 8;
    const streams: Record<string, StreamStats> = {};
    const one = (dir: 'in' | 'out', s: StreamDesc): void => {
      const first = u64(buf, off + 8);
      const last = u64(buf, off + 16);
      streams[s.name] = { dir, beats: u64(buf, off), firstCycle: first < 0 ? null : first, lastCycle: last < 0 ? null : last };
      off += 24;
    };
    for (const s of this.ins) one('in', s);
    for (const s of this.outs) one('out', s);
    return { cycles, streams };
  }
}
