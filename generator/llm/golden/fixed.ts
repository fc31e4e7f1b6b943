/**
 * Integer primitives of the golden decoder. Values are JS numbers holding exact integers; every caller keeps
 * |value| < 2^53 (the engine config checks the worst cases), so each result equals the hardware's.
 */

/**
 * Arithmetic shift by s with rounding: s > 0 divides by 2^s rounding half up (floor((v + 2^(s-1)) / 2^s),
 * i.e. add half then arithmetic-shift right); s <= 0 multiplies by 2^-s exactly.
 */
export function shr(v: number, s: number): number {
  if (s <= 0) return v * 2 ** -s;
  return Math.floor((v + 2 ** (s - 1)) / 2 ** s);
}

/** Clamp to the signed range of `bits` bits. */
export function sat(v: number, bits: number): number {
  const hi = 2 ** (bits - 1) - 1;
  return v > hi ? hi : v < -hi - 1 ? -hi - 1 : v;
}

/** Clamp to the symmetric range [-lim, lim]. */
export function satSym(v: number, lim: number): number {
  return v > lim ? lim : v < -lim ? -lim : v;
}

/** Number of bits of a non-negative integer v < 2^53 (0 for 0): the position of the leading one plus one. */
export function bitLength(v: number): number {
  if (v < 4294967296) return 32 - Math.clz32(v);
  return 32 + bitLength(Math.floor(v / 4294967296));
}
