import { describe, expect, it } from 'vitest';
import { quantizeMatrix, dequant, levelOf } from '../../../generator/llm/quant/weights';
import { Rng } from '../../../generator/util/rng';
import { ConfigError } from '../../../generator/util/errors';

const rng = new Rng(3);
const rows = 24;
const cols = 70; // not a multiple of the group: last group padded
const w = Float32Array.from({ length: rows * cols }, () => rng.normal() * (rng.next() < 0.02 ? 4 : 1));
const opts = { bits: 2, group: 32, scaleBits: 8, mulBits: 8 };

function mse(m: ReturnType<typeof quantizeMatrix>): number {
  let e = 0;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) e += (dequant(m, r, c) - w[r * cols + c]!) ** 2;
  return e / w.length;
}

describe('weight quantizer', () => {
  it('produces the GEMV unit format: 2-bit codes, 8-bit scales, ceil(cols/group) groups per row', () => {
    const m = quantizeMatrix(w, rows, cols, { ...opts, search: 'mse' });
    expect(m.scales.length).toBe(rows * 3);
    expect(Math.max(...m.codes)).toBeLessThanOrEqual(3);
    expect(Math.max(...m.scales)).toBeLessThanOrEqual(255);
    expect(m.mul).toBeGreaterThanOrEqual(128);
    expect(m.mul).toBeLessThan(256);
    expect([0, 1, 2, 3].map((q) => levelOf(q, 2))).toEqual([-3, -1, 1, 3]);
  });

  it('MSE scale search beats plain min/max rounding', () => {
    const a = mse(quantizeMatrix(w, rows, cols, { ...opts, search: 'minmax' }));
    const b = mse(quantizeMatrix(w, rows, cols, { ...opts, search: 'mse' }));
    expect(b).toBeLessThan(0.8 * a);
  });

  it('GPTQ lowers the output error on correlated inputs compared with plain MSE', () => {
    // Inputs with strongly correlated columns: x = A z.
    const n = 400;
    const X = Array.from({ length: n }, () => {
      const z = Array.from({ length: 8 }, () => rng.normal());
      return Float64Array.from({ length: cols }, (_, c) => z[c % 8]! + 0.3 * rng.normal());
    });
    const gram = new Float64Array(cols * cols);
    for (const x of X) for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) gram[i * cols + j]! += (x[i]! * x[j]!) / n;
    const outErr = (m: ReturnType<typeof quantizeMatrix>) => {
      let e = 0;
      for (const x of X)
        for (let r = 0; r < rows; r++) {
          let d = 0;
          for (let c = 0; c < cols; c++) d += (dequant(m, r, c) - w[r * cols + c]!) * x[c]!;
          e += d * d;
        }
      return e;
    };
    const plain = outErr(quantizeMatrix(w, rows, cols, { ...opts, search: 'mse' }));
    const gptq = outErr(quantizeMatrix(w, rows, cols, { ...opts, search: 'gptq', gram }));
    expect(gptq).toBeLessThan(0.7 * plain);
  });

  it('rejects group 0 and GPTQ without statistics', () => {
    expect(() => quantizeMatrix(w, rows, cols, { ...opts, group: 0, search: 'mse' })).toThrow(ConfigError);
    expect(() => quantizeMatrix(w, rows, cols, { ...opts, search: 'gptq' })).toThrow(/needs calibration/);
  });
});
