/**
 * Cycle-exact TS model of the sort trigger (semantics in trigger.ts): from decisions (with the timestamp
 * the hardware gives them) and register writes (with the cycle they transfer), the events and the exact
 * pulse intervals. Times are plain integers (no wrap): keep runs below 2^(tsBits-1) cycles.
 */
import type { CellnetHw } from './plan';
import { CTRL_CAMERA, CTRL_ENABLE, EVENT_MODES, EVENT_N_BITS, REGS } from './plan';

export interface TriggerRegs {
  enable: boolean;
  classMask: number;
  threshold: number;
  delay: number;
  width: number;
  /** EVENT_MODES (default all) and the N of one-in-N. */
  eventMode?: number;
  eventN?: number;
  /** CTRL bit 1: the camera port. */
  camera?: boolean;
}

export interface Decision {
  /** Event timestamp T: the decision reached the trigger in cycle T - 1. */
  timestamp: number;
  /** Start-of-frame timestamp of the decision's frame: the pulse is due at sof + delay. */
  sof: number;
  /** Camera frames: the delay counts from sof; replayed frames (false/absent): from the decision timestamp. */
  fromSof?: boolean;
  frame: number;
  cls: number;
  score: number;
}

export interface RegWrite {
  /** Cycle in which the cfg beat transfers; the value is visible from the next cycle. */
  cycle: number;
  addr: number;
  value: number;
}

export interface TriggerEvent {
  frame: number;
  cls: number;
  score: number;
  sof: number;
  timestamp: number;
  fired: boolean;
  dropped: boolean;
}

/** The pulse line is high in cycles start <= c < end. */
export interface Pulse {
  start: number;
  end: number;
}

export interface TriggerGoldenResult {
  /** The events the event mode pushes, in order. */
  events: TriggerEvent[];
  /** Every decision with its fired/dropped flags (what the counters count). */
  decisions: TriggerEvent[];
  pulses: Pulse[];
  fired: number;
  dropped: number;
}

/** Register writes that program `r` (enable last, so the unit arms with the rest already set). */
export function regWrites(r: TriggerRegs): Array<{ addr: number; value: number }> {
  return [
    { addr: REGS.CLASS_MASK, value: r.classMask },
    { addr: REGS.THRESHOLD, value: r.threshold },
    { addr: REGS.DELAY, value: r.delay },
    { addr: REGS.WIDTH, value: r.width },
    ...(r.eventMode !== undefined ? [{ addr: REGS.EVENT_MODE, value: r.eventMode }] : []),
    ...(r.eventN !== undefined ? [{ addr: REGS.EVENT_N, value: r.eventN }] : []),
    { addr: REGS.CTRL, value: (r.enable ? CTRL_ENABLE : 0) | (r.camera ? CTRL_CAMERA : 0) },
  ];
}

/** Simulate until every pulse has ended (or `until`). */
export function triggerGolden(hw: CellnetHw, decisions: readonly Decision[], writes: readonly RegWrite[], until?: number): TriggerGoldenResult {
  const t = hw.trigger;
  const K = hw.classes;
  const sb = hw.cfg.scoreBits;
  const mask = (bits: number) => (v: number) => Number(BigInt(v) & ((1n << BigInt(bits)) - 1n));
  const regs = { en: false, mask: 0, thr: 0, delay: 0, width: 0, mode: 0, n: 0 };
  let nCount = 0;
  let fired = 0;
  let dropped = 0;
  const all: TriggerEvent[] = [];
  const byCycle = new Map<number, Decision>();
  for (const d of decisions) {
    if (byCycle.has(d.timestamp - 1)) throw new Error(`trigger golden: two decisions in cycle ${d.timestamp - 1}`);
    byCycle.set(d.timestamp - 1, d);
  }
  const wByCycle = new Map<number, RegWrite[]>();
  for (const w of writes) (wByCycle.get(w.cycle) ?? wByCycle.set(w.cycle, []).get(w.cycle)!).push(w);
  const lastDec = decisions.reduce((a, d) => Math.max(a, d.timestamp), 0);
  const lastW = writes.reduce((a, w) => Math.max(a, w.cycle), 0);
  const maxOf = (addr: number) => writes.reduce((a, w) => (w.addr === addr ? Math.max(a, w.value) : a), 0);
  const maxSpan = maxOf(REGS.DELAY) + maxOf(REGS.WIDTH) + t.queueDepth;
  const stop = until ?? Math.max(lastDec, lastW) + maxSpan + 2;

  const queue: Pulse[] = [];
  let active = false;
  let endT = 0;
  let line = false;
  let rise = 0;
  const events: TriggerEvent[] = [];
  const pulses: Pulse[] = [];
  for (let c = 0; c <= stop; c++) {
    const now1 = c + 1;
    const d = byCycle.get(c);
    const matches = !!d && regs.en && ((regs.mask >> d.cls) & 1) === 1 && d.cls < K && d.score >= regs.thr && regs.width !== 0;
    const inStart = (d?.fromSof ? d.sof : now1) + regs.delay;
    const qualify = matches && inStart >= now1;
    const inEnd = inStart + regs.width;
    const head = queue[0];
    const dueH = !!head && head.start <= now1;
    const direct = qualify && !head && inStart <= now1;
    const full = queue.length >= t.queueDepth;
    const accepted = direct || (qualify && !full);
    if (d) {
      const e: TriggerEvent = { frame: d.frame, cls: d.cls, score: d.score, sof: d.sof, timestamp: d.timestamp, fired: accepted, dropped: matches && !accepted };
      all.push(e);
      if (accepted) fired++;
      if (e.dropped) dropped++;
      const push = regs.mode === EVENT_MODES.FIRED ? accepted : regs.mode === EVENT_MODES.ONE_IN_N ? nCount === 0 : true;
      if (push) events.push(e);
      nCount = nCount + 1 >= regs.n ? 0 : nCount + 1;
    }
    if (!regs.en) {
      active = false;
      queue.length = 0;
    } else {
      if (dueH || direct) {
        const xEnd = dueH ? head!.end : inEnd;
        const stillHigh = active && endT > now1;
        endT = stillHigh && xEnd <= endT ? endT : xEnd;
        active = endT > now1;
      } else active = active && endT > now1;
      if (dueH) queue.shift();
      if (qualify && !direct && !full) queue.push({ start: inStart, end: inEnd });
    }
    for (const w of wByCycle.get(c) ?? []) {
      if (w.addr === REGS.CTRL) regs.en = (w.value & 1) === 1;
      else if (w.addr === REGS.CLASS_MASK) regs.mask = mask(K)(w.value);
      else if (w.addr === REGS.THRESHOLD) regs.thr = mask(sb)(w.value);
      else if (w.addr === REGS.DELAY) regs.delay = mask(t.delayBits)(w.value);
      else if (w.addr === REGS.WIDTH) regs.width = mask(t.widthBits)(w.value);
      else if (w.addr === REGS.EVENT_MODE) regs.mode = mask(2)(w.value);
      else if (w.addr === REGS.EVENT_N) regs.n = mask(EVENT_N_BITS)(w.value);
    }
    // `active` is the line in cycle c + 1
    if (active && !line) rise = c + 1;
    if (!active && line) pulses.push({ start: rise, end: c + 1 });
    line = active;
  }
  if (line) pulses.push({ start: rise, end: stop + 1 });
  return { events, decisions: all, pulses, fired, dropped };
}
