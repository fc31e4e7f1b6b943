import { InputError } from '../../util/errors';

/** The parts of a W2 matrix (gemv/golden.ts) the sparse format reads. */
interface MaskedCodes {
  rows: number;
  cols: number;
  codes: Uint8Array;
  keep?: Uint8Array;
}

/**
 * The packed 2:4 sparse W2 format (docs/formats.md#gemv-24-sparse). Along a row, every aligned quad of four columns
 * keeps (at most) two weights. A quad is stored as one 7-bit field: the two kept 2-bit codes (lower position first)
 * and a 3-bit pattern naming which two of the four positions they are (C(4,2) = 6 patterns):
 *   bits [1:0] code at the first kept position, [3:2] code at the second, [6:4] pattern index into SPARSE_PATTERNS.
 * So a quad costs 7 bits instead of 8: 1.75 bits per weight plus the group scales (dense W2: 2 bits + scales).
 */
export const SPARSE_PATTERNS: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [0, 2],
  [0, 3],
  [1, 2],
  [1, 3],
  [2, 3],
];
export const QUAD = 4;
export const QUAD_FIELD_BITS = 7;

export function patternIndex(p0: number, p1: number): number {
  const i = SPARSE_PATTERNS.findIndex(([a, b]) => a === p0 && b === p1);
  if (i < 0) throw new InputError(`2:4 pattern (${p0}, ${p1}) is not an ordered pair of positions 0..3`);
  return i;
}

/** Storage cost per weight in bits (codes, positions and the group scale), dense or 2:4. */
export function bitsPerWeight(sparse: boolean, group: number, scaleBits: number): number {
  return (sparse ? QUAD_FIELD_BITS / QUAD : 2) + scaleBits / group;
}

/**
 * The quad field of columns [c0, c0+4) of row r: kept real columns first, then padding positions (beyond `cols`,
 * where x is 0) to make up two. Throws when the matrix keeps more than two of a quad.
 */
export function quadField(m: MaskedCodes, r: number, c0: number, plane = 0): number {
  const pos: number[] = [];
  for (let k = 0; k < QUAD; k++) {
    const c = c0 + k;
    if (c < m.cols && m.keep![r * m.cols + c]) pos.push(k);
  }
  if (pos.length > 2) throw new InputError(`2:4 matrix keeps ${pos.length} weights in row ${r}, columns ${c0}..${c0 + 3}`);
  for (let k = QUAD - 1; pos.length < 2 && k >= 0; k--) if (c0 + k >= m.cols && !pos.includes(k)) pos.push(k);
  if (pos.length < 2) throw new InputError(`2:4 matrix keeps ${pos.length} of row ${r}, columns ${c0}..${c0 + 3}: every full quad keeps two`);
  pos.sort((a, b) => a - b);
  const code = (k: number) => (c0 + k < m.cols ? (m.codes[r * m.cols + c0 + k]! >>> (2 * plane)) & 3 : 0);
  return code(pos[0]!) | (code(pos[1]!) << 2) | (patternIndex(pos[0]!, pos[1]!) << 4);
}

/** A mask keeping exactly two of every quad (the packer's precondition), checked against the matrix shape. */
export function checkSparse24(m: MaskedCodes): void {
  if (!m.keep) throw new InputError('matrix has no 2:4 mask (it was quantised dense)');
  if (m.keep.length !== m.rows * m.cols) throw new InputError(`2:4 mask has ${m.keep.length} entries for ${m.rows}x${m.cols}`);
  for (let r = 0; r < m.rows; r++)
    for (let c0 = 0; c0 < m.cols; c0 += QUAD) {
      let kept = 0;
      const real = Math.min(QUAD, m.cols - c0);
      for (let k = 0; k < real; k++) kept += m.keep[r * m.cols + c0 + k] ? 1 : 0;
      if (kept > 2 || (real === QUAD && kept !== 2))
        throw new InputError(`2:4 mask keeps ${kept} of row ${r}, columns ${c0}..${c0 + real - 1}: must keep exactly 2 of every 4`);
    }
}

/** Keep the two largest of every quad by `score(r, c)` (ties: the lower column); partial quads keep up to two. */
export function maskTopTwo(rows: number, cols: number, score: (r: number, c: number) => number, out = new Uint8Array(rows * cols)): Uint8Array {
  for (let r = 0; r < rows; r++) for (let c0 = 0; c0 < cols; c0 += QUAD) maskQuad(r, cols, c0, score, out);
  return out;
}

/** maskTopTwo for one quad of one row (the SparseGPT pass chooses masks group by group from updated weights). */
export function maskQuad(r: number, cols: number, c0: number, score: (r: number, c: number) => number, out: Uint8Array): void {
  const cs: number[] = [];
  for (let c = c0; c < Math.min(cols, c0 + QUAD); c++) cs.push(c);
  cs.sort((a, b) => score(r, b) - score(r, a) || a - b);
  cs.forEach((c, i) => (out[r * cols + c] = i < 2 ? 1 : 0));
}
