/**
 * The camera port: an AXI4-Stream video slave after Xilinx UG934. `cam_data` = {tuser[0] (start of frame), ppc uint8
 * pixels (pixel i in bits [8i+7:8i])}, `cam_last` = tlast (end of line). `cam_ready` is constantly 1: a camera
 * cannot be stalled, so the port never relies on backpressure. Blanking (cycles without tvalid) is allowed anywhere.
 *
 * Per frame (FRAME_W x FRAME_H pixels, registers): the beats inside the crop window (CROP_X, CROP_Y, inputSize
 * square) go straight into the classifier, one beat per cycle, no buffering. The first error in a frame drops it
 * whole and is counted once:
 *   short line  tlast before beat FRAME_W/ppc - 1;        long line   no tlast on beat FRAME_W/ppc - 1;
 *   short frame start of frame before line FRAME_H - 1 ended;  long frame  a beat after the frame's last line, before
 *               the next start of frame (the completed frame stays valid; the extra lines are discarded).
 * After an error the port discards beats until the next start of frame (resynchronisation). The classifier always
 * sees whole crops: if a frame is dropped part way through its crop, the rest of the crop is padded with zero beats
 * (one per cycle) and its decision is discarded. A start of frame arriving while that padding runs, or while
 * `tag_room` is low (too many frames waiting for their decision), is an overflow: the frame is dropped whole.
 * Each frame that reached the classifier leaves one tag {sof timestamp, frame id, good}, in order, when it is
 * resolved (its last line, or its error); decision-path.ts joins it with the frame's decision.
 * Frame ids count every start of frame seen while the camera is enabled (CTRL bit 1), so dropped frames leave gaps.
 */
import { lit, mux, type Expr, type Module, type StreamPort } from '../../hdl';
import { bitsFor } from '../../util/errors';
import type { FrontRegs } from './front-regs';
import type { CellnetHw } from './plan';

export interface FrameTag {
  valid: Expr;
  sof: Expr;
  frame: Expr;
  good: Expr;
  /** The pulse delay counts from sof (camera) rather than from the decision (replay). */
  fromSof: Expr;
}

export interface CameraFrontEnd {
  feedValid: Expr;
  feedData: Expr;
  tag: FrameTag;
}

/** Names of the camera counters (plain output ports, counterBits wide, wrapping). */
export const CAMERA_COUNTERS = ['cam_frames', 'cam_overflow', 'cam_short_lines', 'cam_long_lines', 'cam_short_frames', 'cam_long_frames'] as const;

const ST_IDLE = 0;
const ST_FRAME = 1;
const ST_DONE = 2;

export function cameraPort(m: Module, hw: CellnetHw): StreamPort {
  const cam = m.streamIn('cam', 8 * hw.ppc + 1, { last: true });
  m.assign(cam.ready, lit(1, 1));
  return cam;
}

export function cameraFrontEnd(m: Module, hw: CellnetHw, cam: StreamPort, r: FrontRegs, ts: Expr, tagRoom: Expr): CameraFrontEnd {
  const c = hw.camera;
  const ppc = hw.ppc;
  const lg = Math.log2(ppc);
  const S = hw.cfg.inputSize;
  const FB = hw.frameBeats;
  const XB = c.xBits;
  const YB = c.hBits;
  const WB = bitsFor(FB);
  const CB = c.counterBits;
  const TS = hw.trigger.tsBits;

  const st = m.reg('cam_state', 2, { init: ST_IDLE });
  const x = m.reg('cam_x', XB, { init: 0 });
  const y = m.reg('cam_y', YB, { init: 0 });
  const wr = m.reg('cam_written', WB, { init: 0 });
  const pad = m.reg('cam_pad', WB, { init: 0 });
  const sofTs = m.reg('cam_sof_ts', TS, { init: 0 });
  const fid = m.reg('cam_frame_id', hw.frameBits, { init: 0 });
  const counters = Object.fromEntries(CAMERA_COUNTERS.map((n) => [n, m.reg(`${n}_r`, CB, { init: 0 })])) as Record<(typeof CAMERA_COUNTERS)[number], ReturnType<Module['reg']>>;

  const fire = m.let('cam_fire', cam.valid.and(r.cameraOn));
  const sof = m.let('cam_sof', cam.data.bit(8 * ppc));
  const lastB = cam.last!;
  const pix = cam.data.slice(8 * ppc - 1, 0);
  const lineM1 = m.let('cam_line_m1', r.frameW.shr(lg).resize(XB).sub(1));
  const hM1 = m.let('cam_h_m1', r.frameH.sub(1));
  const cxb = m.let('cam_crop_xb', r.cropX.shr(lg).resize(XB));

  const inFrame = st.eq(ST_FRAME);
  const prevShort = m.let('cam_prev_short', fire.and(sof).and(inFrame));
  const prevTag = m.let('cam_prev_tag', prevShort.and(wr.ne(0)));
  const prevPad = m.let('cam_prev_pad', prevTag.and(wr.ne(FB)));
  const admit = m.let('cam_admit', fire.and(sof).and(pad.eq(0)).and(prevPad.not()).and(tagRoom).and(prevTag.and(lastB).not()));
  const overflow = m.let('cam_overflow_now', fire.and(sof).and(admit.not()));
  const proc = m.let('cam_proc', admit.or(fire.and(sof.not()).and(inFrame)));
  const px = m.let('cam_px', mux(admit, lit(0, XB), x));
  const py = m.let('cam_py', mux(admit, lit(0, YB), y));
  const curWr = mux(admit, lit(0, WB), wr);
  const inX = px.zext(XB + 1).ge(cxb.zext(XB + 1)).and(px.zext(XB + 1).lt(cxb.zext(XB + 1).add(S / ppc)));
  const inY = py.zext(YB + 1).ge(r.cropY.zext(YB + 1)).and(py.zext(YB + 1).lt(r.cropY.zext(YB + 1).add(S)));
  const cropBeat = m.let('cam_crop_beat', proc.and(inX).and(inY));
  const wrNext = m.let('cam_wr_next', curWr.add(cropBeat.zext(WB)));
  const atEnd = m.let('cam_at_line_end', px.eq(lineM1));
  const shortLine = m.let('cam_short_line', proc.and(lastB).and(atEnd.not()));
  const longLine = m.let('cam_long_line', proc.and(lastB.not()).and(atEnd));
  const frameDone = m.let('cam_frame_done', proc.and(lastB).and(atEnd).and(py.eq(hM1)));
  const cropFull = wrNext.eq(FB);
  const abortHere = m.let('cam_abort', shortLine.or(longLine).or(frameDone.and(cropFull.not())));
  const hereTag = m.let('cam_here_tag', abortHere.and(wrNext.ne(0)));
  const herePad = m.let('cam_here_pad', hereTag.and(cropFull.not()));
  const hereGood = m.let('cam_here_good', frameDone.and(cropFull));
  const longFrame = m.let('cam_long_frame', fire.and(sof.not()).and(st.eq(ST_DONE)));

  const procState = mux(shortLine.or(longLine), lit(ST_IDLE, 2), mux(frameDone, lit(ST_DONE, 2), lit(ST_FRAME, 2)));
  const stNext = mux(
    r.cameraOn.not(),
    lit(ST_IDLE, 2),
    mux(fire.not(), st, mux(sof, mux(admit, procState, lit(ST_IDLE, 2)), mux(inFrame, procState, mux(st.eq(ST_DONE), lit(ST_IDLE, 2), st)))),
  );
  const padNext = mux(prevPad, lit(FB, WB).sub(wr), mux(herePad, lit(FB, WB).sub(wrNext), mux(pad.ne(0), pad.sub(1), pad)));
  const inc = (s: ReturnType<Module['reg']>) => s.add(1);
  m.sync((b) => {
    b.set(st, stNext);
    b.set(pad, padNext);
    b.if(proc, (t) => {
      t.set(x, mux(lastB, lit(0, XB), px.add(1)));
      t.set(y, mux(lastB.and(atEnd), py.add(1), py));
      t.set(wr, wrNext);
    });
    b.if(admit, (t) => t.set(sofTs, ts).set(fid, counters.cam_frames.slice(hw.frameBits - 1, 0)));
    b.if(fire.and(sof), (t) => t.set(counters.cam_frames, inc(counters.cam_frames)));
    b.if(overflow, (t) => t.set(counters.cam_overflow, inc(counters.cam_overflow)));
    b.if(prevShort, (t) => t.set(counters.cam_short_frames, inc(counters.cam_short_frames)));
    b.if(shortLine, (t) => t.set(counters.cam_short_lines, inc(counters.cam_short_lines)));
    b.if(longLine, (t) => t.set(counters.cam_long_lines, inc(counters.cam_long_lines)));
    b.if(longFrame, (t) => t.set(counters.cam_long_frames, inc(counters.cam_long_frames)));
  }, 'camera');
  for (const n of CAMERA_COUNTERS) m.assign(m.output(n, CB), counters[n]);

  const newId = counters.cam_frames.slice(hw.frameBits - 1, 0);
  return {
    feedValid: m.let('cam_feed_valid', cropBeat.or(pad.ne(0))),
    feedData: m.let('cam_feed_data', mux(cropBeat, pix, lit(0, 8 * ppc))),
    tag: {
      valid: m.let('cam_tag_valid', prevTag.or(hereTag).or(hereGood)),
      sof: m.let('cam_tag_sof', mux(prevTag.or(admit.not()), sofTs, ts)),
      frame: m.let('cam_tag_frame', mux(prevTag.or(admit.not()), fid, newId)),
      good: m.let('cam_tag_good', hereGood.and(prevTag.not())),
      fromSof: lit(1, 1),
    },
  };
}
