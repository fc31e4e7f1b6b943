/**
 * The `cellnet` entry of the design registry: the shipped model (models/cellnet/default.json) quantised, at
 * `ppc` pixels per cycle. Its weights are the power-up contents; other models of the same architecture and
 * rounding shifts load through the wload stream (packWeights).
 */
import { DEFAULT_MODEL_PATH, readModel } from '../model';
import { quantize } from '../quantize';
import type { QuantizedCellnet } from '../golden';
import type { CellnetConfig } from '../config';
import { ARITH_DEFAULTS, cellnetHw, TRIGGER_DEFAULTS, type CellnetHw } from './plan';
import { DSP_PACKINGS } from '../../lib/dsp-pack';
import { cellnetModule } from './top';
import { cellnetSerialModule } from './serial';
import { requireInt } from '../../util/errors';
import type { Module } from '../../hdl';

/**
 * serial: 0 = streaming engines sized by ppc (top.ts); 1 = time-multiplexed single-MAC engine (serial.ts, ppc 1, iCE40UP5K).
 * dspPack: products sharing an activation per DSP48E2 (lib/dsp-pack.ts): 0 none, 1 WP486 pre-adder + sign
 * correction, 2 offset-binary low weight. treeLevels: adder levels between adder-tree registers.
 */
export const CELLNET_RTL_DEFAULTS = {
  ppc: 8,
  queueDepth: TRIGGER_DEFAULTS.queueDepth,
  eventDepth: TRIGGER_DEFAULTS.eventDepth,
  serial: 0,
  dspPack: DSP_PACKINGS.indexOf(ARITH_DEFAULTS.packing),
  treeLevels: ARITH_DEFAULTS.treeLevelsPerStage,
};

export interface CellnetDesign {
  cfg: CellnetConfig;
  q: QuantizedCellnet;
  hw: CellnetHw;
  module: Module;
}

export function cellnetDesign(params: Partial<typeof CELLNET_RTL_DEFAULTS> = {}, modelPath = DEFAULT_MODEL_PATH): CellnetDesign {
  const p = { ...CELLNET_RTL_DEFAULTS, ...params };
  const model = readModel(modelPath);
  const q = quantize(model);
  requireInt('serial', p.serial, 0, 1);
  requireInt('dspPack', p.dspPack, 0, DSP_PACKINGS.length - 1);
  const hw = cellnetHw(
    model.config,
    p.ppc,
    { queueDepth: p.queueDepth, eventDepth: p.eventDepth },
    { packing: DSP_PACKINGS[p.dspPack]!, treeLevelsPerStage: p.treeLevels },
  );
  return { cfg: model.config, q, hw, module: p.serial ? cellnetSerialModule(hw, q) : cellnetModule(hw, q) };
}
