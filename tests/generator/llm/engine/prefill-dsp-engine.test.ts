import { describe, expect, it } from 'vitest';
import { printDesign } from '../../../../generator/hdl';
import { loadCheckpoint } from '../../../../generator/llm/checkpoint';
import { llmEngineModule } from '../../../../generator/llm/engine';
import { llmPresetConfig } from '../../../../generator/llm/engine/hw-config';
import { shapeOf } from '../../../../generator/llm/model-spec';
import { quantizeModel } from '../../../../generator/llm/quant/model';
import { buildLlmSim } from '../../../../sim/designs/llm';
import { lintVerilog } from '../../../../sim/lint';
import { hasModel, MODEL } from '../helpers';
import { prefillAndCompare } from './prefill-helpers';

const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;
// S + W = 12 on sim-small: the prompt is longer, so the ring evicts inside blocks; blocks of 8 then 7 end in a
// partial step of the DSP half (3 tokens per held word: 3 + 3 + 2, then 3 + 3 + 1)
const PROMPT = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200, 33];

describe.skipIf(!ckpt)('prefill blocks on the LUT array + DSP half in the engine RTL, stories260K (sim-small), Verilator', () => {
  if (!ckpt) return;
  const shape = shapeOf(ckpt.dims);
  const cfg = llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 8, prefillDsp: true } });
  const qm = quantizeModel(ckpt, cfg.engine, { search: 'mse' });

  it('refuses the DSP half without prefill blocks; decode-only and LUT-only configs are unchanged', () => {
    expect(() => llmPresetConfig('sim-small', shape, { hw: { prefillDsp: true } })).toThrow(/prefillDsp.*prefillBlock >= 2/);
    expect(cfg.gemv.tokensPerStep).toBe(3);
    expect(llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 8 } }).gemv.tokensPerStep).toBe(1);
  });

  it('lints clean (verilator -Wall)', async () => {
    const d = printDesign(llmEngineModule(cfg));
    expect((await lintVerilog(d.files, d.top, { throwOnWarning: false })).messages).toEqual([]);
  });

  it('the prompt in blocks of 8 (last one partial), then decode: every logit equals the token-by-token golden, with stalls', async () => {
    expect(PROMPT.length).toBeGreaterThan(cfg.engine.cacheSlots);
    const sim = await buildLlmSim(cfg);
    const r = await prefillAndCompare(sim, cfg, qm, PROMPT, 3, { seed: 11, memory: { latency: 3, stall: 0.3 }, logitStall: 0.3 });
    for (const b of r.blocks) expect([b.wBeats, b.sBeats]).toEqual([r.steps[0]!.wBeats, r.steps[0]!.sBeats]);
  }, 900_000);
});
