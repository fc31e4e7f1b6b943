import { Rng } from '../../../generator/util/rng';
import { cellnetConfig } from '../../../generator/cellnet/config';
import { type CellnetModel, emptyWeights } from '../../../generator/cellnet/model';

/** A seeded He-initialised model with plausible quant scales (not trained). */
export function randomModel(seed: number, cfg = cellnetConfig()): CellnetModel {
  const r = new Rng(seed);
  const weights = emptyWeights(cfg);
  cfg.shapes.forEach((s, i) => {
    const w = weights[i];
    if (!w) return;
    const sd = Math.sqrt(2 / s.fanIn);
    for (let j = 0; j < w.kernel.length; j++) w.kernel[j] = sd * r.normal();
    for (let j = 0; j < w.bias.length; j++) w.bias[j] = 0.1 * r.normal();
  });
  return { config: cfg, weights, quant: { actFrac: [4, null, 5, null, null], logitFrac: 9 }, meta: { note: 'test' } };
}

