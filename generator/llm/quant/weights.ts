import { ConfigError } from '../../util/errors';
import { groupsOf, type W2Matrix } from '../gemv/golden';

/**
 * A group-quantised weight matrix. Code q in [0, 2^bits) stands for the odd level 2q-(2^bits-1)
 * (for 2 bits: {-3,-1,+1,+3}, exactly the GEMV unit's format). Each row has ceil(cols/group) unsigned scale codes;
 * the last group of a row is zero-padded in hardware. Real weight = scale * level * mul * 2^-exp, where mul
 * (mulBits wide) and exp are per matrix.
 */
export interface QMatrix extends W2Matrix {
  bits: number;
  mul: number;
  exp: number;
}

export type ScaleSearch = 'mse' | 'minmax';

export interface QuantizeOptions {
  bits: number;
  group: number;
  scaleBits: number;
  mulBits: number;
  /** 'mse': search the scale minimising (weighted) squared error; 'minmax': scale = max|w| / maxLevel, round. */
  search: ScaleSearch;
  /** Per-input-column error weights (e.g. E[x^2] from calibration); uniform when absent. */
  colWeights?: Float64Array;
}

export const maxLevel = (bits: number): number => 2 ** bits - 1;
export const levelOf = (code: number, bits: number): number => 2 * code - maxLevel(bits);

/** Code of the level nearest to t (t in units of the scale). */
function nearestCode(t: number, bits: number): number {
  const q = Math.round((t + maxLevel(bits)) / 2);
  const top = 2 ** bits - 1;
  return q < 0 ? 0 : q > top ? top : q;
}

/** Weighted squared error of group [c0,c1) of row `base` at real scale s (codes chosen nearest). */
function groupError(w: Float32Array, base: number, c0: number, c1: number, s: number, bits: number, h?: Float64Array): number {
  let e = 0;
  for (let c = c0; c < c1; c++) {
    const x = w[base + c]!;
    const d = x - s * levelOf(nearestCode(x / s, bits), bits);
    e += (h ? h[c]! : 1) * d * d;
  }
  return e;
}

export function quantizeMatrix(w: Float32Array, rows: number, cols: number, o: QuantizeOptions): QMatrix {
  if (w.length !== rows * cols) throw new ConfigError('matrix', `has ${w.length} values, expected ${rows}x${cols}`, w.length);
  if (!(o.group >= 1)) throw new ConfigError('group', 'must be >= 1', o.group);
  const ng = groupsOf(cols, o.group);
  const L = maxLevel(o.bits);
  const smax = 2 ** o.scaleBits - 1;
  // Pass 1: continuous per-group scale (clipping search for 'mse').
  const sReal = new Float64Array(rows * ng);
  for (let r = 0; r < rows; r++)
    for (let g = 0; g < ng; g++) {
      const c0 = g * o.group;
      const c1 = Math.min(cols, c0 + o.group);
      let amax = 0;
      for (let c = c0; c < c1; c++) amax = Math.max(amax, Math.abs(w[r * cols + c]!));
      if (amax === 0) continue;
      let best = amax / L;
      if (o.search === 'mse') {
        let bestErr = Infinity;
        for (let a = 0.15; a <= 1.0001; a += 0.005) {
          const s = (a * amax) / L;
          const e = groupError(w, r * cols, c0, c1, s, o.bits, o.colWeights);
          if (e < bestErr) [bestErr, best] = [e, s];
        }
      }
      sReal[r * ng + g] = best;
    }
  // Per-matrix step: mul * 2^-exp >= max scale / smax, with mul normalised to mulBits.
  let top = 0;
  for (const s of sReal) top = Math.max(top, s);
  if (top === 0) top = 1;
  const delta = top / smax;
  const k = Math.floor(Math.log2(delta));
  let exp = o.mulBits - 1 - k;
  let mul = Math.ceil(delta * 2 ** exp);
  if (mul >= 2 ** o.mulBits) {
    mul = Math.ceil(mul / 2);
    exp -= 1;
  }
  const step = mul * 2 ** -exp;
  // Pass 2: integer scale codes; 'mse' searches codes around the continuous optimum, then codes are nearest levels.
  const scales = new Uint32Array(rows * ng);
  const codes = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let g = 0; g < ng; g++) {
      const c0 = g * o.group;
      const c1 = Math.min(cols, c0 + o.group);
      const s = sReal[r * ng + g]!;
      let code = Math.min(smax, Math.round(s / step));
      if (s > 0 && code === 0) code = 1;
      if (o.search === 'mse' && s > 0) {
        let bestErr = groupError(w, r * cols, c0, c1, code * step, o.bits, o.colWeights);
        const lo = Math.max(1, code - 12);
        const hi = Math.min(smax, code + 12);
        for (let cc = lo; cc <= hi; cc++) {
          const e = groupError(w, r * cols, c0, c1, cc * step, o.bits, o.colWeights);
          if (e < bestErr) [bestErr, code] = [e, cc];
        }
      }
      scales[r * ng + g] = code;
      const sq = code * step;
      for (let c = c0; c < c1; c++) codes[r * cols + c] = sq > 0 ? nearestCode(w[r * cols + c]! / sq, o.bits) : 2 ** (o.bits - 1);
    }
  return { rows, cols, group: o.group, bits: o.bits, codes, scales, mul, exp };
}

/** Real value of weight (r, c) (for evaluation and tests; not used in the integer datapath). */
export function dequant(m: QMatrix, r: number, c: number): number {
  const ng = groupsOf(m.cols, m.group);
  return m.scales[r * ng + Math.floor(c / m.group)]! * levelOf(m.codes[r * m.cols + c]!, m.bits) * m.mul * 2 ** -m.exp;
}

/**
 * Exact integer GEMV for any code width: acc[r] = sum_g scale[r][g] * sum_{c in g} level(q) * x[c].
 * For 2-bit matrices callers use the GEMV unit's w2GemvAcc; this covers the 4/8-bit ablation and the classifier.
 */
export function wnGemvAcc(m: QMatrix, x: Int8Array, out: Float64Array): Float64Array {
  const ng = groupsOf(m.cols, m.group);
  const L = maxLevel(m.bits);
  const { cols, group, codes, scales } = m;
  for (let r = 0; r < m.rows; r++) {
    let a = 0;
    const rowBase = r * cols;
    for (let g = 0; g < ng; g++) {
      let d = 0;
      const end = Math.min(cols, (g + 1) * group);
      for (let c = g * group; c < end; c++) d += (2 * codes[rowBase + c]! - L) * x[c]!;
      a += scales[r * ng + g]! * d;
    }
    out[r] = a;
  }
  return out;
}
