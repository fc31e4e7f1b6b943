import { describe, expect, it } from 'vitest';
import { engineConfig, expandW4Spec, matrixBits, type ModelShape } from '../../../generator/llm/model-spec';
import { ConfigError } from '../../../generator/util/errors';

const SHAPE: ModelShape = { dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, headDim: 8, kvDim: 32, vocabSize: 512, seqLen: 512 };

describe('engine config', () => {
  it('derives the cache size and RMSNorm shift from the parameters', () => {
    const c = engineConfig(SHAPE, { sinks: 4, window: 60 });
    expect(c.cacheSlots).toBe(64);
    // 24-bit residual squared over 64 entries must fit the 48-bit sum after the shift.
    expect(2 * (c.resBits - 1 - c.sqShift) + Math.log2(SHAPE.dim)).toBeLessThanOrEqual(c.ssBits);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ sinks: 0, window: 0 }, /sinks\+window.*at least one entry/],
    [{ wGroup: 0 }, /'wGroup': must be in \[1/],
    [{ wGroup: 1.5 }, /'wGroup': must be an integer/],
    [{ window: 0, sinks: 4 }, /'window': must be >= 1/],
    [{ sinks: -1 }, /'sinks'/],
    [{ kvGroup: 3 }, /'kvGroup': must divide head_dim=8/],
    [{ wBits: 3 as 2 }, /'wBits': must be 2, 4 or 8/],
    [{ kvBits: 2 as 4 }, /'kvBits': must be 4 or 8/],
    [{ linBits: 30, linFrac: 12 }, /beyond the exact 2\^53 range/],
    [{ w4Matrices: ['5.wq'] }, /'w4Matrices': '5.wq' is not <layer>.<matrix> of this model \(layers 0-4/],
    [{ w4Matrices: ['0.wx'] }, /'w4Matrices': '0.wx' is not/],
    [{ w4Matrices: ['1.wq', '0.wq'] }, /must be sorted and without repeats/],
    [{ w4Matrices: ['0.wq'], wBits: 4 as const }, /4-bit matrices are a W2 model's exceptions; wBits is 4/],
    [{ w4Matrices: ['0.wq'], wSparsity: '2:4' as const }, /dense weights only/],
  ])('rejects %j', (p, msg) => {
    expect(() => engineConfig(SHAPE, p)).toThrow(ConfigError);
    expect(() => engineConfig(SHAPE, p)).toThrow(msg);
  });
});

describe('mixed precision spec', () => {
  it('expands layer / matrix wildcards into the sorted list and gives each matrix its width', () => {
    const w4 = expandW4Spec('*.wk, 1.*, 0.wq', 3);
    expect(w4).toEqual(['0.wq', '0.wk', '1.wq', '1.wk', '1.wv', '1.wo', '1.w1', '1.w2', '1.w3', '2.wk']);
    const c = engineConfig({ ...SHAPE, nLayers: 3 }, { w4Matrices: w4 });
    expect(matrixBits(c, 0, 'wq')).toBe(4);
    expect(matrixBits(c, 0, 'wv')).toBe(2);
    expect(matrixBits(c, 2, 'wk')).toBe(4);
    expect(expandW4Spec('', 3)).toEqual([]);
  });

  it.each([
    ['7.wq', /layer 7 does not exist \(the model has 3\)/],
    ['wq', /'wq' is not <layer>.<matrix>/],
    ['0.cls', /'0.cls' is not <layer>.<matrix>/],
  ])('refuses %s naming the problem', (spec, msg) => {
    expect(() => expandW4Spec(spec, 3)).toThrow(ConfigError);
    expect(() => expandW4Spec(spec, 3)).toThrow(msg);
  });
});
