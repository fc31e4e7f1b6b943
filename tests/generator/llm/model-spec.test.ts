import { describe, expect, it } from 'vitest';
import { engineConfig, type ModelShape } from '../../../generator/llm/model-spec';
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
  ])('rejects %j', (p, msg) => {
    expect(() => engineConfig(SHAPE, p)).toThrow(ConfigError);
    expect(() => engineConfig(SHAPE, p)).toThrow(msg);
  });
});
