import { describe, expect, it } from 'vitest';
import { printDesign } from '../../../../generator/hdl';
import { STORIES260K_SHAPE } from '../../../../generator/llm/engine/hw-config';
import { llmEngineModule } from '../../../../generator/llm/engine/rtl';
import { lintVerilog } from '../../../../sim/lint';
import { loadCheckpoint } from '../../../../generator/llm/checkpoint';
import { shapeOf } from '../../../../generator/llm/model-spec';
import { llmEngineConfig, llmPresetConfig } from '../../../../generator/llm/engine/hw-config';
import { randomCase, randomQuantModel } from '../../../../generator/llm/engine/random';
import { quantizeModel } from '../../../../generator/llm/quant/model';
import { Rng } from '../../../../generator/util/rng';
import { buildLlmSim } from '../../../../sim/designs/llm';
import { hasModel, MODEL } from '../helpers';
import { decodeAndCompare } from './helpers';

const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;

describe.skipIf(!ckpt)('decode engine on stories260K (tiny preset), long', () => {
  it('40 steps past S+W = 32 from a prompt, with memory stalls', async () => {
    const cfg = llmPresetConfig('tiny', shapeOf(ckpt!.dims));
    const qm = quantizeModel(ckpt!, cfg.engine, { search: 'mse' });
    const sim = await buildLlmSim(cfg);
    await decodeAndCompare(sim, cfg, qm, [1, 32, 400, 5, 77], 40, { seed: 3, memory: { latency: 2, stall: 0.2 } });
  }, 3_600_000);
});

describe('decode engine on seeded random configurations, long', () => {
  const rng = new Rng(777);
  for (let n = 0; n < 8; n++) {
    const rc = randomCase(rng);
    it(`case ${n}: dim ${rc.model.dim} heads ${rc.model.nHeads}/${rc.model.nKvHeads} hidden ${rc.model.hiddenDim} S ${rc.engine.sinks} W ${rc.engine.window}`, async () => {
      const cfg = llmEngineConfig(rc.model, rc.hw, rc.engine);
      const qm = randomQuantModel(rc.model, rc.engine, 500 + n);
      const sim = await buildLlmSim(cfg);
      const prompt = [0, 1, 2].map((j) => (5 * j + n) % rc.model.vocabSize);
      await decodeAndCompare(sim, cfg, qm, prompt, 2 * cfg.engine.cacheSlots + 3, { seed: n, memory: { latency: 4, stall: 0.3 }, logitStall: 0.3 });
    }, 1_800_000);
  }
});

describe('u280 preset Verilog, long', () => {
  it('lints clean', async () => {
    const d = printDesign(llmEngineModule(llmPresetConfig('u280', STORIES260K_SHAPE)));
    const lint = await lintVerilog(d.files, d.top, { throwOnWarning: false });
    expect(lint.messages).toEqual([]);
  }, 600_000);
});
