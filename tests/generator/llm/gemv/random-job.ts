import { gemvConfig, groupsOf, type GemvConfig, type GemvParams, type W2Matrix } from '../../../../generator/llm/gemv';
import { Rng } from '../../../../generator/util/rng';

/** A seeded random GEMV configuration that stays small enough to simulate quickly. */
export function randomConfig(rng: Rng): GemvConfig {
  const lanes = rng.pick([1, 2, 3, 4, 5, 8]);
  const simd = rng.pick([1, 2, 4, 8, 16]);
  const group = simd * rng.pick([1, 2, 3, 4]);
  const outShift = rng.pick([0, 0, 4, 9]);
  const p: Partial<GemvParams> = { lanes, simd, group, maxCols: rng.int(group, 160), maxRows: rng.int(lanes, 40), outShift, outBits: outShift ? 16 : 32 };
  return gemvConfig(p);
}

export function randomMatrix(rng: Rng, cfg: GemvConfig, rows: number, cols: number): W2Matrix {
  const ng = groupsOf(cols, cfg.group);
  const smax = 2 ** cfg.scaleBits - 1;
  return {
    rows,
    cols,
    group: cfg.group,
    codes: Uint8Array.from({ length: rows * cols }, () => rng.int(0, 3)),
    scales: Uint32Array.from({ length: rows * ng }, () => rng.int(0, smax)),
  };
}

export const randomX = (rng: Rng, cols: number): Int8Array => Int8Array.from({ length: cols }, () => rng.int(-128, 127));

/** The worst case for the accumulator: every code at -3 against x = -128 with the largest scale, at maxCols. */
export function extremeJob(cfg: GemvConfig): { m: W2Matrix; x: Int8Array } {
  const rows = cfg.lanes;
  const cols = cfg.maxCols;
  const ng = groupsOf(cols, cfg.group);
  return {
    m: { rows, cols, group: cfg.group, codes: new Uint8Array(rows * cols), scales: new Uint32Array(rows * ng).fill(2 ** cfg.scaleBits - 1) },
    x: new Int8Array(cols).fill(-128),
  };
}
