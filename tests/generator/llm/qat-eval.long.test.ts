import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../generator/llm/checkpoint';
import { evaluate, EVAL_DEFAULTS, qatComparison } from '../../../generator/llm/eval';
import { shippedQuantModels } from '../../../generator/llm/qat/shipped';
import { hasModel, MODEL } from './helpers';

describe.skipIf(!hasModel)('shipped QAT models (long)', () => {
  it('beat GPTQ + calibration at full attention, as docs/llm-fidelity.md reports', () => {
    const ckpt = loadCheckpoint(MODEL);
    const shipped = shippedQuantModels(ckpt);
    const uniform = shipped.filter((m) => !m.w4Matrices.length);
    expect(uniform.map((m) => m.wBits).sort()).toEqual([2, 4]);
    const quant = uniform;
    const full = EVAL_DEFAULTS.length - 4;
    const settings = qatComparison(ckpt.dims.seqLen, EVAL_DEFAULTS.length, quant).filter((s) => s.window === full).map((s) => ({ ...s, loops: false }));
    const rows = evaluate(ckpt, settings, { ...EVAL_DEFAULTS });
    // Measured: W2 13.9% / 5.08 / 2025 -> 26.2% / 1.96 / 86; W4 30.8% / 2.14 / 114 -> 40.3% / 1.10 / 35.
    const bounds = { 2: { top1: 0.05, kl: 2, ppl: 0.1 }, 4: { top1: 0.01, kl: 0.4, ppl: 0.6 } } as const;
    for (const bits of [2, 4] as const) {
      const mine = rows.filter((r) => r.scheme === `W${bits}A8KV4`);
      const gptq = mine.find((r) => !r.quant && !r.rotate);
      const qat = mine.find((r) => r.quant);
      expect(qat!.quant).toBeDefined();
      expect(qat!.top1).toBeGreaterThan(gptq!.top1 + bounds[bits].top1);
      expect(qat!.meanKl).toBeLessThan(gptq!.meanKl - bounds[bits].kl);
      expect(qat!.ppl).toBeLessThan(gptq!.ppl * bounds[bits].ppl);
    }
  }, 1_800_000);

  it('the shipped mixed W2 + W4 model with the most 4-bit matrices beats the uniform W2 QAT model at full attention', () => {
    const ckpt = loadCheckpoint(MODEL);
    const shipped = shippedQuantModels(ckpt).filter((m) => m.wBits === 2);
    const mixed = shipped.filter((m) => m.w4Matrices.length).sort((a, b) => b.w4Matrices.length - a.w4Matrices.length)[0];
    const w2 = shipped.find((m) => !m.w4Matrices.length);
    expect(mixed).toBeDefined();
    const full = EVAL_DEFAULTS.length - 4;
    const base = { scheme: 'W2A8KV4' as const, group: 32, sinks: 4, window: full, search: 'gptq' as const, calibrated: true };
    const [u, m] = evaluate(ckpt, [{ ...base, quant: w2!.path }, { ...base, quant: mixed!.path }], { ...EVAL_DEFAULTS });
    // Measured (mixed50: layers 0-1 and every wk/wv at 4 bits): W2 26.2% / 1.963 / 86.0 -> 31.0% / 1.548 / 58.0.
    expect(m!.top1).toBeGreaterThan(u!.top1 + 0.02);
    expect(m!.meanKl).toBeLessThan(u!.meanKl - 0.2);
    expect(m!.ppl).toBeLessThan(0.8 * u!.ppl);
  }, 1_800_000);
});
