/**
 * Top level of the cell sorter: pixel stream -> conv/pool engines -> dense -> argmax/score -> trigger.
 *
 * Ports (streams follow docs/architecture.md#streams):
 *   cam     in   the camera: AXI4-Stream video (UG934), data = {tuser SOF, ppc pixels}, last = end of line (camera.ts)
 *   px      in   replay: ppc uint8 pixels per beat (pixel x = beat*ppc + i in bits [8i+7:8i]) of inputSize^2 crops,
 *                raster order; `px_last` on a frame's final beat is checked, not needed (frames are counted);
 *                px_ready is always 1. Use one source at a time (a beat on both in one cycle: px wins).
 *   wload   in   one weight-chain byte per beat (weights.ts); always ready; load only while no frame is in flight
 *   cfg     in   register write {addr, value} (plan.ts REGS); always ready
 *   event   out  one record per decision the event mode selects (plan.ts hw.event): frame, cls, score, sof,
 *                timestamp, fired, dropped; counters (camera, empty, per class, fired, dropped) are plain outputs
 *   pulse        the sort pulse;  armed = enable register;  cam_on = camera enable (CTRL bit 1)
 *   events_lost  saturating count of events dropped because the event FIFO was full
 *   overrun      sticky: a conv engine got a new row while busy (cannot happen at any input rate; a self-check)
 *   frame_error  sticky: px_last disagreed with the frame's pixel count
 * rst (synchronous, active high) resets everything: the weights return to the model the RTL was generated with,
 * the trigger to disabled.
 */
import { Module, lit, mux, type Expr, type Signal } from '../../hdl';
import { bitsFor } from '../../util/errors';
import type { QConvLayer, QDenseLayer, QuantizedCellnet } from '../golden';
import { convModule } from './conv';
import { cameraFrontEnd, cameraPort } from './camera';
import { backEndWires, decisionAndTrigger, replayTag, sorterPorts } from './decision-path';
import { frontRegisters } from './front-regs';
import { presenceGate } from './presence';
import { denseModule } from './dense';
import type { CellnetHw } from './plan';
import { poolModule } from './pool';
import { checkQuantized } from './weights';

export function cellnetModule(hw: CellnetHw, q: QuantizedCellnet, name = `cellnet_p${hw.ppc}`): Module {
  checkQuantized(hw, q);
  const cfg = hw.cfg;
  const m = new Module(name, {
    doc:
      `cell sorter: ${cfg.inputSize}x${cfg.inputSize} uint8 at ${hw.ppc} px/cycle, ${hw.classes} classes, ` +
      `${hw.totalMults} products/cycle in ${hw.totalDsps} multipliers (${hw.arith.packing} packing), ${hw.chainBytes} weight bytes`,
  });
  const cam = cameraPort(m, hw);
  const px = m.streamIn('px', 8 * hw.ppc, { last: true });
  const wload = m.streamIn('wload', 8);
  const ports = sorterPorts(m, hw);
  const overrun = m.output('overrun', 1);
  const frameError = m.output('frame_error', 1);
  m.assign(px.ready, lit(1, 1));
  m.assign(wload.ready, lit(1, 1));

  // ---- framing check --------------------------------------------------------------------------------
  const fb = bitsFor(hw.frameBeats - 1);
  const beat = m.reg('px_beat', fb, { init: 0 });
  const endOfFrame = m.let('end_of_frame', beat.eq(hw.frameBeats - 1));
  const ferr = m.reg('frame_error_r', 1, { init: 0 });
  m.sync((b) =>
    b.if(px.valid, (t) => {
      t.set(beat, mux(endOfFrame, lit(0, fb), beat.add(1)));
      t.if(px.last!.ne(endOfFrame), (u) => u.set(ferr, 1));
    }),
  'framing');
  m.assign(frameError, ferr);

  // ---- front end: camera or replay, presence gate -----------------------------------------------------
  const w = backEndWires(m, hw);
  const regs = frontRegisters(m, hw, ports.cfgIn.valid, ports.cfgIn.data);
  const fe = cameraFrontEnd(m, hw, cam, regs, w.ts, w.tagRoom);
  // CTRL bit 1 as a port: on a board it tells the frame grabber that acquisition is on (and the virtual board's
  // camera model starts playing its frames on it).
  m.assign(m.output('cam_on', 1), regs.cameraOn);
  const feedValid = m.let('feed_valid', px.valid.or(fe.feedValid));
  const feedData = m.let('feed_data', mux(px.valid, px.data, fe.feedData));
  const gate = presenceGate(m, hw, feedValid, feedData, regs.background, regs.presence);
  const rt = replayTag(m, hw, px.valid, endOfFrame, w.ts);
  const tag = {
    valid: rt.valid.or(fe.tag.valid),
    sof: mux(rt.valid, rt.sof, fe.tag.sof),
    frame: mux(rt.valid, rt.frame, fe.tag.frame),
    good: mux(rt.valid, rt.good, fe.tag.good),
    fromSof: mux(rt.valid, rt.fromSof, fe.tag.fromSof),
  };

  // ---- datapath ---------------------------------------------------------------------------------------
  let valid: Expr = feedValid;
  let data: Expr = feedData;
  let ldIn: Expr = wload.data;
  const overruns: Expr[] = [];
  let logitsValid: Signal | undefined;
  let logits: Signal | undefined;
  for (const p of hw.stages) {
    const tag = `${p.kind === 'maxpool' ? 'pool' : p.kind}${p.index}`;
    if (p.kind === 'conv') {
      const { module: sub } = convModule(p, q.layers[p.index] as QConvLayer, hw.arith, `${name}_${tag}`);
      const ov = m.wire(`${tag}_valid`, 1);
      const od = m.wire(`${tag}_data`, p.lanes * p.outC * p.out.bits);
      const lo = m.wire(`${tag}_ld_out`, 8);
      const orun = m.wire(`${tag}_overrun`, 1);
      m.instance(sub, tag, { in_valid: valid, in_data: data, out_valid: ov, out_data: od, ld_en: wload.valid, ld_in: ldIn, ld_out: lo, overrun: orun });
      valid = ov;
      data = od;
      ldIn = lo;
      overruns.push(orun);
    } else if (p.kind === 'maxpool') {
      const sub = poolModule(p, `${name}_${tag}`);
      const ov = m.wire(`${tag}_valid`, 1);
      const od = m.wire(`${tag}_data`, p.out.n * p.out.channels * p.out.bits);
      m.instance(sub, tag, { in_valid: valid, in_data: data, out_valid: ov, out_data: od });
      valid = ov;
      data = od;
    } else {
      const { module: sub } = denseModule(p, q.layers[p.index] as QDenseLayer, cfg.logitBits, hw.arith, `${name}_${tag}`);
      logitsValid = m.wire('logits_valid', 1);
      logits = m.wire('logits', hw.classes * cfg.logitBits);
      m.instance(sub, tag, { in_valid: valid, in_data: data, ld_en: wload.valid, ld_in: ldIn, logits_valid: logitsValid, logits });
    }
  }
  if (!logitsValid || !logits) throw new Error('cellnet: plan has no dense layer');
  const orAll = overruns.reduce<Expr>((a, b) => a.or(b), lit(0, 1));
  m.assign(overrun, orAll);


  // ---- decision and trigger (decision-path.ts) --------------------------------------------------------
  decisionAndTrigger(m, hw, name, ports, w, logitsValid, logits, tag, gate.empty);
  return m;
}
