import { describe, expect, it } from 'vitest';
import {
  gemvConfig,
  gemvGolden,
  gemvOutput,
  packJob,
  unpackY,
  w2GemvAcc,
  w2Level,
} from '../../../../generator/llm/gemv';
import { ConfigError } from '../../../../generator/util/errors';
import { Rng } from '../../../../generator/util/rng';
import { extremeJob, randomConfig, randomMatrix, randomX } from './random-job';

describe('GEMV golden model', () => {
  it('maps codes to the odd levels -3, -1, 1, 3', () => {
    expect([0, 1, 2, 3].map(w2Level)).toEqual([-3, -1, 1, 3]);
  });

  it('equals a dequantise-then-dot reference', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 10; t++) {
      const cfg = randomConfig(rng);
      const rows = rng.int(1, cfg.maxRows);
      const cols = rng.int(1, cfg.maxCols);
      const m = randomMatrix(rng, cfg, rows, cols);
      const x = randomX(rng, cols);
      const ng = Math.ceil(cols / cfg.group);
      const acc = w2GemvAcc(m, x);
      for (let r = 0; r < rows; r++) {
        let ref = 0n;
        for (let c = 0; c < cols; c++)
          ref += BigInt(m.scales[r * ng + Math.floor(c / cfg.group)]!) * BigInt(w2Level(m.codes[r * cols + c]!)) * BigInt(x[c]!);
        expect(BigInt(acc[r]!)).toBe(ref);
      }
    }
  });

  it('rounds half up and saturates like the documented output format', () => {
    const f = { outShift: 2, outBits: 4 };
    // (acc + 2) >> 2 with floor, then clamp to [-8, 7]
    expect([5, 6, -5, -6, -7, 100, -100].map((a) => gemvOutput(f, a))).toEqual([1, 2, -1, -1, -2, 7, -8]);
    expect(gemvOutput({ outShift: 0, outBits: 32 }, -123456)).toBe(-123456);
  });

  it('packs codes at bit 2*(lane*simd + j) of the row block word', () => {
    const cfg = gemvConfig({ lanes: 2, simd: 4, group: 4, maxCols: 8, maxRows: 4 });
    const m = { rows: 2, cols: 8, group: 4, codes: new Uint8Array(16), scales: new Uint32Array(4).fill(1) };
    m.codes[1 * 8 + 6] = 3; // row 1 (lane 1), column 6 = step 1, j = 2
    const words = packJob(cfg, m, new Int8Array(8));
    expect(words.weights).toHaveLength(2);
    expect(words.weights[0]).toBe(0n);
    expect(words.weights[1]).toBe(3n << BigInt(2 * (1 * 4 + 2)));
    expect(words.scales).toEqual([1n | (1n << 8n), 1n | (1n << 8n)]);
    expect(words.job).toEqual([2n | (1n << BigInt(cfg.groupCountBits))]);
  });

  it('pads columns with zero activations and rows with zero scales', () => {
    const rng = new Rng(3);
    const cfg = gemvConfig({ lanes: 3, simd: 4, group: 8, maxCols: 40, maxRows: 10 });
    const m = randomMatrix(rng, cfg, 7, 13);
    const x = randomX(rng, 13);
    const w = packJob(cfg, m, x);
    expect(w.x).toHaveLength(4); // 13 columns -> 2 groups of 8 -> 4 steps of 4
    expect(w.x[3]! >> 8n).toBe(0n); // column 13.. are zero
    expect(w.weights).toHaveLength(3 * 4);
    expect(w.scales[w.scales.length - 1]! >> 16n).toBe(0n); // row 8 (lane 2 of block 2) is padding
    expect(w.yWords).toBe(3);
  });

  it('unpacks signed lanes and drops padding rows', () => {
    const cfg = gemvConfig({ lanes: 2, simd: 1, group: 1, outBits: 8, outShift: 4, maxCols: 4, maxRows: 4 });
    expect(unpackY(cfg, [0xff_80n, 0x7f_01n], 3)).toEqual([-128, -1, 1]);
  });

  it('guarantees the accumulator bound at the largest supported cols', () => {
    const cfg = gemvConfig({ lanes: 2, simd: 16, group: 64, maxCols: 21_888, scaleBits: 8, accBits: 32 });
    const { m, x } = extremeJob(cfg);
    const acc = w2GemvAcc(m, x);
    expect(acc[0]).toBe(384 * 255 * 21_888); // the largest cols a 32-bit accumulator with 8-bit scales supports
    expect(Math.abs(acc[0]!)).toBeLessThanOrEqual(cfg.accBound);
    expect(cfg.accBound).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(gemvGolden(cfg, m, x)[0]).toBe(acc[0]);
    // one more group and the config is refused rather than allowed to overflow
    expect(() => gemvConfig({ lanes: 2, simd: 16, group: 64, maxCols: 21_888 + 64 })).toThrow(ConfigError);
  });
});

describe('GEMV parameter errors', () => {
  const cases: Array<[Record<string, number>, RegExp]> = [
    [{ lanes: 0 }, /'lanes'/],
    [{ simd: 0 }, /'simd'/],
    [{ simd: 5, group: 64 }, /'group': must be a multiple of simd/],
    [{ group: 0 }, /'group'/],
    [{ maxCols: 40_000, accBits: 32 }, /'accBits': a 32-bit accumulator can overflow/],
    [{ outBits: 40, accBits: 32 }, /'outBits'/],
    [{ lanes: 1.5 }, /'lanes': must be an integer/],
  ];
  for (const [p, re] of cases)
    it(`refuses ${JSON.stringify(p)}`, () => {
      let err: unknown;
      try {
        gemvConfig(p);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(re);
    });
});
