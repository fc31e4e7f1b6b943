/**
 * The sorter's common back end, shared by the streaming (top.ts) and time-multiplexed (serial.ts) classifiers:
 * logits -> decide (class, score) -> frame counter -> trigger unit (registers, event stream, pulse).
 */
import type { Expr, Module, Signal, StreamPort } from '../../hdl';
import { decideModule } from './decide';
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

/** Decide on `logits` when `logitsValid` pulses, number the frame, and hand the decision to the trigger unit. */
export function decisionAndTrigger(m: Module, hw: CellnetHw, name: string, p: SorterPorts, logitsValid: Expr, logits: Expr): void {
  const cfg = hw.cfg;
  const dec = decideModule(hw.classes, cfg.logitBits, cfg.scoreBits, hw.classBits, `${name}_decide`);
  const rv = m.wire('res_valid', 1);
  const rc = m.wire('res_cls', hw.classBits);
  const rs = m.wire('res_score', cfg.scoreBits);
  m.instance(dec, 'decide', { logits_valid: logitsValid, logits, res_valid: rv, res_cls: rc, res_score: rs });
  const frame = m.reg('frame_id', hw.frameBits, { init: 0 });
  m.sync((b) => b.if(rv, (t) => t.set(frame, frame.add(1))), 'frame_id');
  const trig = triggerModule(hw, `${name}_trigger`);
  m.instance(trig, 'trigger', {
    dec_valid: rv,
    dec_cls: rc,
    dec_score: rs,
    dec_frame: frame,
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
