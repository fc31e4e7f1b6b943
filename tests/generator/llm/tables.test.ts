import { describe, expect, it } from 'vitest';
import { engineConfig, type ModelShape } from '../../../generator/llm/model-spec';
import { buildTables, expNeg, recipLookup, ropeCosSin, ropePhase, rsqrtLookup, sigmoidLookup } from '../../../generator/llm/golden/tables';
import { bitLength, shr } from '../../../generator/llm/golden/fixed';
import { Rng } from '../../../generator/util/rng';

const SHAPE: ModelShape = { dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, headDim: 8, kvDim: 32, vocabSize: 512, seqLen: 512 };
const c = engineConfig(SHAPE);
const t = buildTables(c);
const rng = new Rng(42);

// Each bound below is the table's documented error (docs/formats.md): index quantisation plus entry rounding.
describe('fixed-point tables against their float functions', () => {
  it('fixed primitives: shr rounds half up, bitLength is exact at powers of two', () => {
    expect([shr(5, 1), shr(-5, 1), shr(6, 2), shr(-6, 2), shr(3, 0), shr(3, -2)]).toEqual([3, -2, 2, -1, 3, 12]);
    for (let k = 0; k < 52; k++) {
      expect(bitLength(2 ** k)).toBe(k + 1);
      expect(bitLength(2 ** k - 1)).toBe(k);
    }
  });

  it('rsqrt: relative error <= 2^-(L+1) + 2^-(rsqrtFrac-1)', () => {
    const bound = 2 ** -(c.rsqrtIndexBits + 1) + 2 ** -(c.rsqrtFrac - 1);
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const v = Math.floor(2 ** (rng.next() * 47)) + 1;
      const { mant, e2 } = rsqrtLookup(c, t, v);
      const got = mant * 2 ** -c.rsqrtFrac * 2 ** (-e2 / 2);
      worst = Math.max(worst, Math.abs(got * Math.sqrt(v) - 1));
    }
    expect(worst).toBeLessThanOrEqual(bound);
    expect(worst).toBeGreaterThan(bound / 8); // the bound is tight, not vacuous
  });

  it('reciprocal: relative error <= 2^-(recipFrac-recipBits)', () => {
    for (let m = 2 ** (c.recipBits - 1); m <= 2 ** c.recipBits; m++)
      expect(Math.abs(recipLookup(c, t, m) * m * 2 ** -c.recipFrac - 1)).toBeLessThanOrEqual(2 ** -(c.recipFrac - c.recipBits));
  });

  it('RoPE cos/sin: abs error <= pi/2^L + 2^-(ropeFrac+1) + phase error', () => {
    const bound = Math.PI / 2 ** c.ropeLutBits + 2 ** -(c.ropeFrac + 1) + 1e-6;
    for (const pos of [0, 1, 7, 100, 511, 4095, 100000])
      for (let j = 0; j < SHAPE.headDim / 2; j++) {
        const ang = pos * 10000 ** (-(2 * j) / SHAPE.headDim);
        const [co, si] = ropeCosSin(c, t, ropePhase(t, pos, j));
        expect(Math.abs(co / 2 ** c.ropeFrac - Math.cos(ang))).toBeLessThanOrEqual(bound);
        expect(Math.abs(si / 2 ** c.ropeFrac - Math.sin(ang))).toBeLessThanOrEqual(bound);
      }
  });

  it('softmax exp: abs error <= 2^-(expLutBits+1)*ln2 + 2^-expFrac + log2e rounding', () => {
    const bound = Math.LN2 * 2 ** -(c.expLutBits + 1) + 2 ** -c.expFrac + 2 ** -c.scoreFrac;
    for (let i = 0; i < 5000; i++) {
      const d = Math.floor(rng.next() * 24 * 2 ** c.scoreFrac);
      const got = expNeg(c, t, d) / 2 ** c.expFrac;
      expect(Math.abs(got - Math.exp(-d / 2 ** c.scoreFrac))).toBeLessThanOrEqual(bound);
    }
    expect(expNeg(c, t, 0)).toBe(2 ** c.expFrac);
    expect(expNeg(c, t, 2 ** 40)).toBe(0);
  });

  it('sigmoid (SiLU): abs error <= 2^-(sigStepFrac+3) + 2^-(sigFrac+1) inside the range, saturating outside', () => {
    const bound = 2 ** -(c.sigStepFrac + 3) + 2 ** -(c.sigFrac + 1);
    const R = 2 ** c.sigRangeLog2;
    for (let i = 0; i < 5000; i++) {
      const x = Math.round((rng.next() * 2 - 1) * R * 2 ** c.linFrac);
      const got = sigmoidLookup(c, t, x) / 2 ** c.sigFrac;
      expect(Math.abs(got - 1 / (1 + Math.exp(-x / 2 ** c.linFrac)))).toBeLessThanOrEqual(bound);
    }
    expect(sigmoidLookup(c, t, 2 ** 23) / 2 ** c.sigFrac).toBeGreaterThan(1 - 1e-6);
    expect(sigmoidLookup(c, t, -(2 ** 23))).toBeLessThanOrEqual(1);
  });

  it('the 1/sqrt(head_dim) and log2(e) constants are within half an LSB', () => {
    expect(Math.abs(t.invSqrtHead - 2 ** c.invSqrtFrac / Math.sqrt(8))).toBeLessThanOrEqual(0.5);
    expect(Math.abs(t.log2e - Math.LOG2E * 2 ** c.log2eFrac)).toBeLessThanOrEqual(0.5);
  });
});
