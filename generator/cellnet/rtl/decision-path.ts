/**
 * The sorter's common back end, shared by the streaming (top.ts) and time-multiplexed (serial.ts) classifiers:
 * logits -> decide (class, score) -> join with the frame's tag -> trigger unit (registers, event stream, pulse).
 *
 * Every frame that enters the classifier leaves one tag {sof, frame id, good, empty, from camera} (camera.ts, or `replayTag` for
 * frames on the px stream) and, later or earlier, one decision; both wait in small FIFOs and are joined in order.
 * Only good, non-empty frames reach the trigger; empty ones are counted (`empty_frames`), each class's decisions are
 * counted (`class_counts`, class k in bits [32k+31:32k]).
 */
import { cat, lit, mux, type Expr, type Module, type Signal, type StreamPort } from '../../hdl';
import { fifoModule } from '../../lib/fifo';
import { decideModule } from './decide';
import type { FrameTag } from './camera';
import type { CellnetHw } from './plan';
import { triggerModule } from './trigger';

export interface SorterPorts {
  cfgIn: StreamPort;
  ev: StreamPort;
  pulse: Signal;
  armed: Signal;
  lost: Signal;
}

/** The register-write input, the event output and the trigger outputs every cell sorter has. */
export function sorterPorts(m: Module, hw: CellnetHw): SorterPorts {
  return {
    cfgIn: m.streamIn('cfg', hw.reg.bits),
    ev: m.streamOut('event', hw.event.bits),
    pulse: m.output('pulse', 1),
    armed: m.output('armed', 1),
    lost: m.output('events_lost', hw.trigger.lostBits),
  };
}

/** Wires the front end needs before the back end exists: the trigger's timestamp and the tag FIFO's room. */
export interface BackEndWires {
  ts: Signal;
  tagRoom: Signal;
}

export function backEndWires(m: Module, hw: CellnetHw): BackEndWires {
  return { ts: m.wire('ts_now', hw.trigger.tsBits), tagRoom: m.wire('tag_room', 1) };
}

/**
 * Tags for frames replayed on the px stream: start of frame = the cycle of the frame's first beat; pushed with its
 * last beat (`fire` = a px beat entering the classifier, `endOfFrame` = it is the frame's last).
 */
export function replayTag(m: Module, hw: CellnetHw, fire: Expr, endOfFrame: Expr, ts: Expr): FrameTag {
  const first = m.reg('px_first', 1, { init: 1 });
  const sofR = m.reg('px_sof', hw.trigger.tsBits, { init: 0 });
  const count = m.reg('px_frames', hw.frameBits, { init: 0 });
  m.sync((b) =>
    b.if(fire, (t) => {
      t.set(first, endOfFrame);
      t.if(first, (u) => u.set(sofR, ts));
      t.if(endOfFrame, (u) => u.set(count, count.add(1)));
    }),
  'replay_tag');
  return { valid: fire.and(endOfFrame), sof: mux(first, ts, sofR), frame: count, good: lit(1, 1), fromSof: lit(0, 1) };
}

/** Decide on `logitsValid`, join with the frame tags, and hand good, non-empty frames to the trigger unit. */
export function decisionAndTrigger(m: Module, hw: CellnetHw, name: string, p: SorterPorts, w: BackEndWires, logitsValid: Expr, logits: Expr, tag: FrameTag, empty: Expr): void {
  const cfg = hw.cfg;
  const TS = hw.trigger.tsBits;
  const CB = hw.camera.counterBits;
  const dec = decideModule(hw.classes, cfg.logitBits, cfg.scoreBits, hw.classBits, `${name}_decide`);
  const rv = m.wire('res_valid', 1);
  const rc = m.wire('res_cls', hw.classBits);
  const rs = m.wire('res_score', cfg.scoreBits);
  m.instance(dec, 'decide', { logits_valid: logitsValid, logits, res_valid: rv, res_cls: rc, res_score: rs });

  // ---- join: decision FIFO x tag FIFO ----------------------------------------------------------------
  const D = hw.camera.tagDepth;
  const decW = hw.classBits + cfg.scoreBits;
  const df = fifoModule(`${name}_decisions`, decW, D);
  const dOutValid = m.wire('dq_valid', 1);
  const dOut = m.wire('dq_data', decW);
  const pop = m.wire('join_pop', 1);
  m.instance(df, 'decision_fifo', {
    in_valid: rv,
    in_ready: m.wire('dq_in_ready', 1),
    in_data: cat(rs, rc),
    out_valid: dOutValid,
    out_ready: pop,
    out_data: dOut,
    count: m.wire('dq_count', df.signals.get('count')!.width),
  });
  const tagW = TS + hw.frameBits + 3;
  const tf = fifoModule(`${name}_tags`, tagW, D);
  const tOutValid = m.wire('tq_valid', 1);
  const tOut = m.wire('tq_data', tagW);
  const tCount = m.wire('tq_count', tf.signals.get('count')!.width);
  m.instance(tf, 'tag_fifo', {
    in_valid: tag.valid,
    in_ready: m.wire('tq_in_ready', 1),
    in_data: cat(tag.fromSof, empty, tag.good, tag.frame, tag.sof),
    out_valid: tOutValid,
    out_ready: pop,
    out_data: tOut,
    count: tCount,
  });
  m.assign(w.tagRoom, tCount.le(lit(D - 2, tCount.width)));
  m.assign(pop, dOutValid.and(tOutValid));
  const jSof = tOut.slice(TS - 1, 0);
  const jFrame = tOut.slice(TS + hw.frameBits - 1, TS);
  const jGood = tOut.bit(TS + hw.frameBits);
  const jEmpty = tOut.bit(TS + hw.frameBits + 1);
  const jFromSof = tOut.bit(TS + hw.frameBits + 2);
  const jCls = dOut.slice(hw.classBits - 1, 0);
  const jScore = dOut.slice(decW - 1, hw.classBits);
  const toTrigger = m.let('to_trigger', pop.and(jGood).and(jEmpty.not()));

  const emptyC = m.reg('empty_c', CB, { init: 0 });
  const classC = Array.from({ length: hw.classes }, (_, k) => m.reg(`class_c${k}`, CB, { init: 0 }));
  m.sync((b) => {
    b.if(pop.and(jGood).and(jEmpty), (u) => u.set(emptyC, emptyC.add(1)));
    classC.forEach((r, k) => b.if(toTrigger.and(jCls.eq(k)), (u) => u.set(r, r.add(1))));
  }, 'frame_counters');
  m.assign(m.output('empty_frames', CB), emptyC);
  m.assign(m.output('class_counts', CB * hw.classes), classC.length === 1 ? classC[0]! : cat(...[...classC].reverse()));

  const trig = triggerModule(hw, `${name}_trigger`);
  m.instance(trig, 'trigger', {
    dec_valid: toTrigger,
    dec_cls: jCls,
    dec_score: jScore,
    dec_frame: jFrame,
    dec_sof: jSof,
    dec_from_sof: jFromSof,
    ts_now: w.ts,
    fired_count: m.output('fired_count', CB),
    dropped_count: m.output('dropped_count', CB),
    cfg_valid: p.cfgIn.valid,
    cfg_ready: p.cfgIn.ready,
    cfg_data: p.cfgIn.data,
    event_valid: p.ev.valid,
    event_ready: p.ev.ready,
    event_data: p.ev.data,
    pulse: p.pulse,
    armed: p.armed,
    events_lost: p.lost,
  });
}
