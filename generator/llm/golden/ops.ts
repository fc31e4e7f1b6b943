import type { EngineConfig } from '../model-spec';
import type { QNorm } from '../quant/model';
import type { QMatrix } from '../quant/weights';
import { bitLength, sat, satSym, shr } from './fixed';
import { recipLookup, rsqrtLookup, type EngineTables } from './tables';

/** A quantised vector: real value of element i = codes[i] * mant * 2^exp. */
export interface QScale {
  mant: number;
  exp: number;
}

/**
 * Dynamic symmetric quantisation of integers y[off..off+n) (with `frac` fraction bits) to `bits`-bit codes.
 * amax = max|y|; b = bitLength(amax); sh = b - mantBits; m = floor(amax / 2^sh) + 1 (if m = 2^mantBits then
 * m = 2^(mantBits-1), sh += 1), so m * 2^sh > amax and m has exactly mantBits bits.
 * code = sat(round(y * 2^(bits-1) / (m * 2^sh))) computed as shr(y * recip[m'], recipFrac - (recipBits - mantBits) + sh - (bits-1))
 * with m' = m << (recipBits - mantBits); scale: mant = m, exp = sh - (bits-1) - frac. amax = 0 gives codes 0, mant 0.
 */
export function quantizeDynamic(
  c: EngineConfig, t: EngineTables, y: ArrayLike<number>, off: number, n: number, frac: number,
  bits: number, mantBits: number, codes: Int8Array, codeOff: number,
): QScale {
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(y[off + i]!);
    if (v > amax) amax = v;
  }
  if (amax === 0) {
    codes.fill(0, codeOff, codeOff + n);
    return { mant: 0, exp: 0 };
  }
  let sh = bitLength(amax) - mantBits;
  let m = Math.floor(amax / 2 ** sh) + 1;
  if (m === 2 ** mantBits) {
    m = 2 ** (mantBits - 1);
    sh += 1;
  }
  const r = recipLookup(c, t, m * 2 ** (c.recipBits - mantBits));
  const s = c.recipFrac - (c.recipBits - mantBits) + sh - (bits - 1);
  const lim = 2 ** (bits - 1) - 1;
  for (let i = 0; i < n; i++) codes[codeOff + i] = satSym(shr(y[off + i]! * r, s), lim);
  return { mant: m, exp: sh - (bits - 1) - frac };
}

/**
 * RMSNorm of the residual x (resFrac) with the folded weight g*sqrt(dim): output has normOutFrac fraction bits.
 * ss = sum(shr(x, sqShift)^2) + epsSs; (T, e2) = rsqrt(ss); t = shr(x * T, sqShift + rsqrtFrac + e2/2 - normMidFrac);
 * y = shr(t * g.mant, normMidFrac + g.exp - normOutFrac).
 */
export function rmsnormFixed(c: EngineConfig, tb: EngineTables, x: Float64Array, g: QNorm, out: Float64Array): void {
  const n = x.length;
  let ss = c.epsSs;
  for (let i = 0; i < n; i++) {
    const v = shr(x[i]!, c.sqShift);
    ss += v * v;
  }
  const { mant, e2 } = rsqrtLookup(c, tb, ss);
  const s1 = c.sqShift + c.rsqrtFrac + e2 / 2 - c.normMidFrac;
  const s2 = c.normMidFrac + g.exp - c.normOutFrac;
  for (let i = 0; i < n; i++) out[i] = shr(shr(x[i]! * mant, s1) * g.mant[i]!, s2);
}

/** GEMV accumulator to linFrac fixed point: shr(acc * (mul * a.mant), exp - a.exp - outFrac), saturated to outBits. */
export function requantGemv(acc: Float64Array, w: QMatrix, a: QScale, outFrac: number, outBits: number, out: Float64Array): void {
  const k = w.mul * a.mant;
  const s = w.exp - a.exp - outFrac;
  for (let i = 0; i < acc.length; i++) out[i] = sat(shr(acc[i]! * k, s), outBits);
}

/** Real value of a fixed-point integer (evaluation and reporting only). */
export const toReal = (v: number, frac: number): number => v / 2 ** frac;
