import { describe, expect, it } from 'vitest';
import { checkSparse24 } from '../../../generator/llm/gemv/sparse';
import { dequant, quantizeMatrix, type QMatrix } from '../../../generator/llm/quant/weights';
import { ConfigError } from '../../../generator/util/errors';
import { Rng } from '../../../generator/util/rng';

const rng = new Rng(41);
const rows = 16;
const cols = 64;
const w = Float32Array.from({ length: rows * cols }, () => rng.normal());
const opts = { bits: 2, group: 32, scaleBits: 8, mulBits: 8, sparsity: '2:4' as const };

/** Correlated calibration inputs x = A z + noise and their Gram matrix. */
const X = Array.from({ length: 300 }, () => {
  const z = Array.from({ length: 6 }, () => rng.normal());
  return Float64Array.from({ length: cols }, (_, c) => z[c % 6]! * (1 + (c % 5)) + 0.3 * rng.normal());
});
const gram = new Float64Array(cols * cols);
for (const x of X) for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) gram[i * cols + j]! += (x[i]! * x[j]!) / X.length;
const ex2 = Float64Array.from({ length: cols }, (_, c) => gram[c * cols + c]!);

function outputError(m: QMatrix): number {
  let e = 0;
  for (const x of X)
    for (let r = 0; r < rows; r++) {
      let d = 0;
      for (let c = 0; c < cols; c++) d += (dequant(m, r, c) - w[r * cols + c]!) * x[c]!;
      e += d * d;
    }
  return e;
}

describe('2:4 pruning with mask-aware quantisation', () => {
  for (const search of ['minmax', 'mse', 'gptq'] as const)
    it(`${search}: keeps exactly two of every four, pruned weights are 0 with code 0`, () => {
      const m = quantizeMatrix(w, rows, cols, { ...opts, search, gram, colWeights: ex2 });
      checkSparse24(m);
      for (let i = 0; i < rows * cols; i++)
        if (!m.keep![i]) {
          expect(m.codes[i]).toBe(0);
          expect(dequant(m, Math.floor(i / cols), i % cols)).toBe(0);
        }
    });

  it('Wanda (uncalibrated) keeps the two largest magnitudes of each quad', () => {
    const m = quantizeMatrix(w, rows, cols, { ...opts, search: 'mse' });
    for (let r = 0; r < rows; r++)
      for (let c0 = 0; c0 < cols; c0 += 4) {
        const mags = [0, 1, 2, 3].map((k) => Math.abs(w[r * cols + c0 + k]!));
        const smallestKept = Math.min(...[0, 1, 2, 3].filter((k) => m.keep![r * cols + c0 + k]).map((k) => mags[k]!));
        const largestPruned = Math.max(...[0, 1, 2, 3].filter((k) => !m.keep![r * cols + c0 + k]).map((k) => mags[k]!));
        expect(smallestKept).toBeGreaterThanOrEqual(largestPruned);
      }
  });

  it('Wanda with calibration weighs |w| by sqrt(E[x^2]): a column with 100x the activation power is kept', () => {
    const h = new Float64Array(cols).fill(1);
    h[0] = 1e4;
    const tiny = Float32Array.from(w);
    for (let r = 0; r < rows; r++) tiny[r * cols] = 0.05 * Math.sign(w[r * cols]! || 1);
    const m = quantizeMatrix(tiny, rows, cols, { ...opts, search: 'mse', colWeights: h });
    for (let r = 0; r < rows; r++) expect(m.keep![r * cols]).toBe(1);
  });

  it('SparseGPT (gptq + 2:4) has a lower output error than Wanda on correlated inputs', () => {
    const wanda = outputError(quantizeMatrix(w, rows, cols, { ...opts, search: 'mse', colWeights: ex2 }));
    const sparsegpt = outputError(quantizeMatrix(w, rows, cols, { ...opts, search: 'gptq', gram, colWeights: ex2 }));
    expect(sparsegpt).toBeLessThan(0.8 * wanda);
  });

  it('refuses a group that splits a quad', () => {
    expect(() => quantizeMatrix(w, rows, cols, { ...opts, group: 6, search: 'mse' })).toThrow(ConfigError);
  });
});
