import { ConfigError, InputError } from '../../util/errors';
import type { GemvConfig } from './config';
import { checkSparse24 } from './sparse';

/**
 * A 2-bit group-quantised matrix. Code q in {0,1,2,3} stands for the odd level 2q-3 in {-3,-1,+1,+3};
 * the real weight is scale[g] * (2q-3) * 2^-e for a tensor-wide exponent e applied downstream.
 */
export interface W2Matrix {
  rows: number;
  cols: number;
  group: number;
  /** rows * cols codes, row-major, each 0..3. */
  codes: Uint8Array;
  /** rows * ceil(cols/group) unsigned scale codes, row-major. */
  scales: Uint32Array;
  /**
   * 2:4 sparse matrices only: rows * cols flags, 1 = kept. A pruned weight is exactly 0 (it is not one of the four
   * levels; its code is ignored). Exactly two of every aligned quad of columns are kept (gemv/sparse.ts).
   */
  keep?: Uint8Array;
}

export const w2Level = (code: number): number => 2 * code - 3;
export const groupsOf = (cols: number, group: number): number => Math.ceil(cols / group);

export function checkW2Matrix(m: W2Matrix, scaleBits: number): void {
  if (m.codes.length !== m.rows * m.cols) throw new InputError(`W2 matrix: ${m.codes.length} codes for ${m.rows}x${m.cols}`);
  const ng = groupsOf(m.cols, m.group);
  if (m.scales.length !== m.rows * ng) throw new InputError(`W2 matrix: ${m.scales.length} scales, expected ${m.rows * ng}`);
  const smax = 2 ** scaleBits - 1;
  for (const s of m.scales) if (s > smax) throw new InputError(`W2 matrix: scale ${s} exceeds ${scaleBits} bits`);
  for (const q of m.codes) if (q > 3) throw new InputError(`W2 matrix: code ${q} is not 2-bit`);
}

/**
 * Exact integer GEMV: acc[r] = sum_g scale[r][g] * sum_{c in g, kept} (2q-3) * x[c] (every column is kept when the
 * matrix has no 2:4 mask).
 * This is the arithmetic the RTL performs; it is independent of lanes/simd.
 */
export function w2GemvAcc(m: W2Matrix, x: Int8Array | ArrayLike<number>): Float64Array {
  if (x.length !== m.cols) throw new InputError(`GEMV: x has ${x.length} entries, matrix has ${m.cols} columns`);
  const ng = groupsOf(m.cols, m.group);
  const acc = new Float64Array(m.rows);
  const keep = m.keep;
  for (let r = 0; r < m.rows; r++) {
    let a = 0;
    const rowBase = r * m.cols;
    for (let g = 0; g < ng; g++) {
      let d = 0;
      const end = Math.min(m.cols, (g + 1) * m.group);
      if (keep) {
        for (let c = g * m.group; c < end; c++) if (keep[rowBase + c]) d += (2 * m.codes[rowBase + c]! - 3) * x[c]!;
      } else for (let c = g * m.group; c < end; c++) d += (2 * m.codes[rowBase + c]! - 3) * x[c]!;
      a += m.scales[r * ng + g]! * d;
    }
    acc[r] = a;
  }
  return acc;
}

/**
 * The same integers for several activation vectors at once, in the prefill array's order: each weight (and scale) is
 * read once and applied to every token before the next (weights stationary), so acc[t] = w2GemvAcc(m, xs[t]).
 */
export function w2GemmAcc(m: W2Matrix, xs: ReadonlyArray<Int8Array | ArrayLike<number>>): Float64Array[] {
  for (const x of xs) if (x.length !== m.cols) throw new InputError(`GEMM: x has ${x.length} entries, matrix has ${m.cols} columns`);
  const ng = groupsOf(m.cols, m.group);
  const n = xs.length;
  const acc = xs.map(() => new Float64Array(m.rows));
  const d = new Float64Array(n);
  const keep = m.keep;
  for (let r = 0; r < m.rows; r++) {
    const rowBase = r * m.cols;
    for (let g = 0; g < ng; g++) {
      d.fill(0);
      const end = Math.min(m.cols, (g + 1) * m.group);
      for (let c = g * m.group; c < end; c++) {
        if (keep && !keep[rowBase + c]) continue;
        const w = 2 * m.codes[rowBase + c]! - 3;
        for (let t = 0; t < n; t++) d[t]! += w * xs[t]![c]!;
      }
      const s = m.scales[r * ng + g]!;
      for (let t = 0; t < n; t++) acc[t]![r]! += s * d[t]!;
    }
  }
  return acc;
}

/** Output format: round half up by 2^outShift, then saturate to a signed outBits integer. */
export function gemvOutput(cfg: Pick<GemvConfig, 'outShift' | 'outBits'>, acc: number): number {
  const shifted = cfg.outShift === 0 ? acc : Math.floor((acc + 2 ** (cfg.outShift - 1)) / 2 ** cfg.outShift);
  const hi = 2 ** (cfg.outBits - 1) - 1;
  const lo = -(2 ** (cfg.outBits - 1));
  return Math.min(hi, Math.max(lo, shifted));
}

/** Golden model of the GEMV unit for one job: the outputs the RTL must emit for rows 0..rows-1. */
export function gemvGolden(cfg: GemvConfig, m: W2Matrix, x: Int8Array | ArrayLike<number>): number[] {
  checkJob(cfg, m);
  checkW2Matrix(m, cfg.scaleBits);
  if (cfg.sparse) checkSparse24(m);
  return Array.from(w2GemvAcc(m, x), (a) => gemvOutput(cfg, a));
}

export function checkJob(cfg: GemvConfig, m: Pick<W2Matrix, 'rows' | 'cols' | 'group' | 'keep'>): void {
  if (cfg.sparse && !m.keep) throw new InputError('a dense matrix cannot run on a 2:4 sparse GEMV unit (quantise it with --sparsity 2:4)');
  if (!cfg.sparse && m.keep) throw new InputError('a 2:4 sparse matrix cannot run on a dense GEMV unit (build the unit with sparse: true)');
  if (m.group !== cfg.group) throw new ConfigError('group', `matrix was quantised with group ${m.group}, unit has ${cfg.group}`, m.group);
  if (m.cols < 1 || m.cols > cfg.maxCols) throw new ConfigError('cols', `must be in [1, maxCols=${cfg.maxCols}]`, m.cols);
  if (m.rows < 1 || m.rows > cfg.maxRows) throw new ConfigError('rows', `must be in [1, maxRows=${cfg.maxRows}]`, m.rows);
}
