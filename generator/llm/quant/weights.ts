import { ConfigError } from '../../util/errors';
import { groupsOf, type W2Matrix } from '../gemv/golden';
import { maskQuad, maskTopTwo, QUAD } from '../gemv/sparse';

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

/**
 * 'minmax': scale = max|w| / maxLevel, plain rounding (the contrast baseline).
 * 'mse': per-group clipping search minimising (E[x^2]-weighted) squared weight error.
 * 'gptq': 'mse' scales plus GPTQ error feedback (needs the input Gram matrix from calibration).
 */
export type ScaleSearch = 'mse' | 'minmax' | 'gptq';

export interface QuantizeOptions {
  bits: number;
  group: number;
  scaleBits: number;
  mulBits: number;
  /** 'mse': search the scale minimising (weighted) squared error; 'minmax': scale = max|w| / maxLevel, round. */
  search: ScaleSearch;
  /** Per-input-column error weights (e.g. E[x^2] from calibration); uniform when absent. */
  colWeights?: Float64Array;
  /** Input Gram matrix E[x x^T] (cols x cols, row-major) for 'gptq'. */
  gram?: Float64Array;
  /**
   * '2:4': prune two of every four weights along each row before (and while) quantising. With 'gptq' the masks are
   * chosen SparseGPT-style (score w^2 / [H^-1]_jj on the error-updated weights, group by group) and the pruning error
   * is fed back like the rounding error; otherwise Wanda-style (score |w| * sqrt(E[x^2]), or |w| uncalibrated).
   * Scales are then fitted on the kept weights only (mask-aware quantisation).
   */
  sparsity?: Sparsity;
}

export type Sparsity = 'dense' | '2:4';
export const SPARSITIES: readonly Sparsity[] = ['dense', '2:4'];

export const maxLevel = (bits: number): number => 2 ** bits - 1;
export const levelOf = (code: number, bits: number): number => 2 * code - maxLevel(bits);

/** Code of the level nearest to t (t in units of the scale). */
function nearestCode(t: number, bits: number): number {
  const q = Math.round((t + maxLevel(bits)) / 2);
  const top = 2 ** bits - 1;
  return q < 0 ? 0 : q > top ? top : q;
}

/** Weighted squared error of the kept weights of group [c0,c1) of row `base` at real scale s (codes chosen nearest). */
function groupError(w: ArrayLike<number>, base: number, c0: number, c1: number, s: number, bits: number, h?: Float64Array, keep?: Uint8Array): number {
  let e = 0;
  for (let c = c0; c < c1; c++) {
    if (keep && !keep[base + c]) continue;
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
  const sparse = o.sparsity === '2:4';
  if (o.sparsity !== undefined && !SPARSITIES.includes(o.sparsity)) throw new ConfigError('sparsity', `must be one of ${SPARSITIES.join(', ')}`, o.sparsity);
  if (sparse && o.group % QUAD) throw new ConfigError('group', 'must be a multiple of 4 for 2:4 pruning (whole quads per group)', o.group);
  // Wanda-style mask for the non-GPTQ searches: |w| * sqrt(E[x_c^2]) (|w| without calibration).
  const keep = sparse ? new Uint8Array(rows * cols) : undefined;
  if (keep && o.search !== 'gptq') maskTopTwo(rows, cols, (r, c) => Math.abs(w[r * cols + c]!) * Math.sqrt(o.colWeights?.[c] ?? 1), keep);
  // Pass 1 (which sets the per-matrix step) sees the Wanda mask; GPTQ chooses its masks later, so it fits densely here.
  const fitMask = o.search === 'gptq' ? undefined : keep;
  const kept = (i: number) => !fitMask || fitMask[i] === 1;
  for (let r = 0; r < rows; r++)
    for (let g = 0; g < ng; g++) {
      const c0 = g * o.group;
      const c1 = Math.min(cols, c0 + o.group);
      let amax = 0;
      for (let c = c0; c < c1; c++) if (kept(r * cols + c)) amax = Math.max(amax, Math.abs(w[r * cols + c]!));
      if (amax === 0) continue;
      let best = amax / L;
      if (o.search !== 'minmax') {
        let bestErr = Infinity;
        for (let a = 0.15; a <= 1.0001; a += 0.005) {
          const s = (a * amax) / L;
          const e = groupError(w, r * cols, c0, c1, s, o.bits, o.colWeights, fitMask);
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
  const scales = new Uint32Array(rows * ng);
  const codes = new Uint8Array(rows * cols);
  if (o.search === 'gptq') {
    if (!o.gram) throw new ConfigError('search', "'gptq' needs calibration statistics (a Gram matrix)", o.search);
    gptq(w, rows, cols, o, sReal, step, o.gram, scales, codes, keep);
  } else
    // Pass 2: integer scale codes searched around the continuous optimum, then codes are the nearest levels.
    for (let r = 0; r < rows; r++)
      for (let g = 0; g < ng; g++) {
        const c0 = g * o.group;
        const c1 = Math.min(cols, c0 + o.group);
        const code = scaleCode(w, r * cols, c0, c1, sReal[r * ng + g]!, step, o, keep);
        scales[r * ng + g] = code;
        assignCodes(w, r * cols, c0, c1, code * step, o.bits, codes);
      }
  if (keep) for (let i = 0; i < keep.length; i++) if (!keep[i]) codes[i] = 0;
  return { rows, cols, group: o.group, bits: o.bits, codes, scales, mul, exp, ...(keep ? { keep } : {}) };
}

/** Real value of weight (r, c) (for evaluation and tests; not used in the integer datapath). Pruned weights are 0. */
export function dequant(m: QMatrix, r: number, c: number): number {
  if (m.keep && !m.keep[r * m.cols + c]) return 0;
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
      for (let c = g * group; c < end; c++) if (!m.keep || m.keep[rowBase + c]) d += (2 * codes[rowBase + c]! - L) * x[c]!;
      a += scales[r * ng + g]! * d;
    }
    out[r] = a;
  }
  return out;
}

/** Integer scale code for one group: round(s/step), refined by an error search over nearby codes for 'mse'/'gptq'. */
function scaleCode(w: ArrayLike<number>, base: number, c0: number, c1: number, s: number, step: number, o: QuantizeOptions, keep?: Uint8Array): number {
  const smax = 2 ** o.scaleBits - 1;
  if (!(s > 0)) return 0;
  let code = Math.max(1, Math.min(smax, Math.round(s / step)));
  if (o.search === 'minmax') return code;
  const h = o.colWeights;
  let bestErr = groupError(w, base, c0, c1, code * step, o.bits, h, keep);
  for (let cc = Math.max(1, code - 12); cc <= Math.min(smax, code + 12); cc++) {
    const e = groupError(w, base, c0, c1, cc * step, o.bits, h, keep);
    if (e < bestErr) [bestErr, code] = [e, cc];
  }
  return code;
}

function assignCodes(w: ArrayLike<number>, base: number, c0: number, c1: number, sq: number, bits: number, codes: Uint8Array): void {
  for (let c = c0; c < c1; c++) codes[base + c] = sq > 0 ? nearestCode(w[base + c]! / sq, bits) : 2 ** (bits - 1);
}

/**
 * GPTQ (Frantar et al.): quantise columns left to right; each column's rounding error, scaled by the inverse Hessian
 * (H = E[x x^T] + 1% mean-diagonal damping), is pushed onto the not-yet-quantised columns. A group's scale code is
 * chosen when its first column is reached, from the error-updated weights.
 * With a 2:4 `keep` buffer (SparseGPT, Frantar & Alistarh 2023, with the mask block = the scale group): at the same
 * point each quad of the group keeps the two weights with the largest w^2 / U_jj^2 (the error a pruned weight causes),
 * the scale is fitted on the kept weights, and a pruned weight's error (w - 0) is fed back like a rounding error.
 */
function gptq(
  w0: Float32Array, rows: number, cols: number, o: QuantizeOptions, sReal: Float64Array, step: number, gram: Float64Array,
  scales: Uint32Array, codes: Uint8Array, keep?: Uint8Array,
): void {
  const ng = groupsOf(cols, o.group);
  const H = Float64Array.from(gram);
  let meanDiag = 0;
  for (let i = 0; i < cols; i++) meanDiag += H[i * cols + i]! / cols;
  for (let i = 0; i < cols; i++) H[i * cols + i]! += 0.01 * meanDiag + 1e-12;
  const U = upperCholeskyOfInverse(H, cols);
  const w = Float64Array.from(w0);
  const L = maxLevel(o.bits);
  for (let g = 0; g < ng; g++) {
    const c0 = g * o.group;
    const c1 = Math.min(cols, c0 + o.group);
    for (let r = 0; r < rows; r++) {
      if (keep) for (let q = c0; q < c1; q += QUAD) maskQuad(r, cols, q, (rr, c) => w[rr * cols + c]! ** 2 / U[c * cols + c]! ** 2, keep);
      // Re-fit the group's scale on the updated (kept) weights (same clipping search as 'mse').
      let amax = 0;
      for (let c = c0; c < c1; c++) if (!keep || keep[r * cols + c]) amax = Math.max(amax, Math.abs(w[r * cols + c]!));
      let sBest = sReal[r * ng + g]!;
      if (amax > 0) {
        let bestErr = Infinity;
        for (let a = 0.15; a <= 1.0001; a += 0.005) {
          const sc = (a * amax) / L;
          const e = groupError(w, r * cols, c0, c1, sc, o.bits, o.colWeights, keep);
          if (e < bestErr) [bestErr, sBest] = [e, sc];
        }
      }
      scales[r * ng + g] = scaleCode(w, r * cols, c0, c1, amax > 0 ? sBest : 0, step, o, keep);
    }
    for (let j = c0; j < c1; j++) {
      const d = U[j * cols + j]!;
      for (let r = 0; r < rows; r++) {
        const sq = scales[r * ng + g]! * step;
        const x = w[r * cols + j]!;
        const pruned = keep !== undefined && !keep[r * cols + j];
        const q = pruned ? 0 : sq > 0 ? nearestCode(x / sq, o.bits) : 2 ** (o.bits - 1);
        codes[r * cols + j] = q;
        const err = (x - (pruned ? 0 : sq * levelOf(q, o.bits))) / d;
        for (let k = j + 1; k < cols; k++) w[r * cols + k]! -= err * U[j * cols + k]!;
      }
    }
  }
}

/** Upper-triangular U with U^T U = H^-1 (H symmetric positive definite, n x n row-major). */
function upperCholeskyOfInverse(H: Float64Array, n: number): Float64Array {
  // Cholesky H = L L^T, invert L, H^-1 = L^-T L^-1, then Cholesky of H^-1 (upper form via reversal).
  const Lm = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = H[i * n + j]!;
      for (let k = 0; k < j; k++) s -= Lm[i * n + k]! * Lm[j * n + k]!;
      Lm[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / Lm[j * n + j]!;
    }
  const Li = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    Li[i * n + i] = 1 / Lm[i * n + i]!;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= Lm[i * n + k]! * Li[k * n + j]!;
      Li[i * n + j] = s / Lm[i * n + i]!;
    }
  }
  const Hi = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = Math.max(i, j); k < n; k++) s += Li[k * n + i]! * Li[k * n + j]!;
      Hi[i * n + j] = s;
    }
  // Upper Cholesky: Hi = U^T U, computed row by row.
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let s = Hi[i * n + i]!;
    for (let k = 0; k < i; k++) s -= U[k * n + i]! ** 2;
    const d = Math.sqrt(Math.max(s, 1e-300));
    U[i * n + i] = d;
    for (let j = i + 1; j < n; j++) {
      let t = Hi[i * n + j]!;
      for (let k = 0; k < i; k++) t -= U[k * n + i]! * U[k * n + j]!;
      U[i * n + j] = t / d;
    }
  }
  return U;
}
