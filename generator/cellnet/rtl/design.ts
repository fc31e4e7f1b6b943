/**
 * The `cellnet` entry of the design registry: the shipped model (models/cellnet/default.json) quantised, at
 * `ppc` pixels per cycle. Its weights are the power-up contents; other models of the same architecture and
 * rounding shifts load through the wload stream (packWeights).
 */
import { DEFAULT_MODEL_PATH, readModel } from '../model';
import { quantize } from '../quantize';
import type { QuantizedCellnet } from '../golden';
import type { CellnetConfig } from '../config';
import { cellnetHw, TRIGGER_DEFAULTS, type CellnetHw } from './plan';
import { cellnetModule } from './top';
import type { Module } from '../../hdl';

export const CELLNET_RTL_DEFAULTS = { ppc: 8, queueDepth: TRIGGER_DEFAULTS.queueDepth, eventDepth: TRIGGER_DEFAULTS.eventDepth };

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
  const hw = cellnetHw(model.config, p.ppc, { queueDepth: p.queueDepth, eventDepth: p.eventDepth });
  return { cfg: model.config, q, hw, module: cellnetModule(hw, q) };
}
