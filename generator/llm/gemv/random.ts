import type { Rng } from '../../util/rng';
import type { GemvConfig } from './config';
import { groupsOf, type W2Matrix } from './golden';
import { maskTopTwo } from './sparse';

/** Seeded random W2 matrix: codes uniform in 0..3, scales uniform over the full scale range (0 included). */
export function randomW2Matrix(rng: Rng, cfg: GemvConfig, rows: number, cols: number): W2Matrix {
  const ng = groupsOf(cols, cfg.group);
  const codes = new Uint8Array(rows * cols);
  for (let i = 0; i < codes.length; i++) codes[i] = rng.int(0, 3);
  const scales = new Uint32Array(rows * ng);
  for (let i = 0; i < scales.length; i++) scales[i] = rng.int(0, 2 ** cfg.scaleBits - 1);
  return { rows, cols, group: cfg.group, codes, scales };
}

export const randomInt8 = (rng: Rng, n: number): Int8Array => Int8Array.from({ length: n }, () => rng.int(-128, 127));

/** The accumulator's worst case: every code at -3 against x = -128 with the largest scales, at maxCols. */
export function extremeJob(cfg: GemvConfig, rows = cfg.lanes): { m: W2Matrix; x: Int8Array } {
  const cols = cfg.maxCols;
  const ng = groupsOf(cols, cfg.group);
  return {
    m: { rows, cols, group: cfg.group, codes: new Uint8Array(rows * cols), scales: new Uint32Array(rows * ng).fill(2 ** cfg.scaleBits - 1) },
    x: new Int8Array(cols).fill(-128),
  };
}

/** Seeded random 2:4 W2 matrix: a random pattern per quad (partial quads keep up to two), codes and scales as above. */
export function randomSparse24Matrix(rng: Rng, cfg: GemvConfig, rows: number, cols: number): W2Matrix {
  const m = randomW2Matrix(rng, cfg, rows, cols);
  const scores = Float64Array.from({ length: rows * cols }, () => rng.int(0, 1 << 20));
  return { ...m, keep: maskTopTwo(rows, cols, (r, c) => scores[r * cols + c]!) };
}
