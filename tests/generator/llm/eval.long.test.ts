import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../generator/llm/checkpoint';
import { defaultSettings, evaluate, EVAL_DEFAULTS } from '../../../generator/llm/eval';
import { hasModel, MODEL } from './helpers';

describe.skipIf(!hasModel)('llm eval (long)', () => {
  it('orders the schemes and quantizers as documented in docs/llm-fidelity.md', () => {
    const ckpt = loadCheckpoint(MODEL);
    const rows = evaluate(ckpt, defaultSettings(ckpt.dims.seqLen, EVAL_DEFAULTS.length), { ...EVAL_DEFAULTS });
    const find = (label: string) => rows.find((r) => r.label === label)!;
    const w2 = find('W2A8KV4 G=32 S=4 W=252 gptq+calib');
    const w4 = find('W4A8KV4 G=32 S=4 W=252 gptq+calib');
    const w8 = find('W8A8KV8 G=32 S=4 W=252 gptq+calib');
    const plain = find('W2A8KV4 G=32 S=4 W=252 minmax');
    expect(w8.top1).toBeGreaterThan(0.75);
    expect(w8.meanKl).toBeLessThan(0.15);
    expect(w8.top1).toBeGreaterThan(w4.top1);
    expect(w4.top1).toBeGreaterThan(w2.top1);
    expect(w2.top1).toBeGreaterThan(2 * plain.top1);
    expect(w2.meanKl).toBeLessThan(plain.meanKl - 1);
  });
});
