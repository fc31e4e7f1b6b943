/**
 * Front-end registers on the cfg stream (plan.ts REGS): camera enable (CTRL bit 1), frame size, crop offset, and the
 * presence gate's background and threshold. The trigger unit decodes its own registers from the same stream.
 */
import { type Expr, type Module, type Signal } from '../../hdl';
import { CTRL_CAMERA, REGS, type CellnetHw } from './plan';

export interface FrontRegs {
  cameraOn: Signal;
  frameW: Signal;
  frameH: Signal;
  cropX: Signal;
  cropY: Signal;
  background: Signal;
  presence: Signal;
}

export function frontRegisters(m: Module, hw: CellnetHw, cfgValid: Expr, cfgData: Expr): FrontRegs {
  const c = hw.camera;
  const d = c.defaults;
  const r: FrontRegs = {
    cameraOn: m.reg('camera_on', 1, { init: 0 }),
    frameW: m.reg('frame_w', c.wBits, { init: d.w }),
    frameH: m.reg('frame_h', c.hBits, { init: d.h }),
    cropX: m.reg('crop_x', c.wBits, { init: d.cropX }),
    cropY: m.reg('crop_y', c.hBits, { init: d.cropY }),
    background: m.reg('background', 8, { init: 0 }),
    presence: m.reg('presence', c.sumBits, { init: 0 }),
  };
  const addr = cfgData.slice(hw.reg.bits - 1, hw.reg.dataBits);
  const data = cfgData.slice(hw.reg.dataBits - 1, 0);
  const low = (bits: number): Expr => data.slice(bits - 1, 0);
  const camBit = Math.log2(CTRL_CAMERA);
  m.sync((b) =>
    b.if(cfgValid, (u) =>
      u.switch(addr, [
        [REGS.CTRL, (x) => x.set(r.cameraOn, data.bit(camBit))],
        [REGS.FRAME_W, (x) => x.set(r.frameW, low(c.wBits))],
        [REGS.FRAME_H, (x) => x.set(r.frameH, low(c.hBits))],
        [REGS.CROP_X, (x) => x.set(r.cropX, low(c.wBits))],
        [REGS.CROP_Y, (x) => x.set(r.cropY, low(c.hBits))],
        [REGS.BACKGROUND, (x) => x.set(r.background, low(8))],
        [REGS.PRESENCE, (x) => x.set(r.presence, low(c.sumBits))],
      ]),
    ),
  'front_registers');
  return r;
}
