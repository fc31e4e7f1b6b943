/**
 * Presence gate: the sum over a frame's crop of |p - background|, accumulated on the beats entering the classifier
 * (camera crop or replayed image). A frame is empty iff the PRESENCE register is non-zero and the sum is at most
 * PRESENCE; empty frames raise no event and no pulse (decision-path.ts) and are counted.
 */
import { lit, mux, type Expr, type Module } from '../../hdl';
import { bitsFor } from '../../util/errors';
import type { CellnetHw } from './plan';

export interface PresenceGate {
  /** The beat entering now is the last of its frame. */
  frameEnd: Expr;
  /** Empty verdict of the frame ending now, else of the last frame that ended. */
  empty: Expr;
}

export function presenceGate(m: Module, hw: CellnetHw, valid: Expr, data: Expr, background: Expr, threshold: Expr): PresenceGate {
  const SB = hw.camera.sumBits;
  const fb = bitsFor(hw.frameBeats - 1);
  const beat = m.reg('gate_beat', fb, { init: 0 });
  const sum = m.reg('gate_sum', SB, { init: 0 });
  const emptyR = m.reg('gate_empty', 1, { init: 0 });
  const lanes: Expr[] = [];
  for (let i = 0; i < hw.ppc; i++) {
    const p = data.slice(8 * i + 7, 8 * i);
    lanes.push(m.let(`gate_d${i}`, mux(p.ge(background), p.sub(background), background.sub(p))).zext(SB));
  }
  const beatSum = lanes.reduce((a, b) => a.add(b));
  const total = m.let('gate_total', sum.add(beatSum));
  const frameEnd = m.let('gate_frame_end', valid.and(beat.eq(hw.frameBeats - 1)));
  const emptyNow = m.let('gate_empty_now', threshold.ne(0).and(total.le(threshold)));
  m.sync((b) =>
    b.if(valid, (t) => {
      t.set(beat, mux(frameEnd, lit(0, fb), beat.add(1)));
      t.set(sum, mux(frameEnd, lit(0, SB), total));
      t.if(frameEnd, (u) => u.set(emptyR, emptyNow));
    }),
  'presence_gate');
  return { frameEnd, empty: m.let('gate_empty_sel', mux(frameEnd, emptyNow, emptyR)) };
}
