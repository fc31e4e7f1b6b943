import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../../generator/llm/checkpoint';
import { llmPresetConfig } from '../../../../generator/llm/engine/hw-config';
import { packModel } from '../../../../generator/llm/engine/pack';
import { shapeOf } from '../../../../generator/llm/model-spec';
import { quantizeModel } from '../../../../generator/llm/quant/model';
import { buildLlmSim } from '../../../../sim/designs/llm';
import { hasModel, MODEL } from '../helpers';
import { decodeAndCompare } from './helpers';

const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;

describe.skipIf(!ckpt)('2:4 sparse decode engine on stories260K (sim-small) in Verilator', () => {
  if (!ckpt) return;
  const shape = shapeOf(ckpt.dims);
  const sparse = { engine: { wSparsity: '2:4' as const } };
  const cfg = llmPresetConfig('sim-small', shape, sparse);
  const qm = quantizeModel(ckpt, cfg.engine, { search: 'mse' });

  it('the sparse engine carries 7-bit quad fields and runs the dense classifier as two passes per plane', () => {
    expect(cfg.gemv.sparse).toBe(true);
    expect(cfg.wPortBits).toBe((7 * cfg.gemv.lanes * cfg.gemv.simd) / 4);
    expect(cfg.clsPasses).toBe(2 * cfg.clsPlanes);
    expect(qm.layers[0]!.w1.keep).toBeDefined();
    expect(qm.cls.keep).toBeUndefined();
  });

  it("refuses a dense model on the sparse engine and a sparse model on the dense engine", () => {
    const dense = llmPresetConfig('sim-small', shape);
    const qmDense = quantizeModel(ckpt, dense.engine, { search: 'mse' });
    expect(() => packModel(cfg, qmDense)).toThrow(/dense but the engine was built for 2:4/);
    expect(() => packModel(dense, qm)).toThrow(/2:4 sparse but the engine was built for dense/);
  });

  it('area use: equals the golden decoder bit for bit from a prompt past S+W, with memory and logits stalls', async () => {
    const sim = await buildLlmSim(cfg);
    const prompt = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200];
    expect(prompt.length).toBeGreaterThan(cfg.engine.cacheSlots);
    await decodeAndCompare(sim, cfg, qm, prompt, 16, { seed: 9, memory: { latency: 3, stall: 0.3 }, logitStall: 0.3 });
  }, 600_000);

  it('throughput use (2*simd columns per cycle): bit-exact, and fewer cycles per token than area use', async () => {
    const thr = llmPresetConfig('sim-small', shape, { ...sparse, hw: { sparseUse: 'throughput' } });
    expect(thr.gemv.simd).toBe(2 * cfg.gemv.simd);
    const [a, t] = [await buildLlmSim(cfg), await buildLlmSim(thr)];
    const ra = await decodeAndCompare(a, cfg, qm, [1], 3, { memory: { latency: 4 } });
    const rt = await decodeAndCompare(t, thr, qm, [1], 3, { seed: 2, memory: { latency: 4, stall: 0.2 }, logitStall: 0.2 });
    const rt0 = await decodeAndCompare(t, thr, qm, [1], 3, { memory: { latency: 4 } });
    expect(rt.tokens).toEqual(ra.tokens);
    expect(rt0.cycles[2]!).toBeLessThan(0.8 * ra.cycles[2]!);
  }, 600_000);
});
