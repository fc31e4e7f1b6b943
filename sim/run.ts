import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { endianness } from 'node:os';
import type { ModuleInterface, PortDesc, StreamDesc } from '../generator/hdl/interface';
import { decodeWord, encodeWord, type Word } from './codec';
import { harnessLayout, limbsFor } from './harness';

/** One running simulator process and the Node side of the binary protocol (docs/sim.md). */

if (endianness() !== 'LE') throw new Error('sim: the protocol assumes a little-endian host');

/** Stall probability per stream name; `default` applies to every stream not named. Each in [0, 1). */
export type StallSpec = Record<string, number | undefined> & { default?: number };

export interface StartOptions {
  seed?: number;
  stall?: StallSpec;
  /** Write an FST waveform here (needs a build with trace: true). */
  traceFile?: string;
  /** Hard limit on simulated cycles (after reset). Default 1e8. */
  maxCycles?: number;
  /** Watchdog: cycles without any stream transfer while work is pending. Default 1e6. */
  idleCycles?: number;
  /** Cycles reset is held before cycle 0. Default 4. */
  resetCycles?: number;
  /** Record the cycle of every input transfer (inputCycles()). Default false. */
  stampInputs?: boolean;
  /** Simulator stderr ($display etc.): kept as a tail for errors ('tail', default), also copied to our stderr ('inherit'), or appended to a file path. */
  log?: 'tail' | 'inherit' | string;
}

export interface Beats {
  data: bigint[];
  /** Cycle of each transfer (cycle 0 = first cycle after reset release). */
  cycles: number[];
  /** Present when the stream has a last signal. */
  last?: boolean[];
}

export interface StreamStats {
  dir: 'in' | 'out';
  beats: number;
  firstCycle: number | null;
  lastCycle: number | null;
}

export interface SimStats {
  cycles: number;
  streams: Record<string, StreamStats>;
}

export interface PushOptions {
  /** Per-beat last flags, or true = last on the final beat of this push only. */
  last?: boolean[] | boolean;
  /** More beats will follow: the simulator runs on this data now and pauses when it runs dry (streaming mode). */
  more?: boolean;
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

// Internal run acks: their failures reach the caller through the promise it holds.
const noop = (): void => undefined;

const liveChildren = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;
function track(child: ChildProcessWithoutNullStreams): void {
  liveChildren.add(child);
  child.on('close', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

/** Beats per PUSH command: keeps each write moderate so pipe backpressure works. */
const CHUNK_BYTES = 256 * 1024;
const TAIL_BYTES = 16 * 1024;

function u64(buf: Buffer, off: number): number {
  const lo = buf.readUInt32LE(off);
  const hi = buf.readUInt32LE(off + 4);
  if (hi === 0xffffffff && lo === 0xffffffff) return -1;
  return hi * 4294967296 + lo;
}

export class SimRun {
  readonly design: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly ins: StreamDesc[];
  private readonly outs: StreamDesc[];
  private readonly ports: PortDesc[];
  private readonly outSigned: boolean[];
  private readonly inIndex = new Map<string, number>();
  private readonly outIndex = new Map<string, number>();
  private readonly portIndex = new Map<string, number>();
  private rx: Buffer = Buffer.alloc(0);
  private error: Error | null = null;
  private finished = false;
  private logTail = '';
  private logFile: WriteStream | null = null;
  private lastCycle = 0;
  private readonly received: { data: bigint[]; cycles: number[]; last: boolean[]; head: number }[];
  private readonly requested: number[];
  private readonly collectors: { n: number; w: Waiter<Beats> }[][];
  private readonly pushed: number[];
  private readonly inStamps: number[][];
  private readonly runWaiters: Waiter<number>[] = [];
  private readonly readWaiters: { port: number; w: Waiter<bigint> }[] = [];
  private readonly statsWaiters: Waiter<SimStats>[] = [];
  private finishWaiter: Waiter<SimStats> | null = null;
  private runScheduled = false;
  /** Resolves when the simulator process has exited and its pipes are closed. */
  readonly exited: Promise<void>;

  constructor(binary: string, iface: ModuleInterface, opts: StartOptions = {}) {
    this.design = iface.name;
    const lay = harnessLayout(iface);
    this.ins = lay.inStreams;
    this.outs = lay.outStreams;
    this.ports = lay.ports;
    this.ins.forEach((s, i) => this.inIndex.set(s.name, i));
    this.outs.forEach((s, i) => this.outIndex.set(s.name, i));
    this.ports.forEach((p, i) => this.portIndex.set(p.name, i));
    const portByName = new Map(iface.ports.map((p) => [p.name, p]));
    this.outSigned = this.outs.map((s) => portByName.get(s.data)?.signed ?? false);
    this.received = this.outs.map(() => ({ data: [], cycles: [], last: [], head: 0 }));
    this.requested = this.outs.map(() => 0);
    this.collectors = this.outs.map(() => []);
    this.pushed = this.ins.map(() => 0);
    this.inStamps = this.ins.map(() => []);

    const args = ['--seed', String(opts.seed ?? 1)];
    const intOpt = (name: string, v: number | undefined, flag: string, min: number): void => {
      if (v === undefined) return;
      if (!Number.isInteger(v) || v < min) throw new Error(`sim '${this.design}': option ${name} must be an integer >= ${min} (got ${v})`);
      args.push(flag, String(v));
    };
    if (opts.seed !== undefined && (!Number.isInteger(opts.seed) || opts.seed < 0)) throw new Error(`sim '${this.design}': seed must be a non-negative integer (got ${opts.seed})`);
    intOpt('maxCycles', opts.maxCycles, '--max-cycles', 1);
    intOpt('idleCycles', opts.idleCycles, '--idle-cycles', 1);
    intOpt('resetCycles', opts.resetCycles, '--reset-cycles', 1);
    if (opts.stampInputs) args.push('--stamp-inputs');
    if (opts.traceFile) args.push('--trace', opts.traceFile);
    const stallCmds = this.stallCommands(opts.stall ?? {});

    this.child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    track(this.child);
    if (opts.log && opts.log !== 'tail' && opts.log !== 'inherit') this.logFile = createWriteStream(opts.log, { flags: 'a' });
    const inherit = opts.log === 'inherit';
    this.child.stderr.on('data', (b: Buffer) => {
      if (inherit) process.stderr.write(b);
      this.logFile?.write(b);
      this.logTail = (this.logTail + b.toString('utf8')).slice(-TAIL_BYTES);
    });
    this.child.stdout.on('data', (b: Buffer) => this.onData(b));
    this.child.stdin.on('error', () => {
      /* EPIPE after a crash: reported by 'close' below */
    });
    this.child.on('error', (e) => this.fail(new Error(`sim '${this.design}': cannot start simulator ${binary}: ${e.message}`)));
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.logFile?.end();
        if (!this.finished) {
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          this.fail(new Error(`sim '${this.design}': simulator ${how} near cycle ${this.lastCycle}${this.logSuffix()}`));
        }
        resolve();
      });
    });
    for (const c of stallCmds) this.send(c);
  }

  /** Process id of the simulator. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Simulated cycle of the latest report from the simulator. */
  get cycle(): number {
    return this.lastCycle;
  }

  /** Simulator stderr seen so far (last 16 KiB). */
  log(): string {
    return this.logTail;
  }

  // ---- commands

  set(port: string, value: Word): void {
    this.check();
    const id = this.portId(port);
    const p = this.ports[id]!;
    if (p.dir !== 'input') throw new Error(`sim '${this.design}': port '${port}' is an output; only plain inputs can be set`);
    const nl = limbsFor(p.width);
    const buf = Buffer.alloc(3 + nl * 4);
    buf[0] = 0x53; // 'S'
    buf.writeUInt16LE(id, 1);
    const limbs = new Uint32Array(nl);
    encodeWord(value, p.width, nl, limbs, 0, `sim '${this.design}': port '${port}'`);
    Buffer.from(limbs.buffer).copy(buf, 3);
    this.send(buf);
  }

  /**
   * Queues beats on an input stream. Words are bigint/number (any width), or a Uint32Array of pre-packed
   * little-endian limbs (ceil(width/32) per beat). Resolves when the pipe has room again (await it for backpressure).
   */
  push(stream: string, words: readonly Word[] | Uint32Array, opts: PushOptions = {}): Promise<void> {
    this.check();
    const id = this.inId(stream);
    const s = this.ins[id]!;
    const nl = limbsFor(s.width);
    const packed = words instanceof Uint32Array;
    if (packed && words.length % nl !== 0) throw new Error(`sim '${this.design}': stream '${stream}': packed limbs length ${words.length} is not a multiple of ${nl}`);
    const n = packed ? words.length / nl : words.length;
    let last: boolean[] | null = null;
    if (Array.isArray(opts.last)) {
      if (opts.last.length !== n) throw new Error(`sim '${this.design}': stream '${stream}': ${opts.last.length} last flags for ${n} beats`);
      last = opts.last;
    } else if (opts.last === true) {
      last = Array.from({ length: n }, (_, i) => i === n - 1);
    }
    if (last && !s.last) throw new Error(`sim '${this.design}': stream '${stream}' has no last signal`);
    const flags = (opts.more ? 1 : 0) | (last ? 2 : 0);
    const per = Math.max(1, Math.floor(CHUNK_BYTES / (nl * 4 + 1)));
    let ok = true;
    for (let b0 = 0; b0 < n || (n === 0 && b0 === 0); b0 += per) {
      const k = Math.min(per, n - b0);
      const dataBytes = k * nl * 4;
      const ab = new ArrayBuffer(8 + dataBytes + (last ? k : 0));
      const buf = Buffer.from(ab);
      buf[0] = 0x50; // 'P'
      buf.writeUInt16LE(id, 1);
      buf[3] = flags;
      buf.writeUInt32LE(k, 4);
      const limbs = new Uint32Array(ab, 8, k * nl);
      if (packed) limbs.set((words as Uint32Array).subarray(b0 * nl, (b0 + k) * nl));
      else {
        const ws = words as readonly Word[];
        for (let i = 0; i < k; i++) encodeWord(ws[b0 + i]!, s.width, nl, limbs, i * nl, `sim '${this.design}': stream '${stream}' beat ${this.pushed[id]! + b0 + i}`);
      }
      if (last) for (let i = 0; i < k; i++) buf[8 + dataBytes + i] = last[b0 + i] ? 1 : 0;
      ok = this.send(buf);
      if (n === 0) break;
    }
    this.pushed[id]! += n;
    // Streaming, or someone is waiting for outputs: let the simulator consume this.
    if (opts.more || this.collectors.some((c) => c.length > 0)) this.scheduleRun();
    return ok ? Promise.resolve() : this.drained();
  }

  /** Closes a stream that was pushed with more: true (no more beats will come). */
  end(stream: string): Promise<void> {
    return this.push(stream, []);
  }

  /** Resolves with the next n beats of an output stream, running the simulation until they arrive. */
  collect(stream: string, n: number): Promise<Beats> {
    this.check();
    const id = this.outId(stream);
    if (!Number.isInteger(n) || n < 0) throw new Error(`sim '${this.design}': collect('${stream}', ${n}): count must be a non-negative integer`);
    const p = new Promise<Beats>((resolve, reject) => this.collectors[id]!.push({ n, w: { resolve, reject } }));
    this.requested[id]! += n;
    const buf = Buffer.alloc(11);
    buf[0] = 0x45; // 'E'
    buf.writeUInt16LE(id, 1);
    buf.writeBigUInt64LE(BigInt(this.requested[id]!), 3);
    this.send(buf);
    this.scheduleRun();
    this.serveCollectors(id);
    return p;
  }

  /** Output beats received so far and not yet collected (does not run the simulation). */
  take(stream: string): Beats {
    const id = this.outId(stream);
    const r = this.received[id]!;
    return this.takeBeats(id, r.data.length - r.head);
  }

  /** Runs until every pushed beat is consumed and every collect is satisfied. Resolves with the cycle. */
  run(): Promise<number> {
    this.check();
    return this.runCmd();
  }

  /** Runs exactly n more cycles (only maxCycles applies). */
  step(n: number): Promise<number> {
    this.check();
    if (!Number.isInteger(n) || n < 1) throw new Error(`sim '${this.design}': step(${n}): must be a positive integer`);
    const buf = Buffer.alloc(9);
    buf[0] = 0x4e; // 'N'
    buf.writeBigUInt64LE(BigInt(n), 1);
    const p = new Promise<number>((resolve, reject) => this.runWaiters.push({ resolve, reject }));
    this.send(buf);
    return p;
  }

  /** Value of a plain port at the current cycle (after the last clock edge). */
  read(port: string): Promise<bigint> {
    this.check();
    const id = this.portId(port);
    const buf = Buffer.alloc(3);
    buf[0] = 0x47; // 'G'
    buf.writeUInt16LE(id, 1);
    const p = new Promise<bigint>((resolve, reject) => this.readWaiters.push({ port: id, w: { resolve, reject } }));
    this.send(buf);
    return p;
  }

  /** Changes stall probabilities from now on (names not given keep their current setting unless `default` is given). */
  stall(spec: StallSpec): void {
    this.check();
    for (const c of this.stallCommands(spec)) this.send(c);
  }

  /** Pauses (false) or resumes (true) FST dumping; no effect without traceFile. */
  trace(on: boolean): void {
    this.check();
    this.send(Buffer.from([0x57, on ? 1 : 0]));
  }

  /** Cycle counts so far, without ending the run. */
  stats(): Promise<SimStats> {
    this.check();
    const p = new Promise<SimStats>((resolve, reject) => this.statsWaiters.push({ resolve, reject }));
    this.send(Buffer.from([0x51]));
    return p;
  }

  /** Cycles of every input transfer on a stream (needs stampInputs: true). */
  inputCycles(stream: string): number[] {
    return this.inStamps[this.inId(stream)]!;
  }

  /** Drains (runs until all pushed input is consumed and collects are met), then ends the simulator. */
  async finish(): Promise<SimStats> {
    this.check();
    const p = new Promise<SimStats>((resolve, reject) => (this.finishWaiter = { resolve, reject }));
    this.runCmd().catch(noop);
    this.send(Buffer.from([0x46]));
    const stats = await p;
    await this.exited;
    return stats;
  }

  /** Kills the simulator (idempotent). Pending promises reject. */
  kill(): void {
    if (!this.error) this.fail(new Error(`sim '${this.design}': killed by the caller`));
  }

  // ---- internals

  private check(): void {
    if (this.error) throw this.error;
    if (this.finished || this.finishWaiter) throw new Error(`sim '${this.design}': run already finished`);
  }

  private inId(name: string): number {
    const id = this.inIndex.get(name);
    if (id === undefined) throw new Error(`sim '${this.design}': no input stream '${name}' (input streams: ${[...this.inIndex.keys()].join(', ') || 'none'})`);
    return id;
  }
  private outId(name: string): number {
    const id = this.outIndex.get(name);
    if (id === undefined) throw new Error(`sim '${this.design}': no output stream '${name}' (output streams: ${[...this.outIndex.keys()].join(', ') || 'none'})`);
    return id;
  }
  private portId(name: string): number {
    const id = this.portIndex.get(name);
    if (id === undefined) throw new Error(`sim '${this.design}': no plain port '${name}' (plain ports: ${[...this.portIndex.keys()].join(', ') || 'none'})`);
    return id;
  }

  private stallCommands(spec: StallSpec): Buffer[] {
    for (const k of Object.keys(spec))
      if (k !== 'default' && !this.inIndex.has(k) && !this.outIndex.has(k))
        throw new Error(`sim '${this.design}': stall: no stream '${k}' (streams: ${[...this.inIndex.keys(), ...this.outIndex.keys()].join(', ')})`);
    const cmds: Buffer[] = [];
    const add = (kind: number, id: number, name: string): void => {
      const p = spec[name] ?? spec.default;
      if (p === undefined) return;
      if (!(p >= 0 && p < 1)) throw new Error(`sim '${this.design}': stall probability for '${name}' must be in [0, 1) (got ${p})`);
      const b = Buffer.alloc(8);
      b[0] = 0x54; // 'T'
      b[1] = kind;
      b.writeUInt16LE(id, 2);
      b.writeUInt32LE(Math.min(0xffffffff, Math.round(p * 4294967296)), 4);
      cmds.push(b);
    };
    this.ins.forEach((s, i) => add(0, i, s.name));
    this.outs.forEach((s, i) => add(1, i, s.name));
    return cmds;
  }

  /**
   * One RUN after the current synchronous block, so that `collect(); push(); push()` runs on all of it and
   * several collects in a row share one RUN.
   */
  private scheduleRun(): void {
    if (this.runScheduled) return;
    this.runScheduled = true;
    queueMicrotask(() => {
      this.runScheduled = false;
      if (!this.error && !this.finished && !this.finishWaiter) this.runCmd().catch(noop);
    });
  }

  private runCmd(): Promise<number> {
    const p = new Promise<number>((resolve, reject) => this.runWaiters.push({ resolve, reject }));
    this.send(Buffer.from([0x52])); // 'R'
    return p;
  }

  private send(buf: Buffer): boolean {
    if (this.error) return true;
    return this.child.stdin.write(buf);
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.child.stdin.off('drain', done);
        this.child.off('close', done);
        if (this.error) reject(this.error);
        else resolve();
      };
      this.child.stdin.once('drain', done);
      this.child.once('close', done);
    });
  }

  private logSuffix(): string {
    const t = this.logTail.trim();
    return t ? `\nsimulator log (tail):\n${t.split('\n').slice(-20).join('\n')}` : '';
  }

  private fail(e: Error): void {
    if (this.error) return;
    this.error = e;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    const all: Waiter<never>[] = [
      ...this.runWaiters.splice(0),
      ...this.readWaiters.splice(0).map((r) => r.w),
      ...this.statsWaiters.splice(0),
      ...this.collectors.flatMap((c) => c.splice(0).map((x) => x.w)),
    ] as Waiter<never>[];
    if (this.finishWaiter) all.push(this.finishWaiter as Waiter<never>);
    this.finishWaiter = null;
    for (const w of all) w.reject(e);
  }

  private takeBeats(id: number, n: number): Beats {
    const r = this.received[id]!;
    const a = r.head;
    const b = a + n;
    const out: Beats = { data: r.data.slice(a, b), cycles: r.cycles.slice(a, b) };
    if (this.outs[id]!.last) out.last = r.last.slice(a, b);
    r.head = b;
    // Drop consumed beats now and then so long runs do not keep everything.
    if (r.head > 65536 && r.head * 2 > r.data.length) {
      r.data.splice(0, r.head);
      r.cycles.splice(0, r.head);
      r.last.splice(0, r.head);
      r.head = 0;
    }
    return out;
  }

  private serveCollectors(id: number): void {
    const q = this.collectors[id]!;
    const r = this.received[id]!;
    while (q.length > 0 && r.data.length - r.head >= q[0]!.n) {
      const c = q.shift()!;
      c.w.resolve(this.takeBeats(id, c.n));
    }
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

  private onData(chunk: Buffer): void {
    const buf = this.rx.length ? Buffer.concat([this.rx, chunk]) : chunk;
    let off = 0;
    const statsLen = 9 + 24 * (this.ins.length + this.outs.length);
    const touched = new Set<number>();
    try {
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
          const r = this.received[id]!;
          const cyc = u64(buf, off + 4);
          r.last.push(buf[off + 3] !== 0);
          r.cycles.push(cyc);
          r.data.push(decodeWord(buf, off + 12, s.width, nl, this.outSigned[id]!));
          this.lastCycle = cyc;
          touched.add(id);
          off += 12 + nl * 4;
        } else if (t === 2) {
          if (avail < 11) break;
          this.inStamps[buf.readUInt16LE(off + 1)]?.push(u64(buf, off + 3));
          off += 11;
        } else if (t === 3) {
          if (avail < 12) break;
          const reason = buf[off + 1]!;
          const sid = buf.readUInt16LE(off + 2);
          this.lastCycle = u64(buf, off + 4);
          off += 12;
          for (const id of touched) this.serveCollectors(id);
          touched.clear();
          this.runWaiters.shift()?.resolve(this.lastCycle);
          // A pending collect may still get its data from a later push; finish cannot.
          if (reason === 1 && this.runWaiters.length === 0 && this.finishWaiter) {
            const name = this.ins[sid]?.name ?? `#${sid}`;
            throw new Error(
              `input stream '${name}' ran dry at cycle ${this.lastCycle} but was pushed with more: true; push the rest or call end('${name}')`,
            );
          }
        } else if (t === 4) {
          if (avail < 3) break;
          const id = buf.readUInt16LE(off + 1);
          const p = this.ports[id];
          if (!p) throw new Error(`protocol: read reply for unknown port id ${id}`);
          const nl = limbsFor(p.width);
          if (avail < 3 + nl * 4) break;
          const v = decodeWord(buf, off + 3, p.width, nl, p.signed);
          off += 3 + nl * 4;
          this.readWaiters.shift()?.w.resolve(v);
        } else if (t === 5) {
          if (avail < statsLen) break;
          const st = this.parseStats(buf, off + 1);
          off += statsLen;
          this.lastCycle = st.cycles;
          const w = this.statsWaiters.shift();
          if (w) w.resolve(st);
          else if (this.finishWaiter) {
            this.finished = true;
            const fw = this.finishWaiter;
            this.finishWaiter = null;
            for (const [i, q] of this.collectors.entries())
              for (const c of q.splice(0))
                c.w.reject(new Error(`sim '${this.design}': finished at cycle ${st.cycles} before ${c.n} more beat(s) arrived on '${this.outs[i]!.name}'`));
            fw.resolve(st);
          }
        } else if (t === 6) {
          if (avail < 5) break;
          const len = buf.readUInt32LE(off + 1);
          if (avail < 5 + len) break;
          const msg = buf.toString('utf8', off + 5, off + 5 + len);
          off += 5 + len;
          throw new Error(msg);
        } else {
          throw new Error(`protocol: unknown message type ${t}`);
        }
      }
    } catch (e) {
      this.rx = Buffer.alloc(0);
      this.fail(new Error(`sim '${this.design}': ${(e as Error).message}${this.logSuffix()}`));
      return;
    }
    for (const id of touched) this.serveCollectors(id);
    this.rx = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
  }
}
