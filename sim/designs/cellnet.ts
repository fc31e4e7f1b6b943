/**
 * Drive the cell sorter in Verilator: optional weight load and register writes, then frames streamed back to back
 * (with optional random input stalls), collecting one event per frame and every edge of the pulse line.
 * The design is wrapped in a monitor (`<top>_mon`) that adds an `edges` output stream: one beat
 * {level, cycle} per change of `pulse`, so pulse timing is observed exactly. Shared by tests and bench/cellnet.ts.
 */
import type { CellnetConfig } from '../../generator/cellnet/config';
import type { QuantizedCellnet } from '../../generator/cellnet/golden';
import { cellnetHw, cellnetModule, cellnetSerialModule, triggerModule, unpackFields, type ArithPlan, type CellnetHw, type TriggerPlan } from '../../generator/cellnet/rtl';
import type { Pulse, RegWrite, TriggerEvent, TriggerRegs } from '../../generator/cellnet/rtl/trigger-golden';
import { regWrites } from '../../generator/cellnet/rtl/trigger-golden';
import { Module, cat, lit, printDesign, type Expr } from '../../generator/hdl';
import { fifoModule } from '../../generator/lib/fifo';
import { InputError } from '../../generator/util/errors';
import { buildSim, type Sim, type StallSpec } from '../index';
import { CAMERA_STREAM, cameraPlayer } from '../camera';

const EDGE_TS_BITS = 32;
/** Width of the age field on the trigger harness's dec stream. */
export const TRIGGER_AGE_BITS = 8;

/** The design plus the pulse-edge monitor; every port and stream of the design is passed through, except the camera
 * port, which the camera player (sim/camera.ts) drives from the `camsrc` stream. */
export function cellnetMonitor(hw: CellnetHw, q: QuantizedCellnet, o: { serial?: boolean } = {}): { top: Module; dut: Module } {
  const dut = o.serial ? cellnetSerialModule(hw, q) : cellnetModule(hw, q);
  const m = new Module(`${dut.name}_mon`, { doc: 'test wrapper: reports every pulse edge with its cycle' });
  const conns: Record<string, Expr> = {};
  for (const s of dut.streams) {
    if (s.name === CAMERA_STREAM) {
      const cam = cameraPlayer(m, hw.ppc);
      conns[s.valid] = cam.valid;
      conns[s.ready] = m.wire('cam_ready_unused', 1);
      conns[s.data] = cam.data;
      conns[s.last!] = cam.last;
      continue;
    }
    const mk = (sig: string, dir: 'in' | 'out', w: number) => (conns[sig] = dir === 'in' ? m.input(sig, w) : m.output(sig, w));
    const inward = s.dir === 'in';
    mk(s.valid, inward ? 'in' : 'out', 1);
    mk(s.ready, inward ? 'out' : 'in', 1);
    mk(s.data, inward ? 'in' : 'out', s.width);
    if (s.last) mk(s.last, inward ? 'in' : 'out', 1);
    m.streams.push({ ...s });
  }
  for (const p of dut.ports) {
    if (p.name === 'clk' || p.name === 'rst' || p.name in conns) continue;
    conns[p.name] = p.role === 'input' ? m.input(p.name, p.width) : m.output(p.name, p.width);
  }
  m.instance(dut, 'dut', conns);
  addEdgeMonitor(m, conns.pulse!, `${dut.name}_mon`);
  return { top: m, dut };
}

/** Edge monitor: an `edges` output stream with one beat {level, cycle} per change of `pulse`. */
function addEdgeMonitor(m: Module, pulse: Expr, prefix: string): void {
  const edges = m.streamOut('edges', EDGE_TS_BITS + 1);
  const cyc = m.reg('cycle', EDGE_TS_BITS, { init: 0 });
  const prev = m.reg('prev', 1, { init: 0 });
  m.sync((b) => b.set(cyc, cyc.add(1)).set(prev, pulse), 'monitor');
  const f = fifoModule(`${prefix}_fifo`, EDGE_TS_BITS + 1, 64);
  const fc = m.wire('fifo_count', f.signals.get('count')!.width);
  const fr = m.wire('fifo_ready', 1);
  m.instance(f, 'edge_fifo', {
    in_valid: pulse.ne(prev),
    in_ready: fr,
    in_data: cat(pulse, cyc),
    out_valid: edges.valid,
    out_ready: edges.ready,
    out_data: edges.data,
    count: fc,
  });
}

/**
 * The trigger unit alone, for fast timing tests: decisions {frame, cls, score} arrive on a `dec` stream (always
 * ready, so input stalls space them randomly), plus cfg, event, the edge monitor and a `soft_rst` input.
 */
export function triggerHarness(hw: CellnetHw): Module {
  const trig = triggerModule(hw, `cellnet_trigger_k${hw.classes}`);
  const m = new Module(`${trig.name}_mon`, { doc: 'test wrapper: the trigger unit driven by a decision stream' });
  // {age (8 bits: cycles from start of frame to the decision, minus one), score, cls, frame}
  const decBits = hw.frameBits + hw.classBits + hw.cfg.scoreBits + TRIGGER_AGE_BITS;
  const lo = hw.frameBits + hw.classBits + hw.cfg.scoreBits;
  const ts = m.wire('ts_now', hw.trigger.tsBits);
  const dec = m.streamIn('dec', decBits);
  m.assign(dec.ready, lit(1, 1));
  const cfg = m.streamIn('cfg', hw.reg.bits);
  const ev = m.streamOut('event', hw.event.bits);
  const pulse = m.output('pulse', 1);
  const armed = m.output('armed', 1);
  const lost = m.output('events_lost', hw.trigger.lostBits);
  // lets a test reset the unit mid-run (the harness only resets at start)
  const softRst = m.input('soft_rst', 1);
  m.instance(trig, 'trigger', {
    rst: m.rst.or(softRst),
    dec_valid: dec.valid,
    dec_frame: dec.data.slice(hw.frameBits - 1, 0),
    dec_cls: dec.data.slice(hw.frameBits + hw.classBits - 1, hw.frameBits),
    dec_score: dec.data.slice(lo - 1, hw.frameBits + hw.classBits),
    dec_sof: ts.add(1).sub(dec.data.slice(decBits - 1, lo).zext(hw.trigger.tsBits)),
    dec_from_sof: lit(1, 1),
    ts_now: ts,
    fired_count: m.output('fired_count', hw.camera.counterBits),
    dropped_count: m.output('dropped_count', hw.camera.counterBits),
    cfg_valid: cfg.valid,
    cfg_ready: cfg.ready,
    cfg_data: cfg.data,
    event_valid: ev.valid,
    event_ready: ev.ready,
    event_data: ev.data,
    pulse,
    armed,
    events_lost: lost,
  });
  addEdgeMonitor(m, pulse, `${trig.name}_mon`);
  return m;
}

/** Pulse intervals from edge-monitor beats (an unfinished pulse ends at Infinity). */
export function decodeEdges(data: readonly bigint[]): Pulse[] {
  const pulses: Pulse[] = [];
  let rise = -1;
  for (const w of data) {
    const level = (w >> BigInt(EDGE_TS_BITS)) & 1n;
    const c = Number(w & ((1n << BigInt(EDGE_TS_BITS)) - 1n));
    if (level === 1n) rise = c;
    else {
      pulses.push({ start: rise, end: c });
      rise = -1;
    }
  }
  if (rise >= 0) pulses.push({ start: rise, end: Infinity });
  return pulses;
}

export function decodeEvent(hw: CellnetHw, w: bigint): TriggerEvent {
  const f = unpackFields(hw.event, w);
  return { frame: f.frame!, cls: f.cls!, score: f.score!, sof: f.sof!, timestamp: f.timestamp!, fired: f.fired === 1, dropped: f.dropped === 1 };
}

export const regWord = (hw: CellnetHw, addr: number, value: number): bigint => (BigInt(addr) << BigInt(hw.reg.dataBits)) | BigInt(value >>> 0);

export interface CellnetSim {
  sim: Sim;
  hw: CellnetHw;
  q: QuantizedCellnet;
}

export async function buildCellnetSim(
  cfg: CellnetConfig,
  q: QuantizedCellnet,
  ppc: number,
  opts: { trace?: boolean; trigger?: Partial<TriggerPlan>; serial?: boolean; arith?: Partial<ArithPlan> } = {},
): Promise<CellnetSim> {
  const hw = cellnetHw(cfg, ppc, opts.trigger, opts.arith);
  const { top } = cellnetMonitor(hw, q, { serial: opts.serial });
  const printed = printDesign(top);
  const sim = await buildSim({ iface: top.interface(), files: printed.files, trace: opts.trace });
  return { sim, hw, q };
}

export interface CellnetRunOptions {
  seed?: number;
  /** Probability of withholding px valid in a cycle (random input stalls). */
  pxStall?: number;
  /** Probability of event ready low in a cycle. */
  eventStall?: number;
  /** Weight-chain bytes to load before the frames (packWeights). */
  load?: readonly number[];
  /** Trigger registers to program before the frames. */
  regs?: TriggerRegs;
  /** Extra register writes issued while the frames stream, each just before the given frame's first pixel. */
  writesAtFrame?: Array<{ frame: number; addr: number; value: number }>;
  /** Cycles to run after the last event so pulses can finish (default: 64 + the largest delay + width programmed). */
  tail?: number;
  /** Put `px_last` on each frame's final beat (default true). */
  last?: boolean;
  traceFile?: string;
  /** Watchdog: cycles without any stream transfer before the run fails (the serial engine computes ~1.4 M cycles per frame). */
  idleCycles?: number;
  /** Extra per-stream stall probabilities (e.g. wload, cfg), over the px/event ones above. */
  stalls?: Record<string, number>;
}

export interface CellnetRunResult {
  events: TriggerEvent[];
  /** Cycle each event left the design. */
  eventCycles: number[];
  pulses: Pulse[];
  /** Register writes with their transfer cycles (for the trigger golden). */
  writes: RegWrite[];
  firstPixel: number[];
  lastPixel: number[];
  status: { overrun: boolean; frameError: boolean; eventsLost: number };
  cycles: number;
}

/** Check and flatten n images of inputSize^2 pixels. */
export function framePixels(hw: CellnetHw, images: Uint8Array | readonly ArrayLike<number>[]): Uint8Array {
  const px = hw.cfg.inputSize * hw.cfg.inputSize;
  if (images instanceof Uint8Array) {
    if (images.length % px !== 0) throw new InputError(`${images.length} pixels is not a whole number of ${hw.cfg.inputSize}x${hw.cfg.inputSize} images`);
    return images;
  }
  const out = new Uint8Array(images.length * px);
  images.forEach((img, i) => {
    if (img.length !== px) throw new InputError(`image ${i} has ${img.length} pixels, expected ${hw.cfg.inputSize}x${hw.cfg.inputSize} = ${px}`);
    for (let j = 0; j < px; j++) {
      const v = img[j]!;
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new InputError(`image ${i} pixel ${j} is ${v}, expected uint8`);
      out[i * px + j] = v;
    }
  });
  return out;
}

export async function runCellnet(cs: CellnetSim, images: Uint8Array | readonly ArrayLike<number>[], opts: CellnetRunOptions = {}): Promise<CellnetRunResult> {
  const { hw } = cs;
  const pixels = framePixels(hw, images);
  const px = hw.cfg.inputSize * hw.cfg.inputSize;
  const frames = pixels.length / px;
  const beatsPerFrame = hw.frameBeats;
  const ppc = hw.ppc;
  const words: bigint[] = new Array(frames * beatsPerFrame);
  const last: boolean[] = new Array(frames * beatsPerFrame);
  for (let b = 0; b < words.length; b++) {
    let w = 0n;
    for (let i = ppc - 1; i >= 0; i--) w = (w << 8n) | BigInt(pixels[b * ppc + i]!);
    words[b] = w;
    last[b] = (opts.last ?? true) && b % beatsPerFrame === beatsPerFrame - 1;
  }
  const run = await cs.sim.start({
    seed: opts.seed ?? 1,
    stall: { default: 0, px: opts.pxStall ?? 0, event: opts.eventStall ?? 0, edges: 0, ...opts.stalls },
    stampInputs: true,
    traceFile: opts.traceFile,
    maxCycles: 1e10,
    idleCycles: opts.idleCycles,
  });
  try {
    if (opts.load?.length) {
      await run.push('wload', [...opts.load]);
      await run.run();
    }
    if (opts.regs) {
      await run.push('cfg', regWrites(opts.regs).map((w) => regWord(hw, w.addr, w.value)));
      await run.run();
    }
    const atFrame = [...(opts.writesAtFrame ?? [])].sort((a, b) => a.frame - b.frame);
    const collected = run.collect('event', frames);
    // Frames go in chunks split at frames that carry register writes, so each write lands before its frame.
    let f0 = 0;
    const cuts = [...new Set(atFrame.map((w) => w.frame).filter((f) => f > 0 && f < frames))].sort((a, b) => a - b);
    for (const cut of [...cuts, frames]) {
      const ws = atFrame.filter((w) => w.frame === f0);
      if (ws.length) await run.push('cfg', ws.map((w) => regWord(hw, w.addr, w.value)));
      const lo = f0 * beatsPerFrame;
      const hi = cut * beatsPerFrame;
      await run.push('px', words.slice(lo, hi), { last: last.slice(lo, hi), more: cut < frames });
      f0 = cut;
    }
    const ev = await collected;
    // long enough for the last decision's pulse: the programmed delay + width (any rewritten value, conservatively)
    const span = Math.max(opts.regs ? opts.regs.delay + opts.regs.width : 0, ...atFrame.map((w) => w.value));
    await run.step(opts.tail ?? 64 + span);
    const edgeBeats = run.take('edges');
    const status = {
      overrun: (await run.read('overrun')) !== 0n,
      frameError: (await run.read('frame_error')) !== 0n,
      eventsLost: Number(await run.read('events_lost')),
    };
    const pxCycles = run.inputCycles('px');
    const cfgCycles = run.inputCycles('cfg');
    const stats = await run.finish();
    const events = ev.data.map((w) => decodeEvent(hw, w));
    const pulses = decodeEdges(edgeBeats.data);
    const allWrites = [...(opts.regs ? regWrites(opts.regs) : []), ...atFrame.map((w) => ({ addr: w.addr, value: w.value }))];
    const writes: RegWrite[] = allWrites.map((w, i) => ({ ...w, cycle: cfgCycles[i]! }));
    return {
      events,
      eventCycles: ev.cycles,
      pulses,
      writes,
      firstPixel: Array.from({ length: frames }, (_, i) => pxCycles[i * beatsPerFrame]!),
      lastPixel: Array.from({ length: frames }, (_, i) => pxCycles[(i + 1) * beatsPerFrame - 1]!),
      status,
      cycles: stats.cycles,
    };
  } finally {
    run.kill();
  }
}

