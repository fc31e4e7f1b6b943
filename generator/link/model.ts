/**
 * TS model of the device end of the link (link_rx + link_exec, docs/protocol.md), for fast, deterministic protocol
 * tests of the host without Verilator. It follows the RTL's rules exactly where they matter to the host:
 * the reorder buffer (maxFrames slots of slotBytes; `receive()` files a good frame by seq or drops it, exactly as
 * link_rx), one response at a time, the sequence rule with its one-frame response cache, BUSY/stall/RESUME, SYNC,
 * hole reports and the status codes. Timing is left to the caller (`next()` returns the next response body).
 *
 * The core behind it is the `linktest` core's behaviour (generator/link/testcore.ts): a word memory, the header
 * registers plus rw/ro registers, an 8-bit XOR loopback and a 24-bit +1 loopback with `last` through a FIFO.
 */
import { MEM_WORD_BYTES, NAK, NAK_HOLE, REQ, RESP_BIT, RESUME_BIT, STATUS, nakBitmapBytes } from './protocol';
import { ARG_BYTES } from './exec';
import type { RegMap } from '../regmap/regmap';
import { linkCaps } from '../regmap/regmap';

const READS: number[] = [REQ.HELLO, REQ.REG_READ, REQ.MEM_READ, REQ.STREAM_READ];

export interface ModelStats {
  executed: number;
  resent: number;
  naks: number;
  busy: number;
  /** Requests executed with status BAD_REQUEST (the host never sends one on purpose). */
  badRequests: number;
  /** Good frames dropped: duplicates of a held frame, too long for a slot, control slot busy. */
  dropped: number;
  /** Hole reports sent. */
  holes: number;
}

export class LinkDeviceModel {
  expected = 0;
  private cache: Uint8Array | null = null;
  private stalled = false;
  private stallSeq = 0;
  readonly regs = new Map<number, number>();
  readonly mem: Uint32Array;
  /** Host-to-device channel FIFOs (bytes), as in the board top's hub. */
  readonly hub: number[][];
  readonly hubDepth: number;
  /** Device-to-host beats (bytes per beat) waiting for STREAM_READ. */
  readonly outs: number[][][];
  readonly stats: ModelStats = { executed: 0, resent: 0, naks: 0, busy: 0, badRequests: 0, dropped: 0, holes: 0 };
  /** Reorder buffer: slot seq % maxFrames holds an in-window frame until it is executed. */
  readonly slots: (Uint8Array | null)[];
  /** The one control slot: HELLO, SYNC and frames outside the window (answered by the sequence rule). */
  private ctl: Uint8Array | null = null;
  /** A frame arrived ahead of `expected`: a hole report (NAK echoing NAK_HOLE and its seq) is due. */
  private hole: number | null = null;
  /** Every executed STREAM_WRITE payload per channel, in execution order (tests check exactly-once delivery). */
  readonly delivered: number[][];

  constructor(
    readonly map: RegMap,
    memWords = 1024,
    /** Beats the core holds per output channel before it stops taking input (the linktest FIFO is 64). */
    private readonly coreDepth = 64,
  ) {
    this.mem = new Uint32Array(memWords);
    for (const r of map.registers) if (r.access !== 'ro') this.regs.set(r.addr, r.value >>> 0);
    const ins = map.channels.filter((c) => c.dir === 'in');
    this.hubDepth = 2 ** Math.ceil(Math.log2(2 * map.link.maxPayload));
    this.hub = ins.map(() => []);
    this.delivered = ins.map(() => []);
    this.outs = map.channels.filter((c) => c.dir === 'out').map(() => []);
    this.regs.set(this.addr('link_caps'), linkCaps(map.link));
    this.slots = Array.from({ length: map.link.maxFrames }, () => null);
  }

  get slotBytes(): number {
    return this.map.link.rxFifoBytes / this.map.link.maxFrames;
  }

  /** link_rx's filing rule for a good frame body: returns false when it is dropped. */
  receive(body: Uint8Array): boolean {
    const type = body[0]! & ~RESUME_BIT;
    const seq = body[1]!;
    const w = this.map.link.maxFrames;
    const inWindow = type !== REQ.HELLO && type !== REQ.SYNC && ((seq - this.expected) & 0xff) < w;
    if (inWindow) {
      if (this.slots[seq % w] || body.length > this.slotBytes) return this.drop();
      this.slots[seq % w] = body;
      if (seq !== this.expected) this.hole = seq;
      return true;
    }
    if (this.ctl) return this.drop();
    this.ctl = body;
    return true;
  }

  private drop(): boolean {
    this.stats.dropped++;
    return false;
  }

  /** Bit k: the frame with seq expected + k is held. */
  held(): number[] {
    const w = this.map.link.maxFrames;
    const bits = new Array<number>(nakBitmapBytes(w)).fill(0);
    for (let k = 0; k < w; k++) if (this.slots[(this.expected + k) % w]) bits[k >> 3]! |= 1 << (k & 7);
    return bits;
  }

  /** link_exec's choice: the frame at `expected`, else the control slot, else a due hole report, else nothing. */
  next(): Uint8Array | null {
    const w = this.map.link.maxFrames;
    const i = this.expected % w;
    const f = this.slots[i];
    if (f) {
      this.slots[i] = null;
      return this.frame(f);
    }
    if (this.ctl) {
      const c = this.ctl;
      this.ctl = null;
      return this.frame(c);
    }
    // A hole report is stale once `expected` has passed the frame that drew it.
    if (this.hole !== null && ((this.hole - this.expected) & 0xff) < w) {
      const s = this.hole;
      this.hole = null;
      this.stats.holes++;
      return this.nak(NAK_HOLE, s);
    }
    this.hole = null;
    return null;
  }

  private addr(name: string): number {
    return this.map.registers.find((r) => r.name === name)!.addr;
  }

  /** Moves bytes from the hub FIFOs through the core: in channel k feeds out channel k (+1 / XOR mask per beat). */
  runCore(): void {
    const ins = this.map.channels.filter((c) => c.dir === 'in');
    ins.forEach((c, k) => {
      const out = this.outs[k];
      const oc = this.map.channels.filter((x) => x.dir === 'out')[k];
      if (!out || !oc) return;
      while (this.hub[k]!.length >= c.bytes && out.length < this.coreDepth) {
        const beat = this.hub[k]!.splice(0, c.bytes);
        const db = Math.ceil(c.width / 8);
        let v = 0;
        for (let i = db - 1; i >= 0; i--) v = v * 256 + beat[i]!;
        v = c.width === 8 ? v ^ (this.regs.get(this.addr('xor_mask')) ?? 0) : (v + 1) % 2 ** c.width;
        const o: number[] = [];
        for (let i = 0; i < db; i++, v = Math.floor(v / 256)) o.push(v & 0xff);
        if (c.hasLast) o.push(beat[db]! & 1);
        out.push(o);
      }
    });
  }

  private readReg(a: number): number | null {
    const r = this.map.registers.find((x) => x.addr === a);
    if (!r) return null;
    if (r.access !== 'ro') return this.regs.get(a)! >>> 0;
    if (r.name === 'rx_frames_ok') return this.stats.executed + this.stats.resent + this.stats.naks;
    return 0;
  }

  /** Executes one committed frame body (type, seq, args...); returns the response body (without CRC). */
  frame(body: Uint8Array): Uint8Array {
    const type = body[0]! & ~RESUME_BIT;
    const resume = (body[0]! & RESUME_BIT) !== 0;
    const seq = body[1]!;
    if (type === REQ.SYNC) {
      this.stats.naks++;
      return this.nak(type, seq);
    }
    if (type !== REQ.HELLO && seq !== this.expected) {
      if (seq === ((this.expected - 1) & 0xff) && this.cache) {
        this.stats.resent++;
        return this.cache;
      }
      this.stats.naks++;
      return this.nak(type, seq);
    }
    const args = body.subarray(2);
    const { status, payload } = this.execute(type, resume, seq, args);
    if (status === STATUS.BAD_REQUEST) this.stats.badRequests++;
    this.stats.executed++;
    this.expected = type === REQ.HELLO ? (seq + 1) & 0xff : (this.expected + 1) & 0xff;
    if (type === REQ.HELLO) this.slots.fill(null); // held frames were numbered for the old session
    this.cache = Uint8Array.from([type | RESP_BIT, seq, status, ...payload]);
    return this.cache;
  }

  private nak(type: number, seq: number): Uint8Array {
    return Uint8Array.from([NAK, this.expected, this.stalled ? 1 : 0, this.stallSeq, type, seq, ...this.held()]);
  }

  private execute(type: number, resume: boolean, seq: number, a: Uint8Array): { status: number; payload: number[] } {
    const bad = { status: STATUS.BAD_REQUEST, payload: [] };
    this.runCore();
    const need = ARG_BYTES[type];
    if (need === undefined || a.length < need) return bad;
    if (this.stalled && !resume && !READS.includes(type)) {
      this.stats.busy++;
      return { status: STATUS.BUSY, payload: [this.stallSeq] };
    }
    if (resume) this.stalled = false;
    const dv = new DataView(a.buffer, a.byteOffset, a.byteLength);
    switch (type) {
      case REQ.HELLO:
        return { status: STATUS.OK, payload: [] };
      case REQ.REG_WRITE: {
        if (a.length !== 6) return bad;
        const r = this.map.registers.find((x) => x.addr === dv.getUint16(0, true));
        if (!r || r.access !== 'rw') return { status: STATUS.BAD_TARGET, payload: [] };
        this.regs.set(r.addr, Number(BigInt(dv.getUint32(2, true)) & ((1n << BigInt(r.width)) - 1n)));
        return { status: STATUS.OK, payload: [] };
      }
      case REQ.REG_READ: {
        if (a.length !== 2) return bad;
        const v = this.readReg(dv.getUint16(0, true));
        if (v === null) return { status: STATUS.BAD_TARGET, payload: [] };
        return { status: STATUS.OK, payload: [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24] };
      }
      case REQ.MEM_WRITE: {
        if ((a.length - 4) % MEM_WORD_BYTES) return bad;
        const at = dv.getUint32(0, true);
        for (let i = 4; i < a.length; i += 4) this.mem[(at + (i - 4) / 4) % this.mem.length] = dv.getUint32(i, true);
        return { status: STATUS.OK, payload: [] };
      }
      case REQ.MEM_READ: {
        const at = dv.getUint32(0, true);
        const n = a[4]!;
        if (a.length !== 5 || n === 0 || n > this.map.link.maxPayload / MEM_WORD_BYTES) return bad;
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          const v = this.mem[(at + i) % this.mem.length]!;
          out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
        }
        return { status: STATUS.OK, payload: out };
      }
      case REQ.STREAM_WRITE: {
        const ch = a[0]!;
        if (ch >= this.hub.length) return { status: STATUS.BAD_TARGET, payload: [] };
        const data = a.subarray(1);
        if (data.length > this.hubDepth - this.hub[ch]!.length) {
          this.stalled = true;
          this.stallSeq = seq;
          this.stats.busy++;
          return { status: STATUS.BUSY, payload: [seq] };
        }
        this.hub[ch]!.push(...data);
        this.delivered[ch]!.push(...data);
        return { status: STATUS.OK, payload: [] };
      }
      case REQ.STREAM_READ: {
        const ch = a[0]!;
        if (ch >= this.outs.length) return { status: STATUS.BAD_TARGET, payload: [] };
        const max = dv.getUint16(1, true);
        if (a.length !== 3 || max > this.map.link.maxPayload) return bad;
        const out: number[] = [];
        const q = this.outs[ch]!;
        while (q.length && out.length + q[0]!.length <= max) out.push(...q.shift()!);
        return { status: STATUS.OK, payload: out };
      }
    }
    return bad;
  }
}
