import type { ModuleInterface, PortDesc, StreamDesc } from '../generator/hdl/interface';
import type { Word } from './codec';
import { harnessLayout, limbsFor } from './harness';
import { SimProcess } from './process';
import type { Beats, PushOptions, SimStats, StallSpec, StartOptions } from './run-types';
import { CMD_FINISH, CMD_RUN, CMD_STATS, ReplyDecoder, encodeCollect, encodePush, encodeRead, encodeSet, encodeStall, encodeStep, encodeTrace } from './wire';

/**
 * One running simulator process and its promise state: which collects, runs, reads and stats wait for which reply
 * (docs/sim.md). The bytes are encoded and decoded in sim/wire.ts; the process itself is sim/process.ts.
 */

export type { Beats, PushOptions, SimStats, StallSpec, StartOptions, StreamStats } from './run-types';

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

// Internal run acks: their failures reach the caller through the promise it holds.
const noop = (): void => undefined;

export class SimRun {
  readonly design: string;
  private readonly proc: SimProcess;
  private readonly decoder: ReplyDecoder;
  private readonly touched = new Set<number>();
  private readonly ins: StreamDesc[];
  private readonly outs: StreamDesc[];
  private readonly ports: PortDesc[];
  private readonly outSigned: boolean[];
  private readonly inIndex = new Map<string, number>();
  private readonly outIndex = new Map<string, number>();
  private readonly portIndex = new Map<string, number>();
  private error: Error | null = null;
  private finished = false;
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

    this.proc = new SimProcess(binary, args, opts.log);
    this.decoder = new ReplyDecoder(this.ins, this.outs, this.ports, this.outSigned, {
      beat: (id, data, cycle, last) => this.onBeat(id, data, cycle, last),
      inputStamp: (id, cycle) => this.inStamps[id]?.push(cycle),
      runDone: (reason, sid, cycle) => this.onRunDone(reason, sid, cycle),
      read: (_id, v) => this.readWaiters.shift()?.w.resolve(v),
      stats: (st) => this.onStats(st),
    });
    const child = this.proc.child;
    child.stdout.on('data', (b: Buffer) => this.onData(b));
    child.on('error', (e) => this.fail(new Error(`sim '${this.design}': cannot start simulator ${binary}: ${e.message}`)));
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        if (!this.finished) {
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          this.fail(new Error(`sim '${this.design}': simulator ${how} near cycle ${this.lastCycle}${this.proc.logSuffix()}`));
        }
        resolve();
      });
    });
    for (const c of stallCmds) this.send(c);
  }

  /** Process id of the simulator. */
  get pid(): number | undefined {
    return this.proc.child.pid;
  }

  /** Simulated cycle of the latest report from the simulator. */
  get cycle(): number {
    return this.lastCycle;
  }

  /** Simulator stderr seen so far (last 16 KiB). */
  log(): string {
    return this.proc.log();
  }

  // ---- commands

  set(port: string, value: Word): void {
    this.check();
    const id = this.portId(port);
    const p = this.ports[id]!;
    if (p.dir !== 'input') throw new Error(`sim '${this.design}': port '${port}' is an output; only plain inputs can be set`);
    this.send(encodeSet(id, p.width, value, `sim '${this.design}': port '${port}'`));
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
    const base = this.pushed[id]!;
    let ok = true;
    for (const cmd of encodePush(id, s.width, words, last, Boolean(opts.more), (i) => `sim '${this.design}': stream '${stream}' beat ${base + i}`)) ok = this.send(cmd);
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
    this.send(encodeCollect(id, this.requested[id]!));
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
    const p = new Promise<number>((resolve, reject) => this.runWaiters.push({ resolve, reject }));
    this.send(encodeStep(n));
    return p;
  }

  /** Value of a plain port at the current cycle (after the last clock edge). */
  read(port: string): Promise<bigint> {
    this.check();
    const id = this.portId(port);
    const p = new Promise<bigint>((resolve, reject) => this.readWaiters.push({ port: id, w: { resolve, reject } }));
    this.send(encodeRead(id));
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
    this.send(encodeTrace(on));
  }

  /** Cycle counts so far, without ending the run. */
  stats(): Promise<SimStats> {
    this.check();
    const p = new Promise<SimStats>((resolve, reject) => this.statsWaiters.push({ resolve, reject }));
    this.send(CMD_STATS);
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
    this.send(CMD_FINISH);
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
    const add = (kind: 0 | 1, id: number, name: string): void => {
      const p = spec[name] ?? spec.default;
      if (p === undefined) return;
      if (!(p >= 0 && p < 1)) throw new Error(`sim '${this.design}': stall probability for '${name}' must be in [0, 1) (got ${p})`);
      cmds.push(encodeStall(kind, id, p));
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
    this.send(CMD_RUN);
    return p;
  }

  private send(buf: Buffer): boolean {
    if (this.error) return true;
    return this.proc.child.stdin.write(buf);
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.proc.child.stdin.off('drain', done);
        this.proc.child.off('close', done);
        if (this.error) reject(this.error);
        else resolve();
      };
      this.proc.child.stdin.once('drain', done);
      this.proc.child.once('close', done);
    });
  }

  private fail(e: Error): void {
    if (this.error) return;
    this.error = e;
    if (this.proc.running) this.proc.child.kill('SIGKILL');
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

  private onBeat(id: number, data: bigint, cycle: number, last: boolean): void {
    const r = this.received[id]!;
    r.last.push(last);
    r.cycles.push(cycle);
    r.data.push(data);
    this.lastCycle = cycle;
    this.touched.add(id);
  }

  private serveTouched(): void {
    for (const id of this.touched) this.serveCollectors(id);
    this.touched.clear();
  }

  private onRunDone(reason: number, sid: number, cycle: number): void {
    this.lastCycle = cycle;
    this.serveTouched();
    this.runWaiters.shift()?.resolve(this.lastCycle);
    // A pending collect may still get its data from a later push; finish cannot.
    if (reason === 1 && this.runWaiters.length === 0 && this.finishWaiter) {
      const name = this.ins[sid]?.name ?? `#${sid}`;
      throw new Error(`input stream '${name}' ran dry at cycle ${this.lastCycle} but was pushed with more: true; push the rest or call end('${name}')`);
    }
  }

  private onStats(st: SimStats): void {
    this.lastCycle = st.cycles;
    const w = this.statsWaiters.shift();
    if (w) return w.resolve(st);
    if (!this.finishWaiter) return;
    this.finished = true;
    const fw = this.finishWaiter;
    this.finishWaiter = null;
    for (const [i, q] of this.collectors.entries())
      for (const c of q.splice(0)) c.w.reject(new Error(`sim '${this.design}': finished at cycle ${st.cycles} before ${c.n} more beat(s) arrived on '${this.outs[i]!.name}'`));
    fw.resolve(st);
  }

  private onData(chunk: Buffer): void {
    try {
      this.decoder.feed(chunk);
    } catch (e) {
      this.touched.clear();
      this.fail(new Error(`sim '${this.design}': ${(e as Error).message}${this.proc.logSuffix()}`));
      return;
    }
    this.serveTouched();
  }
}
