import { extremeJob, gemvConfig, randomInt8, randomW2Matrix, type GemvConfig, type GemvParams } from '../../../../generator/llm/gemv';
import type { Rng } from '../../../../generator/util/rng';

/** A seeded random GEMV configuration that stays small enough to simulate quickly. */
export function randomConfig(rng: Rng): GemvConfig {
  const lanes = rng.pick([1, 2, 3, 4, 5, 8]);
  const simd = rng.pick([1, 2, 4, 8, 16]);
  const group = simd * rng.pick([1, 2, 3, 4]);
  const outShift = rng.pick([0, 0, 4, 9]);
  const p: Partial<GemvParams> = { lanes, simd, group, maxCols: rng.int(group, 160), maxRows: rng.int(lanes, 40), outShift, outBits: outShift ? 16 : 32 };
  return gemvConfig(p);
}

export { extremeJob, randomW2Matrix as randomMatrix, randomInt8 as randomX };
