import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../../generator/llm/checkpoint';
import { llmPresetConfig } from '../../../../generator/llm/engine/hw-config';
import { shapeOf } from '../../../../generator/llm/model-spec';
import { quantizeModel } from '../../../../generator/llm/quant/model';
import { buildLlmSim } from '../../../../sim/designs/llm';
import { hasModel, MODEL } from '../helpers';
import { prefillAndCompare } from './prefill-helpers';

const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;
const PROMPT = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200, 33, 90, 410];

describe.skipIf(!ckpt)('2:4 sparse prefill blocks in the engine RTL on stories260K (sim-small) in Verilator', () => {
  if (!ckpt) return;
  const shape = shapeOf(ckpt.dims);
  for (const [use, block, dsp] of [['area', 5, false], ['throughput', 3, false], ['area', 7, true], ['throughput', 4, true]] as const)
    it(`${use} use, blocks of ${block}${dsp ? ' on the LUT array + DSP half' : ''} (last partial), then decode: every logit equals the token-by-token golden, with stalls`, async () => {
      const cfg = llmPresetConfig('sim-small', shape, { engine: { wSparsity: '2:4' }, hw: { prefillBlock: block, sparseUse: use, prefillDsp: dsp } });
      const qm = quantizeModel(ckpt, cfg.engine, { search: 'mse' });
      expect(PROMPT.length % block).not.toBe(0);
      expect(PROMPT.length).toBeGreaterThan(cfg.engine.cacheSlots);
      const sim = await buildLlmSim(cfg);
      const r = await prefillAndCompare(sim, cfg, qm, PROMPT, 4, { seed: 7, memory: { latency: 5, stall: 0.3 }, logitStall: 0.3 });
      expect(r.blocks.length).toBe(Math.ceil(PROMPT.length / block));
    }, 900_000);
});
