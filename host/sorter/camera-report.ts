/**
 * The report and the golden check of a `sort --camera` run, the same on the simulator and on a board: what was
 * observed (events, counters, pulse edges where the pulse line is visible) goes in, the summary comes out.
 *
 * Golden check: frame ids are 16 bits and count every start of frame while the camera is on, so the i-th event of
 * frame f names (base + f) mod 2^16; each event must equal the trigger golden fed with the golden classifier's
 * class/score of that frame's crop. Start of frame comes from the simulator's own input stamps when it is
 * available (so the event's sof is checked too); on a board the event's own sof is used (the host cannot see the
 * camera's beats), and the pulse line is not observed, so pulses are not checked there.
 */
import type { CellnetDesign } from '../../generator/cellnet/rtl/design';
import { REGS } from '../../generator/cellnet/rtl/plan';
import { triggerGolden, type Pulse, type TriggerEvent } from '../../generator/cellnet/rtl/trigger-golden';
import type { CameraSetup } from './camera-setup';

export interface CameraSortSummary {
  device: string;
  camera: string;
  frames: number;
  fps: number;
  events: number;
  eventMode: string;
  perClass: Record<string, number>;
  empty: number;
  /** Pulse-line rises seen (simulator) or fired decisions counted by the board (fired_count). */
  pulses: number;
  /** Frames lost anywhere: camera overflow, camera errors, late/queue-full decisions, lost events. */
  drops: number;
  counters: Record<string, number>;
  decisionsPerSecond: number;
  /** Wall clock from the camera's start to the last decision. */
  wallSeconds: number;
  /** Wall clock to synthesise or read the frames and pack them for the camera model (before the run). */
  prepareSeconds: number;
  /** Wall clock of the golden check (after the run). */
  checkSeconds: number;
  clockMhz: number;
  sofToDecision: { minCycles: number; maxCycles: number; minUs: number; maxUs: number };
  /**
   * 'pulse line': measured on the pulse's edges (simulator). 'event records': on a board the pulse pin is not seen
   * over the link; every fired, on-time event is due at its start of frame + delay, so that is reported (jitter 0).
   */
  sofToTrigger: { cycles: number | null; us: number | null; jitterCycles: number | null; source: 'pulse line' | 'event records' };
  goldenChecked: boolean;
  goldenMismatches: number;
  pulsesChecked: boolean;
  pulseMismatches: number;
  /** Simulated cycles (simulator only). */
  simCycles: number | null;
}

export interface CameraSortRun {
  summary: CameraSortSummary;
  sofToDecisionCycles: number[];
}

export interface CameraObservation {
  events: TriggerEvent[];
  /** Golden class/score per frame (empty when not checked). */
  golden: Array<{ cls: number; score: number }>;
  /** Pulse intervals from the pulse line, or null when it is not observed (a board). */
  pulses: Pulse[] | null;
  /** Counters over the run (deltas on a board): CAMERA_COUNTERS, empty_frames, fired_count, dropped_count, events_lost. */
  counters: Record<string, number>;
  perClass: Record<string, number>;
  /** Start of frame f seen independently of the core (the simulator's stamps); null: use each event's own sof. */
  sofCycle: ((f: number) => number) | null;
  /** Frame id of the run's first frame. */
  frameBase: number;
  wallSeconds: number;
  prepareSeconds: number;
  checkSeconds: number;
  simCycles: number | null;
}

export function summarise(s: CameraSetup, o: CameraObservation): CameraSortRun {
  const { req, d, delay, source } = s;
  const frames = source.n;
  const mhz = req.clockHz / 1e6;
  const { events, pulses, counters } = o;
  let goldenMismatches = 0;
  let pulseMismatches = 0;
  if (req.check) {
    const frameOf: number[] = [];
    let f = 0;
    for (const e of events) {
      while (f < frames && ((o.frameBase + f) & ((1 << d.hw.frameBits) - 1)) !== e.frame) f++;
      frameOf.push(f++);
    }
    const decisions = events.map((e, i) => {
      const g = o.golden[frameOf[i]!];
      const sof = frameOf[i]! < frames ? (o.sofCycle ? o.sofCycle(frameOf[i]!) : e.sof) : -1;
      return { frame: e.frame, cls: g?.cls ?? -1, score: g?.score ?? -1, sof, fromSof: true, timestamp: e.timestamp };
    });
    const g = triggerGolden(d.hw, decisions, goldenRegs(s));
    goldenMismatches = events.filter((e, i) => JSON.stringify(e) !== JSON.stringify(g.events[i])).length;
    // every fired event's pulse starts exactly at its start of frame + delay (pulses that touch merge into one)
    if (pulses) pulseMismatches = JSON.stringify(pulses) === JSON.stringify(g.pulses) ? 0 : Math.max(1, Math.abs(pulses.length - g.pulses.length));
  }
  const dec = events.map((e) => e.timestamp - e.sof);
  const fired = events.filter((e) => e.fired);
  let trigCycles: number[];
  if (pulses) {
    // the rise of the pulse holding each fired frame's due cycle (pulses that merge with an earlier one show no
    // rise of their own and are not counted)
    trigCycles = fired
      .map((e) => pulses.find((p) => p.start <= e.sof + delay && e.sof + delay < p.end))
      .map((p, i) => (p && p.start >= fired[i]!.sof + delay ? p.start - fired[i]!.sof : NaN))
      .filter((x) => Number.isFinite(x));
  } else trigCycles = fired.filter((e) => !e.dropped).map(() => delay);
  const c = (k: string): number => counters[k] ?? 0;
  const drops = c('cam_overflow') + c('cam_short_lines') + c('cam_long_lines') + c('cam_short_frames') + c('cam_long_frames') + c('dropped_count') + c('events_lost');
  const source2 = pulses ? 'pulse line' : 'event records';
  const summary: CameraSortSummary = {
    device: req.device,
    camera: req.camera,
    frames,
    fps: s.fps ?? req.clockHz / s.t.period,
    events: events.length,
    eventMode: s.eventLabel,
    perClass: o.perClass,
    empty: c('empty_frames'),
    pulses: pulses ? pulses.length : c('fired_count'),
    drops,
    counters,
    decisionsPerSecond: Object.values(o.perClass).reduce((a, b) => a + b, 0) / o.wallSeconds,
    wallSeconds: o.wallSeconds,
    prepareSeconds: o.prepareSeconds,
    checkSeconds: o.checkSeconds,
    clockMhz: mhz,
    sofToDecision: dec.length
      ? { minCycles: Math.min(...dec), maxCycles: Math.max(...dec), minUs: Math.min(...dec) / mhz, maxUs: Math.max(...dec) / mhz }
      : { minCycles: NaN, maxCycles: NaN, minUs: NaN, maxUs: NaN },
    sofToTrigger: trigCycles.length
      ? { cycles: Math.min(...trigCycles), us: Math.min(...trigCycles) / mhz, jitterCycles: Math.max(...trigCycles) - Math.min(...trigCycles), source: source2 }
      : { cycles: null, us: null, jitterCycles: null, source: source2 },
    goldenChecked: req.check,
    goldenMismatches,
    pulsesChecked: req.check && !!pulses,
    pulseMismatches,
    simCycles: o.simCycles,
  };
  return { summary, sofToDecisionCycles: dec };
}

/** The trigger registers as programmed before the camera started (cycle 0 for the golden). */
function goldenRegs(s: CameraSetup) {
  return [
    { addr: REGS.CLASS_MASK, value: s.mask, cycle: 0 },
    { addr: REGS.THRESHOLD, value: s.req.threshold, cycle: 0 },
    { addr: REGS.DELAY, value: s.delay, cycle: 0 },
    { addr: REGS.WIDTH, value: s.width, cycle: 0 },
    { addr: REGS.CTRL, value: 1, cycle: 0 },
  ];
}

export function formatCameraSummary(r: CameraSortSummary): string {
  const tr = r.sofToTrigger;
  const how = tr.source === 'pulse line' ? '' : ' (from the event records: the pulse pin is not seen over the link)';
  return [
    `${r.frames} camera frames (${r.camera}, ${r.fps.toFixed(0)} frames/s) on ${r.device}: ${r.events} events (mode ${r.eventMode}), ${r.decisionsPerSecond.toFixed(1)} decisions/s wall clock (${r.wallSeconds.toFixed(2)} s; frames prepared in ${r.prepareSeconds.toFixed(2)} s, golden check ${r.checkSeconds.toFixed(2)} s)`,
    `per class: ${Object.entries(r.perClass).map(([n, k]) => `${n} ${k}`).join(', ')}; empty ${r.empty}; pulses ${r.pulses}`,
    `start of frame -> decision: ${r.sofToDecision.minCycles}..${r.sofToDecision.maxCycles} cycles (${r.sofToDecision.minUs.toFixed(2)}..${r.sofToDecision.maxUs.toFixed(2)} µs at ${r.clockMhz} MHz)`,
    tr.cycles === null ? 'start of frame -> trigger: no pulse fired' : `start of frame -> trigger: ${tr.cycles} cycles (${tr.us!.toFixed(2)} µs), jitter ${tr.jitterCycles} cycles${how}`,
    `drops: ${r.drops} (${Object.entries(r.counters).filter(([k]) => k !== 'cam_frames' && k !== 'empty_frames' && k !== 'fired_count').map(([k, v]) => `${k} ${v}`).join(', ')})`,
    r.goldenChecked
      ? r.goldenMismatches || r.pulseMismatches
        ? `GOLDEN MISMATCH: ${r.goldenMismatches} event(s), ${r.pulseMismatches} pulse(s)`
        : r.pulsesChecked
          ? 'every event and every pulse equals the golden model'
          : 'every event equals the golden model (the pulse pin is not observed over the link)'
      : 'not checked (pass --check)',
  ].join('\n');
}

export const cameraSortPassed = (r: CameraSortSummary): boolean => r.goldenMismatches === 0 && r.pulseMismatches === 0 && r.drops === 0 && (!r.goldenChecked || r.events > 0);
