/**
 * `lutforge sort --camera`: the camera runs inside the simulation (sim/camera.ts), so pixels never cross the host
 * link. The host programs the registers, the camera model plays frames at the requested rate into the core's
 * AXI4-Stream video port, and the host reads events, pulse edges and counters. With `check`, every event is compared
 * with the golden classifier on the same crop and the trigger golden, and every pulse with start of frame + delay.
 *
 * The frames are prepared before the run (a camera does not synthesise them) and handed to the simulator in bulk;
 * the decision rate is wall clock from the first beat to the last decision; the golden check runs afterwards and
 * its time is reported apart.
 */
import { readFileSync } from 'node:fs';
import { goldenClassify } from '../../generator/cellnet/golden';
import { parseIdx } from '../../generator/cellnet/idx';
import { cellnetDesign, type CellnetDesign } from '../../generator/cellnet/rtl/design';
import { CTRL_CAMERA, CTRL_ENABLE, EVENT_MODES, REGS } from '../../generator/cellnet/rtl/plan';
import { triggerGolden, type Pulse, type TriggerEvent } from '../../generator/cellnet/rtl/trigger-golden';
import { CAMERA_COUNTERS } from '../../generator/cellnet/rtl/camera';
import { synthImages, FRAME } from '../../generator/cellnet/synth';
import { ConfigError, InputError } from '../../generator/util/errors';
import { CAMSRC_STREAM, CameraBeats, cameraTiming, checkFrame, type CameraTiming } from '../../sim/camera';
import { buildCellnetSim, decodeEdges, decodeEvent, regWord } from '../../sim/designs/cellnet';
import { classMask } from './replay';

export interface CameraSortRequest {
  device: string;
  /** synthetic:N[@FPS] or FILE.idx[@FPS]. */
  camera: string;
  sort: string[];
  threshold: number;
  delayUs: number;
  widthUs: number;
  ppc: number;
  seed: number;
  check: boolean;
  /** all | fired | 1/N */
  events: string;
  background: number;
  presence: number;
  clockHz: number;
}

export interface CameraSortSummary {
  device: string;
  camera: string;
  frames: number;
  fps: number;
  events: number;
  eventMode: string;
  perClass: Record<string, number>;
  empty: number;
  pulses: number;
  /** Frames lost anywhere: camera overflow, camera errors, late/queue-full decisions, lost events. */
  drops: number;
  counters: Record<string, number>;
  decisionsPerSecond: number;
  /** Wall clock from the first camera beat handed to the simulator to the last decision. */
  wallSeconds: number;
  /** Wall clock to synthesise or read the frames and pack them for the camera model (before the run). */
  prepareSeconds: number;
  /** Wall clock of the golden check (after the run). */
  checkSeconds: number;
  clockMhz: number;
  sofToDecision: { minCycles: number; maxCycles: number; minUs: number; maxUs: number };
  sofToTrigger: { cycles: number | null; us: number | null; jitterCycles: number | null };
  goldenChecked: boolean;
  goldenMismatches: number;
  pulseMismatches: number;
  simCycles: number;
}

export interface CameraSortRun {
  summary: CameraSortSummary;
  sofToDecisionCycles: number[];
}

const CHUNK = 100;

interface FrameSource {
  n: number;
  width: number;
  height: number;
  frames(i0: number, i1: number): Uint8Array;
}

function parseSpec(spec: string): { src: string; fps?: number } {
  const at = spec.lastIndexOf('@');
  if (at < 0) return { src: spec };
  const fps = Number(spec.slice(at + 1));
  if (!Number.isFinite(fps) || fps <= 0) throw new InputError(`--camera ${spec}: the rate after @ must be a positive number of frames/s`);
  return { src: spec.slice(0, at), fps };
}

function frameSource(src: string, seed: number, d: CellnetDesign): FrameSource {
  const syn = /^synthetic:(\d+)$/.exec(src);
  if (syn) {
    const n = Number(syn[1]);
    if (n < 1) throw new InputError(`--camera ${src}: need at least one frame`);
    const labels = d.cfg.classes.map((c) => c.label);
    return { n, width: FRAME, height: FRAME, frames: (i0, i1) => synthImages(i1, { seed, labels }).pixels.subarray(i0 * FRAME * FRAME) };
  }
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(readFileSync(src));
  } catch (e) {
    throw new InputError(`--camera ${src}: cannot read: ${(e as Error).message}`);
  }
  const idx = parseIdx(buf, src);
  if (idx.dims.length !== 3) throw new InputError(`${src}: expected an IDX file of frames (3 dimensions: n, height, width), got ${idx.dims.length}`);
  if (!(idx.data instanceof Uint8Array)) throw new InputError(`${src}: frames must be uint8`);
  const [n, h, w] = idx.dims as [number, number, number];
  const data = idx.data as Uint8Array;
  return { n, width: w, height: h, frames: (i0, i1) => data.subarray(i0 * w * h, i1 * w * h) };
}

function eventMode(s: string): { mode: number; n: number; label: string } {
  if (s === 'all') return { mode: EVENT_MODES.ALL, n: 0, label: 'all' };
  if (s === 'fired') return { mode: EVENT_MODES.FIRED, n: 0, label: 'fired' };
  const m = /^1\/(\d+)$/.exec(s);
  if (m && Number(m[1]) >= 1 && Number(m[1]) < 65536) return { mode: EVENT_MODES.ONE_IN_N, n: Number(m[1]), label: s };
  throw new ConfigError('events', "must be 'all', 'fired' or '1/N' (N in 1..65535)", s);
}

function cropOf(px: Uint8Array, w: number, cx: number, cy: number, S: number): Uint8Array {
  const out = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) out.set(px.subarray((y + cy) * w + cx, (y + cy) * w + cx + S), y * S);
  return out;
}

export async function runCameraSorter(req: CameraSortRequest, onProgress?: (frames: number, total: number) => void): Promise<CameraSortRun> {
  if (req.device !== 'sim')
    throw new ConfigError('device', '--camera runs the camera model inside the simulator; on a board use --images (the camera link to boards is not built yet)', req.device);
  const d = cellnetDesign({ ppc: req.ppc });
  const hw = d.hw;
  const names = d.cfg.classes.map((c) => c.name);
  const { src, fps } = parseSpec(req.camera);
  const source = frameSource(src, req.seed, d);
  const S = d.cfg.inputSize;
  const cropX = Math.floor((source.width - S) / 2 / hw.ppc) * hw.ppc;
  const cropY = Math.floor((source.height - S) / 2);
  checkFrame(hw, source.width, source.height, cropX, cropY);
  const t: CameraTiming = cameraTiming(hw, source.width, source.height, req.clockHz, fps);
  const cyc = (name: string, us: number): number => {
    if (!Number.isFinite(us) || us < 0) throw new ConfigError(name, 'must be a non-negative number of µs', us);
    return Math.round((us * req.clockHz) / 1e6);
  };
  const delay = cyc('delay-us', req.delayUs);
  const width = cyc('width-us', req.widthUs);
  if (delay >= 2 ** hw.trigger.delayBits) throw new ConfigError('delay-us', `must be below ${((2 ** hw.trigger.delayBits / req.clockHz) * 1e6).toFixed(0)} µs`, req.delayUs);
  if (width < 1 || width >= 2 ** hw.trigger.widthBits) throw new ConfigError('width-us', `must give 1..${2 ** hw.trigger.widthBits - 1} cycles`, req.widthUs);
  const frameLines = t.height * t.lineBeats + (t.height - 1) * t.hblank;
  if (delay <= frameLines)
    throw new ConfigError('delay-us', `the pulse delay counts from start of frame and must exceed the frame's ${frameLines} cycles (${((frameLines / req.clockHz) * 1e6).toFixed(2)} µs)`, req.delayUs);
  if (!Number.isInteger(req.threshold) || req.threshold < 0) throw new ConfigError('threshold', 'must be a non-negative integer score', req.threshold);
  if (!Number.isInteger(req.background) || req.background < 0 || req.background > 255) throw new ConfigError('background', 'must be a grey level 0..255', req.background);
  if (!Number.isInteger(req.presence) || req.presence < 0 || req.presence >= 2 ** hw.camera.sumBits) throw new ConfigError('presence', `must be 0..${2 ** hw.camera.sumBits - 1}`, req.presence);
  const em = eventMode(req.events);
  const mask = classMask(names, req.sort);
  const writes = [
    { addr: REGS.FRAME_W, value: t.width },
    { addr: REGS.FRAME_H, value: t.height },
    { addr: REGS.CROP_X, value: cropX },
    { addr: REGS.CROP_Y, value: cropY },
    { addr: REGS.BACKGROUND, value: req.background },
    { addr: REGS.PRESENCE, value: req.presence },
    { addr: REGS.CLASS_MASK, value: mask },
    { addr: REGS.THRESHOLD, value: req.threshold },
    { addr: REGS.DELAY, value: delay },
    { addr: REGS.WIDTH, value: width },
    { addr: REGS.EVENT_MODE, value: em.mode },
    { addr: REGS.EVENT_N, value: em.n },
    { addr: REGS.CTRL, value: CTRL_ENABLE | CTRL_CAMERA },
  ];

  const cs = await buildCellnetSim(d.cfg, d.q, hw.ppc);
  const run = await cs.sim.start({ seed: req.seed, stall: { default: 0 }, stampInputs: true, maxCycles: Number.MAX_SAFE_INTEGER, idleCycles: 2 ** 30 });
  const events: TriggerEvent[] = [];
  const golden: Array<{ cls: number; score: number }> = [];
  // The camera's frames exist before it runs (a real camera does not synthesise them): prepare them first.
  const tPrep = performance.now();
  const px = source.frames(0, source.n);
  const beats = new CameraBeats(hw.ppc);
  for (let i = 0; i < source.n; i++) addFrameBeats(beats, t, px, i, i === 0 ? 0 : t.vblank);
  const prepSeconds = (performance.now() - tPrep) / 1000;
  let t0 = performance.now();
  let tEnd = t0;
  let checkSeconds = 0;
  try {
    await run.push('cfg', writes.map((w) => regWord(hw, w.addr, w.value)));
    await run.run();
    const take = (): void => {
      const got = run.take('event').data;
      for (const w of got) events.push(decodeEvent(hw, w));
    };
    t0 = performance.now();
    const L = beats.limbsPerBeat;
    const per = CHUNK * t.height * t.lineBeats;
    for (let b0 = 0; b0 < beats.n; b0 += per) {
      const b1 = Math.min(beats.n, b0 + per);
      await run.push(CAMSRC_STREAM, beats.limbs.subarray(b0 * L, b1 * L), { last: beats.last.slice(b0, b1), more: true });
    }
    await run.end(CAMSRC_STREAM);
    await run.run();
    // the last frame's decision is one frame time after its start of frame
    await run.step(2 * t.period + 64);
    take();
    tEnd = performance.now();
    await run.step(delay + width + 64);
    take();
    const tCheck = performance.now();
    if (req.check) for (let i = 0; i < source.n; i++) golden.push(goldenClassify(d.q, cropOf(px.subarray(i * t.width * t.height), t.width, cropX, cropY, S)));
    checkSeconds = (performance.now() - tCheck) / 1000;
    const rd = async (n: string): Promise<number> => Number(await run.read(n));
    const counters: Record<string, number> = {};
    for (const n of [...CAMERA_COUNTERS, 'empty_frames', 'fired_count', 'dropped_count', 'events_lost']) counters[n] = await rd(n);
    const cls = await run.read('class_counts');
    const CB = BigInt(hw.camera.counterBits);
    const perClass = Object.fromEntries(names.map((nm, k) => [nm, Number((cls >> (CB * BigInt(k))) & ((1n << CB) - 1n))]));
    const pulses = decodeEdges(run.take('edges').data);
    const stamps = run.inputCycles(CAMSRC_STREAM);
    const stats = await run.finish();
    const beatsPerFrame = t.height * t.lineBeats;
    const sofCycle = (f: number): number => stamps[f * beatsPerFrame]!;
    const r = summarise(req, d, t, fps, em.label, events, golden, pulses, counters, perClass, sofCycle, source.n, delay, width, mask, (tEnd - t0) / 1000, stats.cycles);
    r.summary.prepareSeconds = prepSeconds;
    r.summary.checkSeconds = checkSeconds;
    return r;
  } finally {
    run.kill();
  }
}

function addFrameBeats(out: CameraBeats, t: CameraTiming, px: Uint8Array, i: number, firstGap: number): void {
  const base = i * t.width * t.height;
  for (let y = 0; y < t.height; y++)
    for (let b = 0; b < t.lineBeats; b++) out.beat(px, base + y * t.width + b * out.ppc, y === 0 && b === 0, b === t.lineBeats - 1, b === 0 ? (y === 0 ? firstGap : t.hblank) : 0);
}

function summarise(
  req: CameraSortRequest, d: CellnetDesign, t: CameraTiming, fps: number | undefined, mode: string, events: TriggerEvent[], golden: Array<{ cls: number; score: number }>,
  pulses: Pulse[], counters: Record<string, number>, perClass: Record<string, number>, sofCycle: (f: number) => number, frames: number,
  delay: number, width: number, mask: number, wallSeconds: number, simCycles: number,
): CameraSortRun {
  const mhz = req.clockHz / 1e6;
  let goldenMismatches = 0;
  let pulseMismatches = 0;
  if (req.check) {
    // frame ids are 16 bits: the i-th event of frame f (in order) names frame f mod 2^16
    const frameOf: number[] = [];
    let f = 0;
    for (const e of events) {
      while (f < frames && (f & 0xffff) !== e.frame) f++;
      frameOf.push(f++);
    }
    const decisions = events.map((e, i) => ({ frame: e.frame, cls: golden[frameOf[i]!]?.cls ?? -1, score: golden[frameOf[i]!]?.score ?? -1, sof: frameOf[i]! < frames ? sofCycle(frameOf[i]!) : -1, fromSof: true, timestamp: e.timestamp }));
    const regs = [
      { addr: REGS.CLASS_MASK, value: mask, cycle: 0 },
      { addr: REGS.THRESHOLD, value: req.threshold, cycle: 0 },
      { addr: REGS.DELAY, value: delay, cycle: 0 },
      { addr: REGS.WIDTH, value: width, cycle: 0 },
      { addr: REGS.CTRL, value: 1, cycle: 0 },
    ];
    const g = triggerGolden(d.hw, decisions, regs);
    goldenMismatches = events.filter((e, i) => JSON.stringify(e) !== JSON.stringify(g.events[i])).length;
    // every fired event's pulse starts exactly at its start of frame + delay (pulses that touch merge into one)
    const want = g.pulses;
    pulseMismatches = JSON.stringify(pulses) === JSON.stringify(want) ? 0 : Math.max(1, Math.abs(pulses.length - want.length));
  }
  const dec = events.map((e) => e.timestamp - e.sof);
  const fired = events.filter((e) => e.fired);
  // measured on the pulse line: the rise of the pulse holding each fired frame's due cycle (pulses that merge with an
  // earlier one show no rise of their own and are not counted)
  const trigCycles = fired
    .map((e) => pulses.find((p) => p.start <= e.sof + delay && e.sof + delay < p.end))
    .map((p, i) => (p && p.start >= fired[i]!.sof + delay ? p.start - fired[i]!.sof : NaN))
    .filter((x) => Number.isFinite(x));
  const drops = counters.cam_overflow! + counters.cam_short_lines! + counters.cam_long_lines! + counters.cam_short_frames! + counters.cam_long_frames! + counters.dropped_count! + counters.events_lost!;
  const summary: CameraSortSummary = {
    device: req.device,
    camera: req.camera,
    frames,
    fps: fps ?? req.clockHz / t.period,
    events: events.length,
    eventMode: mode,
    perClass,
    empty: counters.empty_frames!,
    pulses: pulses.length,
    drops,
    counters,
    decisionsPerSecond: Object.values(perClass).reduce((a, b) => a + b, 0) / wallSeconds,
    wallSeconds,
    prepareSeconds: 0,
    checkSeconds: 0,
    clockMhz: mhz,
    sofToDecision: { minCycles: Math.min(...dec), maxCycles: Math.max(...dec), minUs: Math.min(...dec) / mhz, maxUs: Math.max(...dec) / mhz },
    sofToTrigger: trigCycles.length
      ? { cycles: Math.min(...trigCycles), us: Math.min(...trigCycles) / mhz, jitterCycles: Math.max(...trigCycles) - Math.min(...trigCycles) }
      : { cycles: null, us: null, jitterCycles: null },
    goldenChecked: req.check,
    goldenMismatches,
    pulseMismatches,
    simCycles,
  };
  return { summary, sofToDecisionCycles: dec };
}

export function formatCameraSummary(r: CameraSortSummary): string {
  const tr = r.sofToTrigger;
  return [
    `${r.frames} camera frames (${r.camera}, ${r.fps.toFixed(0)} frames/s) on ${r.device}: ${r.events} events (mode ${r.eventMode}), ${r.decisionsPerSecond.toFixed(1)} decisions/s wall clock (${r.wallSeconds.toFixed(2)} s; frames prepared in ${r.prepareSeconds.toFixed(2)} s, golden check ${r.checkSeconds.toFixed(2)} s)`,
    `per class: ${Object.entries(r.perClass).map(([n, k]) => `${n} ${k}`).join(', ')}; empty ${r.empty}; pulses ${r.pulses}`,
    `start of frame -> decision: ${r.sofToDecision.minCycles}..${r.sofToDecision.maxCycles} cycles (${r.sofToDecision.minUs.toFixed(2)}..${r.sofToDecision.maxUs.toFixed(2)} µs at ${r.clockMhz} MHz)`,
    tr.cycles === null ? 'start of frame -> trigger: no pulse fired' : `start of frame -> trigger: ${tr.cycles} cycles (${tr.us!.toFixed(2)} µs), jitter ${tr.jitterCycles} cycles`,
    `drops: ${r.drops} (${Object.entries(r.counters).filter(([k]) => k !== 'cam_frames' && k !== 'empty_frames' && k !== 'fired_count').map(([k, v]) => `${k} ${v}`).join(', ')})`,
    r.goldenChecked
      ? r.goldenMismatches || r.pulseMismatches
        ? `GOLDEN MISMATCH: ${r.goldenMismatches} event(s), ${r.pulseMismatches} pulse(s)`
        : 'every event and every pulse equals the golden model'
      : 'not checked (pass --check)',
  ].join('\n');
}

export const cameraSortPassed = (r: CameraSortSummary): boolean => r.goldenMismatches === 0 && r.pulseMismatches === 0 && r.drops === 0 && (!r.goldenChecked || r.events > 0);
