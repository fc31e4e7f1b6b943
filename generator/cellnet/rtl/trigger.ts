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
 *
 * Timing (250 MHz rule, docs/cellnet.md#timing): no path chains two 32-bit compares. `now1` and `sof_due` =
 * now1 - delay are registers (so late / due-now are one subtract of S each), the line's end is a widthBits count
 * relative to now, both queues take their data early and their deep push/pop only steps a pointer, and an event is
 * committed to the event FIFO the cycle after its decision (it reaches the `event` port one cycle later than the
 * decision; its fields are unchanged). Pulse edges and event fields are those of trigger-golden.ts, unchanged.
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
  // `now1` = ts + 1 is a register of its own, so no compare starts with an increment (docs/cellnet.md#timing)
  const ts = m.reg('ts', TS, { init: 0 });
  const now1 = m.reg('now1', TS, { init: 1 });
  m.sync((b) => b.set(ts, ts.add(1)).set(now1, now1.add(1)), 'timestamp');
  m.assign(tsOut, ts);
  /** a <= b in modular time (b - a has its sign bit clear). */
  const notAfter = (a: Expr, b: Expr): Expr => b.sub(a).bit(TS - 1).not();

  // ---- decision ----------------------------------------------------------------------------------
  // a class index >= K (impossible from the classifier) matches no mask bit, so it never fires
  let inMask: Expr = lit(0, 1);
  for (let o = 0; o < K; o++) inMask = inMask.or(decCls.eq(o).and(mask.bit(o)));
  const matches = m.let('match_now', decValid.and(en).and(inMask).and(decScore.ge(thr)).and(width.ne(0)));
  const inStart = m.let('in_start', mux(decFromSof, decSof, now1).add(delay.zext(TS)));
  // sof_due = now1 - delay, kept a cycle ahead (from the delay register's next value): a camera decision is late iff
  // sof < sof_due and due now iff sof <= sof_due, modularly the same as S + delay < / <= now1 without the add
  const delayNext = mux(cfg.valid.and(addr.eq(REGS.DELAY)), low(t.delayBits), delay);
  const sofDue = m.reg('sof_due', TS, { init: 1 });
  m.sync((b) => b.set(sofDue, now1.sub(delayNext.zext(TS).sub(1))), 'sof_due');
  const delayZero = m.let('delay_zero', delay.eq(0));
  const late = m.let('late', decFromSof.and(decSof.sub(sofDue).bit(TS - 1)));
  const qualify = m.let('qualify', matches.and(late.not()));
  const inEnd = m.let('in_end', inStart.add(width.zext(TS)));

  // ---- pending-pulse queue -------------------------------------------------------------------------
  // Flip-flop entries: the head feeds the pulse compares in the cycle after a push, and a few 64-bit entries would
  // otherwise take 4 iCE40 EBRs whatever the depth.
  const q = fifoModule(`${name}_queue`, 2 * TS, qDepthPow2(t.queueDepth), { clear: true, flops: true, earlyWrite: true, checkedHandshake: true });
  const qInValid = m.wire('q_in_valid', 1);
  const qOutReady = m.wire('q_out_ready', 1);
  const qOutValid = m.wire('q_out_valid', 1);
  const qOutData = m.wire('q_out_data', 2 * TS);
  const qInReady = m.wire('q_in_ready', 1);
  const qCount = m.wire('q_count', q.signals.get('count')!.width);
  m.instance(q, 'queue', {
    in_write: decValid,
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
  // a replayed decision (inStart = now1 + delay) is due at once iff delay = 0
  const dueIn = m.let('due_in', mux(decFromSof, notAfter(decSof, sofDue), delayZero));
  const full = m.let('queue_full', qCount.ge(lit(t.queueDepth, qCount.width)));
  const direct = m.let('direct', qualify.and(qOutValid.not()).and(dueIn));
  // a full queue is never empty, so a direct start is always also "qualify and not full": dueIn is off this path
  const accepted = m.let('accepted', qualify.and(full.not()));
  m.assign(qInValid, qualify.and(direct.not()).and(full.not()));
  m.assign(qOutReady, dueH.and(en));

  // ---- pulse generator -----------------------------------------------------------------------------
  // The line's end is kept relative to now: `left` = end - now1 - 1 (< 2^widthBits while the line is high), so
  // merging two pulses is a widthBits-wide max instead of 32-bit compares chained through muxes. In cycle c:
  // still high = the end is after now1; a starting pulse is live iff its end is after now1.
  const WB = t.widthBits;
  const active = m.reg('active', 1, { init: 0 });
  const left = m.reg('left', WB, { init: 0 });
  const stillHigh = m.let('still_high', active.and(left.ne(0)));
  const hLeft = m.let('head_left', hEnd.add(now1.not()));
  const hLive = hLeft.bit(TS - 1).not();
  const act = m.let('act', dueH.or(direct));
  const xLive = m.let('x_live', mux(dueH, hLive, direct));
  const xLeft = m.let('x_left', mux(dueH, hLeft.slice(WB - 1, 0), width.sub(1)));
  const leftDec = m.let('left_dec', left.sub(1));
  // both candidates are compared with the current end in parallel; dueH only picks the result
  const xNotLater = m.let('x_not_later', mux(dueH, hLeft.slice(WB - 1, 0).le(leftDec), width.sub(1).le(leftDec)));
  const takeX = m.let('take_x', act.and(xLive).and(stillHigh.and(xNotLater).not()));
  m.sync((b) => {
    b.set(active, en.and(stillHigh.or(act.and(xLive))));
    b.set(left, mux(takeX, xLeft, leftDec));
  }, 'pulse');
  m.assign(pulse, active);

  // ---- events ------------------------------------------------------------------------------------
  // the event word is written in the decision's cycle and committed in the next: `accepted` (late compare) reaches
  // only a flag, not the FIFO's pointer adders
  const ef = fifoModule(`${name}_events`, hw.event.bits, t.eventDepth, { lateCommit: true });
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
  const fired = mode.eq(EVENT_MODES.FIRED);
  const push = m.let('event_push', decValid.and(mux(fired, accepted, mux(mode.eq(EVENT_MODES.ONE_IN_N), nCnt.eq(0), lit(1, 1)))));
  // the FIFO sees the push without the late compare, and a late fired-only decision cancels it a cycle later
  const pushEarly = m.let('event_push_early', decValid.and(mux(fired, matches.and(full.not()), mux(mode.eq(EVENT_MODES.ONE_IN_N), nCnt.eq(0), lit(1, 1)))));
  const firedC = m.reg('fired_c', CB, { init: 0 });
  const droppedC = m.reg('dropped_c', CB, { init: 0 });
  m.sync((b) => {
    b.if(accepted, (u) => u.set(firedC, firedC.add(1)));
    b.if(matches.and(accepted.not()), (u) => u.set(droppedC, droppedC.add(1)));
  }, 'decision_counters');
  m.assign(firedOut, firedC);
  m.assign(droppedOut, droppedC);
  m.instance(ef, 'events', {
    in_write: decValid,
    in_valid: pushEarly,
    in_cancel: fired.and(late),
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
