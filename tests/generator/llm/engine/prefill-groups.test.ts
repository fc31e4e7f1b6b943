import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../../generator/llm/checkpoint';
import { llmDeviceConfig } from '../../../../generator/llm/device/layout';
import { llmPresetConfig } from '../../../../generator/llm/engine/hw-config';
import { packModel } from '../../../../generator/llm/engine/pack';
import { blockGroups, packGroupBlock, stepPhases } from '../../../../generator/llm/engine/pack-groups';
import { shapeOf } from '../../../../generator/llm/model-spec';
import { quantizeModel } from '../../../../generator/llm/quant/model';
import { buildLlmSim } from '../../../../sim/designs/llm';
import { hasModel, MODEL } from '../helpers';
import { prefillAndCompare } from './prefill-helpers';

const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;
// S + W = 12 on sim-small: blocks of 2 x 4 tokens, so the ring evicts inside groups and across A / B
const PROMPT = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200, 33, 90, 17, 260, 5, 77, 301, 150];

describe.skipIf(!ckpt)('two prefill groups in flight in the engine RTL on stories260K (sim-small) in Verilator', () => {
  if (!ckpt) return;
  const shape = shapeOf(ckpt.dims);
  const cfg = llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 4, prefillGroups: 2 } });
  const qm = quantizeModel(ckpt, cfg.engine, { search: 'mse' });

  it('streams: w / s once per group per GEMV phase (the classifier once), each GEMV constant before its scales', () => {
    const img = packModel(cfg, qm);
    const { gemv } = stepPhases(cfg);
    expect(gemv.length).toBe(4 * shape.nLayers + 1);
    expect(blockGroups(cfg, 5)).toEqual([[0, 1, 2, 3], [4]]);
    const wPer = Math.ceil(cfg.wPortBits / 32);
    const clsWords = gemv[gemv.length - 1]!.length;
    const one = packGroupBlock(cfg, qm, img, [1, 2, 3]);
    const two = packGroupBlock(cfg, qm, img, [1, 2, 3, 4, 5]);
    expect(one.w.length).toBe(img.w.length);
    const clsW = img.w.length - one.w.length + two.w.length - img.w.length;
    expect(two.w.length / wPer).toBeGreaterThan(img.wWords);
    expect(clsW).toBeGreaterThan(0);
    const sPer = Math.ceil(cfg.sPortBits / 32);
    const gemvOps = gemv.flat().length;
    expect(one.s.length).toBe(img.s.length + gemvOps * sPer);
    expect(clsWords).toBe(cfg.clsPasses);
    expect(() => packGroupBlock(cfg, qm, img, Array(9).fill(1))).toThrow(/1 to 8/);
  });

  it('refuses two groups without prefill blocks or with 4-bit matrices', () => {
    expect(() => llmPresetConfig('sim-small', shape, { hw: { prefillGroups: 2 } })).toThrow(/prefillGroups/);
    expect(() => llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 4, prefillGroups: 3 } })).toThrow(/prefillGroups/);
    expect(() => llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 4, prefillGroups: 2 }, engine: { wBits: 4 } })).toThrow(/prefillBlock/);
    // the device's sequencers lay out the one-group streams only
    expect(() => llmDeviceConfig(cfg)).toThrow(/prefillGroups 1/);
    // the block refusal names the per-group block and counts both groups' buffers
    const one = llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 4 } });
    expect(cfg.prefillBits).toBeGreaterThan(one.prefillBits);
    expect(() => llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 4, prefillGroups: 2, onChipBudgetBits: one.onChipBits } })).toThrow(/shrink prefillBlock/);
  });

  it('the prompt in blocks of 2 x 4 (8, 8 and a partial 4 + 2), then decode: every logit equals the token-by-token golden, with stalls', async () => {
    expect(PROMPT.length).toBeGreaterThan(cfg.engine.cacheSlots);
    const sim = await buildLlmSim(cfg);
    const r = await prefillAndCompare(sim, cfg, qm, PROMPT, 3, { seed: 7, memory: { latency: 3, stall: 0.3 }, logitStall: 0.3 });
    expect(r.blocks.map((b) => b.logits.length > 0)).toEqual([true, true, true]);
  }, 600_000);

  it('the same with the DSP half (three tokens per held word, a partial step in each group), 2:4 area, prefetch FIFOs, 6 B/cycle memory', async () => {
    const c = llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 4, prefillGroups: 2, prefillDsp: true, wFifo: 8 }, engine: { wSparsity: '2:4' } });
    const q = quantizeModel(ckpt, c.engine, { search: 'mse' });
    const sim = await buildLlmSim(c, { bytesPerCycle: 6 });
    await prefillAndCompare(sim, c, q, PROMPT, 2, { seed: 11, memory: { latency: 2, stall: 0.3 }, logitStall: 0.2 });
  }, 600_000);
});
