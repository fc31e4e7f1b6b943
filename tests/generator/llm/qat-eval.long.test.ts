import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../generator/llm/checkpoint';
import { evaluate, EVAL_DEFAULTS, qatComparison } from '../../../generator/llm/eval';
import { shippedQuantModels } from '../../../generator/llm/qat/shipped';
import { hasModel, MODEL } from './helpers';

describe.skipIf(!hasModel)('shipped QAT models (long)', () => {
  it('beat GPTQ + calibration at full attention, as docs/llm-fidelity.md reports', () => {
    const ckpt = loadCheckpoint(MODEL);
    const shipped = shippedQuantModels(ckpt);
    expect(shipped.map((m) => m.wBits).sort()).toEqual([2, 4]);
    const quant = Object.fromEntries(shipped.map((m) => [`W${m.wBits}A8KV4`, { path: m.path, group: m.wGroup }]));
    const full = EVAL_DEFAULTS.length - 4;
    const settings = qatComparison(ckpt.dims.seqLen, EVAL_DEFAULTS.length, quant).filter((s) => s.window === full).map((s) => ({ ...s, loops: false }));
    const rows = evaluate(ckpt, settings, { ...EVAL_DEFAULTS });
    for (const bits of [2, 4]) {
      const [gptq, qat] = rows.filter((r) => r.scheme === `W${bits}A8KV4`);
      expect(qat!.quant).toBeDefined();
      expect(qat!.top1).toBeGreaterThan(gptq!.top1 + 0.05);
      expect(qat!.meanKl).toBeLessThan(gptq!.meanKl - 0.5);
      expect(qat!.ppl).toBeLessThan(gptq!.ppl / 2);
    }
  }, 1_800_000);
});
