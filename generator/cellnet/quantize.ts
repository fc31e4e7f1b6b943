import { InputError } from '../util/errors';
import { INPUT_BITS } from './config';
import { floatForward } from './float';
import type { QLayer, QuantizedCellnet } from './golden';
import type { CellnetModel, QuantScales } from './model';

/**
 * Float model -> fixed point (formats in docs/formats.md, "Cell classifier fixed point").
 *
 *  - Normalisation is folded into the first weighted layer: w' = w / (255 std), b' = b - (mean/std) sum_in w,
 *    so that layer takes raw uint8 pixels (inFrac 0). Max-pools before it commute with the affine map.
 *  - Weights: per layer power-of-two scale. weightFrac = floor(log2((2^(wb-1) - 1) / max|w'|)),
 *    q = round(w' * 2^weightFrac) (Math.round: half up), clamped to +-(2^(wb-1) - 1).
 *  - Bias at the accumulator scale accFrac = weightFrac + inFrac: round(b' * 2^accFrac), clamped to +-P
 *    (P = largest product sum, see LayerShape.accBits).
 *  - Output: shift = accFrac - outFrac, round half up, then ReLU + unsigned saturation (hidden layers) or
 *    signed saturation to logitBits (logits).
 *  - outFrac per hidden layer and logitFrac come from calibration (model.quant): the largest power-of-two
 *    scale at which the largest float activation seen on the calibration images still fits (logits: half of
 *    the signed range, for headroom), and never above accFrac (no left shifts).
 */

interface WeightedPlan {
  folded: { kernel: Float64Array; bias: Float64Array };
  weightFrac: number;
  inFrac: number;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Largest f with maxVal * 2^f <= limit (0 when maxVal is 0). */
function fracFor(limit: number, maxVal: number): number {
  if (!(maxVal > 0)) return 0;
  return Math.floor(Math.log2(limit / maxVal));
}

/** Fold normalisation and pick weight scales; independent of calibration. Yields the plan layer by layer. */
function plan(m: CellnetModel, actFrac: (i: number, accFrac: number) => number): Map<number, WeightedPlan & { outFrac: number }> {
  const cfg = m.config;
  const out = new Map<number, WeightedPlan & { outFrac: number }>();
  let inFrac = 0;
  let first = true;
  for (const s of cfg.shapes) {
    const l = s.layer;
    if (l.kind === 'maxpool') continue;
    const w = m.weights[s.index]!;
    const units = s.out[2];
    const kernel = Float64Array.from(w.kernel);
    const bias = Float64Array.from(w.bias);
    if (first) {
      const a = 1 / (255 * cfg.std);
      const c = cfg.mean / cfg.std;
      for (let o = 0; o < units; o++) {
        let sum = 0;
        for (let j = 0; j < s.fanIn; j++) sum += w.kernel[j * units + o]!;
        bias[o] = w.bias[o]! - c * sum;
      }
      for (let j = 0; j < kernel.length; j++) kernel[j] = w.kernel[j]! * a;
      first = false;
    }
    const weightFrac = fracFor(2 ** (l.weightBits - 1) - 1, maxAbs(kernel));
    const accFrac = weightFrac + inFrac;
    const outFrac = Math.min(accFrac, actFrac(s.index, accFrac));
    out.set(s.index, { folded: { kernel, bias }, weightFrac, inFrac, outFrac });
    inFrac = outFrac;
  }
  return out;
}

/**
 * Choose activation scales from float activations on calibration images (uint8, network input size).
 * Returns the QuantScales to store in the model file.
 */
export function calibrate(m: CellnetModel, pixels: Uint8Array, n: number): QuantScales {
  const cfg = m.config;
  const px = cfg.inputSize * cfg.inputSize;
  if (n < 1 || pixels.length < n * px) throw new InputError(`calibration needs at least one ${cfg.inputSize}x${cfg.inputSize} image`);
  const maxes = cfg.layers.map(() => 0);
  for (let i = 0; i < n; i++) {
    const { acts } = floatForward(m, pixels.subarray(i * px, (i + 1) * px), true);
    acts.forEach((a, li) => (maxes[li] = Math.max(maxes[li]!, maxAbs(a))));
  }
  const lastIdx = cfg.layers.length - 1;
  const actFrac: (number | null)[] = cfg.layers.map(() => null);
  let logitFrac = 0;
  plan(m, (i, accFrac) => {
    const s = cfg.shapes[i]!;
    const f = s.last ? fracFor((2 ** (cfg.logitBits - 1) - 1) / 2, maxes[i]!) : fracFor(2 ** s.outBits - 1, maxes[i]!);
    const chosen = Math.min(f, accFrac);
    if (i === lastIdx) logitFrac = chosen;
    else actFrac[i] = chosen;
    return chosen;
  });
  return { actFrac, logitFrac };
}

/** Build the integer network from a model file's float weights and its calibrated scales. */
export function quantize(m: CellnetModel): QuantizedCellnet {
  const cfg = m.config;
  const scales = m.quant;
  if (!scales) throw new InputError('model has no quantisation scales (quant); calibrate it first (cellnet train writes them)');
  const plans = plan(m, (i) => (cfg.shapes[i]!.last ? scales.logitFrac : scales.actFrac[i]!));
  const layers: QLayer[] = cfg.shapes.map((s): QLayer => {
    const l = s.layer;
    const [ih, iw, ic] = s.in;
    const [oh, ow, oc] = s.out;
    if (l.kind === 'maxpool') return { kind: 'maxpool', index: s.index, size: l.size, inH: ih, inW: iw, channels: ic, outH: oh, outW: ow, bits: s.inBits };
    const p = plans.get(s.index)!;
    const wantFrac = s.last ? scales.logitFrac : scales.actFrac[s.index]!;
    if (p.outFrac !== wantFrac)
      throw new InputError(`layer ${s.index}: output scale 2^-${wantFrac} needs a left shift (accumulator scale 2^-${p.weightFrac + p.inFrac}); recalibrate`);
    const wmax = 2 ** (l.weightBits - 1) - 1;
    const P = s.fanIn * (2 ** s.inBits - 1) * wmax;
    const shift = p.weightFrac + p.inFrac - p.outFrac;
    if (shift > 0 && 2 ** (shift - 1) > P) throw new InputError(`layer ${s.index}: shift ${shift} exceeds the accumulator range`);
    // Re-lay out from the trained [in][out] order to the RTL's [out][in] order.
    const weights = new Int8Array(s.weights);
    const scale = 2 ** p.weightFrac;
    for (let j = 0; j < s.fanIn; j++)
      for (let o = 0; o < oc; o++) weights[o * s.fanIn + j] = Math.max(-wmax, Math.min(wmax, Math.round(p.folded.kernel[j * oc + o]! * scale)));
    const accScale = 2 ** (p.weightFrac + p.inFrac);
    const bias = new Int32Array(oc);
    for (let o = 0; o < oc; o++) bias[o] = Math.max(-P, Math.min(P, Math.round(p.folded.bias[o]! * accScale)));
    const common = { index: s.index, inBits: s.inBits, weightBits: l.weightBits, weights, bias, shift, accBits: s.accBits, outBits: s.outBits, weightFrac: p.weightFrac, inFrac: p.inFrac, outFrac: p.outFrac };
    if (l.kind === 'conv') return { kind: 'conv', kernel: l.kernel, inH: ih, inW: iw, inC: ic, outH: oh, outW: ow, outC: oc, ...common };
    return { kind: 'dense', inputs: s.fanIn, outputs: oc, relu: !s.last, ...common };
  });
  return {
    inputSize: cfg.inputSize,
    inputBits: INPUT_BITS,
    classes: cfg.classes.map((c) => c.name),
    layers,
    logitBits: cfg.logitBits,
    scoreBits: cfg.scoreBits,
    logitFrac: scales.logitFrac,
  };
}

/** JSON-friendly form of a QuantizedCellnet (typed arrays as plain arrays), e.g. for the RTL generator or inspection. */
export function quantizedToJson(q: QuantizedCellnet): unknown {
  return { ...q, layers: q.layers.map((l) => (l.kind === 'maxpool' ? l : { ...l, weights: Array.from(l.weights), bias: Array.from(l.bias) })) };
}
