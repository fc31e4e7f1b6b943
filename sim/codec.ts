/** Word <-> little-endian 32-bit limb conversion, the payload encoding of the sim protocol. */

export type Word = bigint | number;

/**
 * Writes `v` as `nl` limbs at out[at..]. Accepts unsigned values < 2^width and, two's complement,
 * negative values >= -2^(width-1). Throws with `what` (e.g. "stream 'a' beat 3") naming the offender.
 */
export function encodeWord(v: Word, width: number, nl: number, out: Uint32Array, at: number, what: string): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`${what}: ${v} is not a safe integer (use bigint)`);
    if (width <= 32 && v >= 0 && v < 2 ** width) {
      out[at] = v;
      for (let i = 1; i < nl; i++) out[at + i] = 0;
      return;
    }
    v = BigInt(v);
  }
  if (typeof v !== 'bigint') throw new Error(`${what}: ${String(v)} is not a bigint or number`);
  const w = BigInt(width);
  if (v < 0n) {
    if (v < -(1n << (w - 1n))) throw new Error(`${what}: ${v} does not fit in ${width} bits (two's complement)`);
    v = BigInt.asUintN(width, v);
  } else if (v >> w !== 0n) {
    throw new Error(`${what}: ${v} does not fit in ${width} bits`);
  }
  if (nl === 1) {
    out[at] = Number(v);
  } else if (nl === 2) {
    out[at] = Number(v & 0xffffffffn);
    out[at + 1] = Number(v >> 32n);
  } else {
    // Measured faster than going through a hex string, even at 1024 bits.
    for (let i = 0; i < nl; i++) {
      out[at + i] = Number(BigInt.asUintN(32, v));
      v >>= 32n;
    }
  }
}

/** Reads `nl` little-endian limbs from a byte buffer at `off` as an unsigned (or signed) word. */
export function decodeWord(buf: Buffer, off: number, width: number, nl: number, signed: boolean): bigint {
  let v: bigint;
  if (nl === 1) v = BigInt(buf.readUInt32LE(off));
  else if (nl === 2) v = (BigInt(buf.readUInt32LE(off + 4)) << 32n) | BigInt(buf.readUInt32LE(off));
  else {
    v = BigInt(buf.readUInt32LE(off + 4 * (nl - 1)));
    for (let i = nl - 2; i >= 0; i--) v = (v << 32n) | BigInt(buf.readUInt32LE(off + 4 * i));
  }
  return signed ? BigInt.asIntN(width, v) : v;
}
