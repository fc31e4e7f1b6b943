/**
 * tfjs fake quantisation for QAT: every function returns float tensors holding exactly the values the integer
 * engine represents (docs/formats.md), with straight-through gradients where rounding would kill them.
 */
import * as tf from '@tensorflow/tfjs';

/** round() forward (tfjs rounds half to even), identity gradient (straight-through estimator). */
export const roundSte = tf.customGrad((x, save) => {
  void save;
  return { value: tf.round(x as tf.Tensor), gradFunc: (dy: tf.Tensor) => [dy] };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * Group-quantised weight, in units of the matrix step (mul * 2^-exp): u is the latent weight [rows, cols] and sc the
 * continuous scale codes [rows, groups]. Forward: s = clip(round(sc), 1, 2^scaleBits-1); level = 2q - (2^bits-1),
 * q = clip(round((u/s + 2^bits-1)/2), 0, 2^bits-1); returns s * level. Gradients (LSQ, Esser et al. 2020):
 * d/du = 1 inside the grid, 0 beyond it; d/ds = level - u/s inside, level beyond.
 */
export function fakeQuantWeight(u: tf.Tensor2D, sc: tf.Tensor2D, bits: number, group: number, scaleBits: number): tf.Tensor2D {
  const [rows, cols] = u.shape;
  const ng = sc.shape[1];
  const L = 2 ** bits - 1;
  const padded = ng * group;
  const up = padded === cols ? u : tf.pad(u, [[0, 0], [0, padded - cols]]);
  const u3 = up.reshape([rows, ng, group]);
  const s = tf.clipByValue(roundSte(sc), 1, 2 ** scaleBits - 1).reshape([rows, ng, 1]);
  const q = tf.clipByValue(roundSte(u3.div(s).add(L).div(2)), 0, L);
  const w = s.mul(q.mul(2).sub(L)).reshape([rows, padded]) as tf.Tensor2D;
  return padded === cols ? w : (w.slice([0, 0], [rows, cols]) as tf.Tensor2D);
}

/** The integer codes and scale codes fakeQuantWeight represents (same ops, so export equals training). */
export function weightCodes(u: tf.Tensor2D, sc: tf.Tensor2D, bits: number, group: number, scaleBits: number): { codes: Uint8Array; scales: Uint32Array } {
  let out!: { codes: Uint8Array; scales: Uint32Array };
  tf.tidy(() => {
    const [rows, cols] = u.shape;
    const ng = sc.shape[1];
    const L = 2 ** bits - 1;
    const padded = ng * group;
    const up = padded === cols ? u : tf.pad(u, [[0, 0], [0, padded - cols]]);
    const s = tf.clipByValue(tf.round(sc), 1, 2 ** scaleBits - 1);
    const q = tf.clipByValue(tf.round(up.reshape([rows, ng, group]).div(s.reshape([rows, ng, 1])).add(L).div(2)), 0, L);
    const qv = q.reshape([rows, padded]).slice([0, 0], [rows, cols]).dataSync();
    out = { codes: Uint8Array.from(qv), scales: Uint32Array.from(s.dataSync()) };
  });
  return out;
}

/**
 * Dynamic symmetric quantisation over the last axis, as the golden decoder's quantizeDynamic: k = floor(log2 amax)
 * + 1 - mantBits, step = (floor(amax / 2^k) + 1) * 2^k / 2^(bits-1), code = clip(round(y / step), ±(2^(bits-1)-1)).
 * (The golden decoder's mantissa renormalisation when floor(amax/2^k)+1 = 2^mantBits gives the same step.)
 * Gradient: straight through (the scale is treated as a constant).
 */
export function fakeQuantDynamic(y: tf.Tensor, bits: number, mantBits: number): tf.Tensor {
  const f = tf.customGrad((x, save) => {
    void save;
    const value = tf.tidy(() => {
      const t = x as tf.Tensor;
      const amax = tf.maximum(t.abs().max(-1, true), 1e-30);
      const k = tf.floor(tf.log(amax).div(Math.LN2)).add(1 - mantBits);
      const p = tf.pow(2, k);
      const step = tf.floor(amax.div(p)).add(1).mul(p).div(2 ** (bits - 1));
      const lim = 2 ** (bits - 1) - 1;
      return tf.clipByValue(tf.round(t.div(step)), -lim, lim).mul(step);
    });
    return { value, gradFunc: (dy: tf.Tensor) => [dy] };
  }) as (x: tf.Tensor) => tf.Tensor;
  return f(y);
}

/** fakeQuantDynamic over groups of `group` channels of the last axis (KV groups, per-head queries). */
export function fakeQuantGroups(y: tf.Tensor, group: number, bits: number, mantBits: number): tf.Tensor {
  const shape = y.shape;
  const last = shape[shape.length - 1]!;
  return fakeQuantDynamic(y.reshape([...shape.slice(0, -1), last / group, group]), bits, mantBits).reshape(shape);
}

/**
 * 1/sqrt(ss) through the golden decoder's rsqrt table: e2 = floor(log2 ss) rounded down to even, u = ss / 2^e2 in
 * [1,4), table input = (floor(u·2^L) + 0.5) / 2^L (the entry's interval midpoint). ss is in the decoder's
 * sum-of-squares units. Gradient: that of the exact ss^-1/2.
 */
export function rsqrtTable(ss: tf.Tensor, indexBits: number): tf.Tensor {
  const f = tf.customGrad((x, save) => {
    const t = x as tf.Tensor;
    (save as (ts: tf.Tensor[]) => void)([t]);
    const value = tf.tidy(() => {
      const e2 = tf.floor(tf.floor(tf.log(t).div(Math.LN2)).div(2)).mul(2);
      const p = tf.pow(2, e2);
      const uq = tf.floor(t.div(p).mul(2 ** indexBits)).add(0.5).div(2 ** indexBits);
      return tf.rsqrt(uq).mul(tf.rsqrt(p));
    });
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [dy.mul(tf.pow(saved[0]!, -1.5)).mul(-0.5)] };
  }) as (x: tf.Tensor) => tf.Tensor;
  return f(ss);
}

/** SiLU through the sigmoid table: σ evaluated at x rounded to 2^-stepFrac and clamped to [-2^r, 2^r); gradient of x·σ(x). */
export function siluTable(x: tf.Tensor, stepFrac: number, rangeLog2: number): tf.Tensor {
  const f = tf.customGrad((v, save) => {
    const t = v as tf.Tensor;
    (save as (ts: tf.Tensor[]) => void)([t]);
    const value = tf.tidy(() => {
      const u = tf.clipByValue(tf.round(t.mul(2 ** stepFrac)), -(2 ** (rangeLog2 + stepFrac)), 2 ** (rangeLog2 + stepFrac) - 1);
      return t.mul(tf.sigmoid(u.div(2 ** stepFrac)));
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const sg = tf.sigmoid(saved[0]!);
        return [dy.mul(sg.mul(saved[0]!.mul(sg.neg().add(1)).add(1)))];
      },
    };
  }) as (x: tf.Tensor) => tf.Tensor;
  return f(x);
}
