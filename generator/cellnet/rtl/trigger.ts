/**
 * The sort trigger: registers, a free-running timestamp, a pending-pulse queue, the pulse generator and the
 * event FIFO. Semantics (also implemented cycle by cycle in trigger-golden.ts, the reference for the tests):
 *
 *  - `ts` counts cycles from reset release (cycle 0 = first cycle after reset), wrapping at 2^tsBits.
 *  - A decision arriving in cycle c gets timestamp T = c + 1 (the first cycle in which it can act). It carries the
 *    start-of-frame timestamp S of its frame (the cycle its first beat arrived; `ts_now` is exported for that).
 *    It matches iff enable && class_mask[class] && score >= threshold && width != 0 (registers as seen in cycle c).
 *    A matching camera decision (`dec_from_sof`) schedules a pulse high in cycles [S + delay, S + delay + width): the
 *    delay counts from the start of frame, so start of frame to pulse is `delay` cycles for every frame. If
 *    S + delay < T the decision is late: no pulse, event.dropped = 1 (and the dropped counter counts it). A replayed
 *    frame (the host chose when to send it) counts from its decision: [T + delay, T + delay + width).
 *  - Scheduled pulses wait in a FIFO of queueDepth entries (start, end); with the queue full a qualifying decision
 *    is dropped (event.dropped = 1, no pulse). A pulse whose start is due (start <= now, modular) leaves the queue,
 *    one per cycle, in decision order; with delay 0 and an empty queue it starts without queueing.
 *  - Overlap: a pulse starting while the line is high extends it to the later end (never a low glitch between
 *    the two); a start at exactly the previous end continues the line high.
 *  - Fail-safe: every register resets to 0 (disabled); while enable is 0 the queue is flushed and the line is low.
 *  - The event mode register selects which decisions push an event {frame, cls, score, sof S, timestamp T, fired,
 *    dropped}: all, fired only, or one in N (decisions 0, N, 2N, ... since reset). With the event FIFO full the event
 *    is lost and the saturating `events_lost` counter increments. `fired_count`/`dropped_count` count every decision.
 */
import { Module, lit, mux, type Expr } from '../../hdl';
import { fifoModule } from '../../lib/fifo';
import type { CellnetHw } from './plan';
import { EVENT_MODES, EVENT_N_BITS, REGS } from './plan';

export function triggerModule(hw: CellnetHw, name: string): Module {
  const t = hw.trigger;
  const K = hw.classes;
  const sb = hw.cfg.scoreBits;
  const TS = t.tsBits;
  const m = new Module(name, {
    doc: `sort trigger: ${K} classes, delay ${t.delayBits} b, width ${t.widthBits} b, ${t.queueDepth} pending pulses, ${t.eventDepth} events`,
  });
  const decValid = m.input('dec_valid', 1);
  const decCls = m.input('dec_cls', hw.classBits);
  const decScore = m.input('dec_score', sb);
  const decFrame = m.input('dec_frame', hw.frameBits);
  const decSof = m.input('dec_sof', TS);
  const decFromSof = m.input('dec_from_sof', 1);
  const tsOut = m.output('ts_now', TS);
  const CB = hw.camera.counterBits;
  const firedOut = m.output('fired_count', CB);
  const droppedOut = m.output('dropped_count', CB);
  const cfg = m.streamIn('cfg', hw.reg.bits);
  const ev = m.streamOut('event', hw.event.bits);
  const pulse = m.output('pulse', 1);
  const armed = m.output('armed', 1);
  const lostOut = m.output('events_lost', t.lostBits);

  // ---- registers -------------------------------------------------------------------------------
  const en = m.reg('enable', 1, { init: 0 });
  const mask = m.reg('class_mask', K, { init: 0 });
  const thr = m.reg('threshold', sb, { init: 0 });
  const delay = m.reg('delay', t.delayBits, { init: 0 });
  const width = m.reg('width', t.widthBits, { init: 0 });
  const mode = m.reg('event_mode', 2, { init: 0 });
  const nth = m.reg('event_n', EVENT_N_BITS, { init: 0 });
  m.assign(cfg.ready, lit(1, 1));
  const addr = cfg.data.slice(hw.reg.bits - 1, hw.reg.dataBits);
  const data = cfg.data.slice(hw.reg.dataBits - 1, 0);
  const low = (bits: number): Expr => data.slice(Math.min(bits, hw.reg.dataBits) - 1, 0).zext(bits);
  m.sync((b) =>
    b.if(cfg.valid, (u) =>
      u.switch(addr, [
        [REGS.CTRL, (c) => c.set(en, data.bit(0))],
        [REGS.CLASS_MASK, (c) => c.set(mask, low(K))],
        [REGS.THRESHOLD, (c) => c.set(thr, low(sb))],
        [REGS.DELAY, (c) => c.set(delay, low(t.delayBits))],
        [REGS.WIDTH, (c) => c.set(width, low(t.widthBits))],
        [REGS.EVENT_MODE, (c) => c.set(mode, low(2))],
        [REGS.EVENT_N, (c) => c.set(nth, low(EVENT_N_BITS))],
      ]),
    ),
  'registers');
  m.assign(armed, en);

  // ---- timestamp -------------------------------------------------------------------------------
  const ts = m.reg('ts', TS, { init: 0 });
  m.sync((b) => b.set(ts, ts.add(1)), 'timestamp');
  m.assign(tsOut, ts);
  const now1 = m.let('now1', ts.add(1));
  /** a <= b in modular time (b - a has its sign bit clear). */
  const notAfter = (a: Expr, b: Expr): Expr => b.sub(a).bit(TS - 1).not();

  // ---- decision ----------------------------------------------------------------------------------
  // a class index >= K (impossible from the classifier) matches no mask bit, so it never fires
  let inMask: Expr = lit(0, 1);
  for (let o = 0; o < K; o++) inMask = inMask.or(decCls.eq(o).and(mask.bit(o)));
  const matches = m.let('match_now', decValid.and(en).and(inMask).and(decScore.ge(thr)).and(width.ne(0)));
  const inStart = m.let('in_start', mux(decFromSof, decSof, now1).add(delay.zext(TS)));
  const late = m.let('late', notAfter(now1, inStart).not());
  const qualify = m.let('qualify', matches.and(late.not()));
  const inEnd = m.let('in_end', inStart.add(width.zext(TS)));

  // ---- pending-pulse queue -------------------------------------------------------------------------
  // Two or fewer wide entries cost fewer cells as flip-flops than the 4 iCE40 EBRs a 64-bit memory takes whatever its depth.
  const qDepth = qDepthPow2(t.queueDepth);
  const q = fifoModule(`${name}_queue`, 2 * TS, qDepth, { clear: true, registers: qDepth <= 2 });
  const qInValid = m.wire('q_in_valid', 1);
  const qOutReady = m.wire('q_out_ready', 1);
  const qOutValid = m.wire('q_out_valid', 1);
  const qOutData = m.wire('q_out_data', 2 * TS);
  const qInReady = m.wire('q_in_ready', 1);
  const qCount = m.wire('q_count', q.signals.get('count')!.width);
  m.instance(q, 'queue', {
    in_valid: qInValid,
    in_ready: qInReady,
    in_data: inEnd.zext(2 * TS).shl(TS).or(inStart.zext(2 * TS)),
    out_valid: qOutValid,
    out_ready: qOutReady,
    out_data: qOutData,
    clear: en.not(),
    count: qCount,
  });
  const hStart = qOutData.slice(TS - 1, 0);
  const hEnd = qOutData.slice(2 * TS - 1, TS);
  const dueH = m.let('due_head', qOutValid.and(notAfter(hStart, now1)));
  const dueIn = m.let('due_in', notAfter(inStart, now1));
  const full = m.let('queue_full', qCount.ge(lit(t.queueDepth, qCount.width)));
  const direct = m.let('direct', qualify.and(qOutValid.not()).and(dueIn));
  const accepted = m.let('accepted', direct.or(qualify.and(full.not())));
  m.assign(qInValid, qualify.and(direct.not()).and(full.not()));
  m.assign(qOutReady, dueH.and(en));

  // ---- pulse generator -----------------------------------------------------------------------------
  const active = m.reg('active', 1, { init: 0 });
  const endT = m.reg('end_t', TS, { init: 0 });
  const act = m.let('act', dueH.or(direct));
  const xEnd = m.let('x_end', mux(dueH, hEnd, inEnd));
  const stillHigh = m.let('still_high', active.and(notAfter(endT, now1).not()));
  const newEnd = m.let('new_end', mux(stillHigh.and(notAfter(xEnd, endT)), endT, xEnd));
  m.sync((b) => {
    b.if(
      en.not(),
      (u) => u.set(active, 0),
      (u) =>
        u.if(
          act,
          (v) => v.set(endT, newEnd).set(active, notAfter(newEnd, now1).not()),
          (v) => v.set(active, stillHigh),
        ),
    );
  }, 'pulse');
  m.assign(pulse, active);

  // ---- events ------------------------------------------------------------------------------------
  const ef = fifoModule(`${name}_events`, hw.event.bits, t.eventDepth);
  const efReady = m.wire('ev_in_ready', 1);
  const fields: Record<string, Expr> = {
    frame: decFrame,
    cls: decCls,
    score: decScore,
    timestamp: now1,
    sof: decSof,
    fired: accepted,
    dropped: matches.and(accepted.not()),
  };
  let word: Expr | undefined;
  for (const f of hw.event.fields) {
    const v = fields[f.name]!.zext(hw.event.bits).shl(f.lo);
    word = word ? word.or(v) : v;
  }
  const efCount = m.wire('ev_count', ef.signals.get('count')!.width);
  // event mode: 0 all, 1 fired only, 2 one in N (N = 0 counts as 1), 3 all
  const nCnt = m.reg('n_count', EVENT_N_BITS, { init: 0 });
  const nWrap = m.let('n_wrap', nCnt.add(1).ge(nth));
  m.sync((b) => b.if(decValid, (u) => u.set(nCnt, mux(nWrap, lit(0, EVENT_N_BITS), nCnt.add(1)))), 'one_in_n');
  const push = m.let('event_push', decValid.and(mux(mode.eq(EVENT_MODES.FIRED), accepted, mux(mode.eq(EVENT_MODES.ONE_IN_N), nCnt.eq(0), lit(1, 1)))));
  const firedC = m.reg('fired_c', CB, { init: 0 });
  const droppedC = m.reg('dropped_c', CB, { init: 0 });
  m.sync((b) => {
    b.if(accepted, (u) => u.set(firedC, firedC.add(1)));
    b.if(matches.and(accepted.not()), (u) => u.set(droppedC, droppedC.add(1)));
  }, 'decision_counters');
  m.assign(firedOut, firedC);
  m.assign(droppedOut, droppedC);
  m.instance(ef, 'events', {
    in_valid: push,
    in_ready: efReady,
    in_data: word!,
    out_valid: ev.valid,
    out_ready: ev.ready,
    out_data: ev.data,
    count: efCount,
  });
  const lost = m.reg('lost', t.lostBits, { init: 0 });
  m.sync((b) => b.if(push.and(efReady.not()).and(lost.all().not()), (u) => u.set(lost, lost.add(1))), 'lost');
  m.assign(lostOut, lost);
  return m;
}

function qDepthPow2(n: number): number {
  let d = 2;
  while (d < n) d *= 2;
  return d;
}
