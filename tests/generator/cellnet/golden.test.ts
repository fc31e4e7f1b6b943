import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../generator/util/errors';
import { cellnetConfig } from '../../../generator/cellnet/config';
import { toClassSet } from '../../../generator/cellnet/dataset';
import { evaluate } from '../../../generator/cellnet/evaluate';
import { type QuantizedCellnet, decide, goldenBatch, goldenClassify, goldenTrace } from '../../../generator/cellnet/golden';
import { DEFAULT_MODEL_PATH, readModel } from '../../../generator/cellnet/model';
import { calibrate, quantize } from '../../../generator/cellnet/quantize';
import { synthImages } from '../../../generator/cellnet/synth';
import { randomModel } from './helpers';

const cfg = cellnetConfig();
const images = toClassSet(synthImages(120, { seed: 42, labels: [0, 1] }), cfg);
const PX = 48 * 48;
const img = (i: number) => images.pixels.subarray(i * PX, (i + 1) * PX);

/**
 * Independent re-computation in the real domain: dequantised weights and activations as float64
 * (exact: all values are dyadic), planar CHW loops, and the documented rounding written as
 * floor(x * 2^outFrac + 1/2). Returns every layer's integer outputs in HWC order plus the largest
 * |accumulator| seen per layer (in accumulator units).
 */
function reference(q: QuantizedCellnet, pixels: Uint8Array): { outs: number[][]; accMax: number[] } {
  let h = q.inputSize, w = q.inputSize, c = 1;
  let chw: number[] = Array.from(pixels); // real value of the raw pixel (inFrac 0)
  const outs: number[][] = [];
  const accMax: number[] = [];
  for (const l of q.layers) {
    let next: number[];
    if (l.kind === 'maxpool') {
      const oh = l.outH, ow = l.outW;
      next = new Array(c * oh * ow).fill(0);
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < oh; y++)
          for (let x = 0; x < ow; x++) {
            let m = -Infinity;
            for (let dy = 0; dy < l.size; dy++) for (let dx = 0; dx < l.size; dx++) m = Math.max(m, chw[(ch * h + y * l.size + dy) * w + x * l.size + dx]!);
            next[(ch * oh + y) * ow + x] = m;
          }
      h = oh; w = ow;
      accMax.push(0);
    } else {
      const inScale = 2 ** -l.inFrac, wScale = 2 ** -l.weightFrac, accScale = inScale * wScale;
      const quant = (real: number) => {
        const v = Math.floor(real * 2 ** l.outFrac + 0.5);
        if (l.kind === 'dense' && !l.relu) return Math.min(2 ** (l.outBits - 1) - 1, Math.max(-(2 ** (l.outBits - 1)), v));
        return Math.min(2 ** l.outBits - 1, Math.max(0, v));
      };
      let am = 0;
      if (l.kind === 'conv') {
        const k = l.kernel, oh = l.outH, ow = l.outW;
        next = new Array(l.outC * oh * ow).fill(0);
        for (let o = 0; o < l.outC; o++)
          for (let y = 0; y < oh; y++)
            for (let x = 0; x < ow; x++) {
              let real = l.bias[o]! * accScale;
              for (let i = 0; i < c; i++)
                for (let ky = 0; ky < k; ky++)
                  for (let kx = 0; kx < k; kx++)
                    real += l.weights[((o * k + ky) * k + kx) * c + i]! * wScale * (chw[(i * h + y + ky) * w + x + kx]! * inScale);
              am = Math.max(am, Math.abs(real / accScale));
              next[(o * oh + y) * ow + x] = quant(real);
            }
        h = oh; w = ow; c = l.outC;
      } else {
        next = new Array(l.outputs).fill(0);
        for (let o = 0; o < l.outputs; o++) {
          let real = l.bias[o]! * accScale;
          // Dense inputs are indexed in HWC order.
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++)
              for (let i = 0; i < c; i++) real += l.weights[o * l.inputs + (y * w + x) * c + i]! * wScale * chw[(i * h + y) * w + x]! * inScale;
          am = Math.max(am, Math.abs(real / accScale));
          next[o] = quant(real);
        }
        h = 1; w = 1; c = l.outputs;
      }
      accMax.push(am);
    }
    chw = next;
    const hwc = new Array(chw.length);
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) hwc[p * c + ch] = chw[ch * h * w + p];
    outs.push(hwc);
  }
  return { outs, accMax };
}

function calibrated(seed: number) {
  const m = randomModel(seed);
  m.quant = calibrate(m, images.pixels.subarray(0, 32 * PX), 32);
  return quantize(m);
}

describe('fixed-point golden model', () => {
  it('matches an independent real-domain re-computation layer by layer', () => {
    for (const seed of [1, 2]) {
      const q = calibrated(seed);
      for (let i = 0; i < 6; i++) {
        const trace = goldenTrace(q, img(i));
        const ref = reference(q, img(i));
        trace.forEach((t, li) => expect(Array.from(t), `seed ${seed} image ${i} layer ${li}`).toEqual(ref.outs[li]));
        q.layers.forEach((l, li) => {
          if (l.kind !== 'maxpool') expect(ref.accMax[li]!).toBeLessThan(2 ** (l.accBits - 1));
        });
      }
    }
  });

  it('uses the documented formats: int8 weights, uint8 activations, folded normalisation', () => {
    const q = calibrated(3);
    for (const l of q.layers) {
      if (l.kind === 'maxpool') continue;
      for (const v of l.weights) expect(Math.abs(v)).toBeLessThanOrEqual(127);
      expect(l.shift).toBeGreaterThanOrEqual(0);
      expect(l.shift).toBe(l.weightFrac + l.inFrac - l.outFrac);
    }
    expect(q.layers[0]!.kind === 'conv' && q.layers[0]!.inFrac).toBe(0);
    // The largest weight uses the range: power-of-two scale puts max|w| in [64, 127].
    const l0 = q.layers[0]!;
    if (l0.kind === 'conv') expect(Math.max(...Array.from(l0.weights, Math.abs))).toBeGreaterThanOrEqual(64);
  });

  it('decides argmax with ties to the lowest index and a saturated margin', () => {
    expect(decide([5, 5], 16)).toEqual({ cls: 0, score: 0 });
    expect(decide([-3, 7, 7], 16)).toEqual({ cls: 1, score: 0 });
    expect(decide([-32768, 32767], 16)).toEqual({ cls: 1, score: 65535 });
    expect(decide([-32768, 32767], 8)).toEqual({ cls: 1, score: 255 });
    const q = calibrated(4);
    const r = goldenClassify(q, img(0));
    expect(r).toEqual({ logits: r.logits, ...decide(r.logits, q.scoreBits) });
  });

  it('rejects an image of the wrong size', () => {
    const q = calibrated(5);
    expect(() => goldenClassify(q, new Uint8Array(47 * 48))).toThrow(InputError);
    expect(() => goldenClassify(q, new Uint8Array(64 * 64))).toThrow(/4096 pixels, expected 48x48/);
    expect(() => goldenBatch(q, new Uint8Array(PX * 2 + 1), 2)).toThrow(InputError);
  });

  it('runs fast enough for RTL comparisons', () => {
    const q = calibrated(6);
    const t0 = performance.now();
    goldenBatch(q, images.pixels, images.n);
    const perSec = images.n / ((performance.now() - t0) / 1000);
    expect(perSec).toBeGreaterThan(100);
  });

  it.runIf(existsSync(DEFAULT_MODEL_PATH))('the shipped model keeps its float accuracy in fixed point (synthetic)', () => {
    const m = readModel(DEFAULT_MODEL_PATH, cfg);
    const test = toClassSet(synthImages(400, { seed: 777, labels: [0, 1] }), cfg);
    const r = evaluate(m, test);
    expect(r.float).toBeGreaterThan(0.7);
    expect(Math.abs(r.float - r.fixed)).toBeLessThan(0.03);
    expect(r.agreement).toBeGreaterThan(0.95);
  });
});
