import type { GemvConfig } from './config';
import { checkJob, groupsOf, type W2Matrix } from './golden';
import { checkSparse24, QUAD, QUAD_FIELD_BITS, quadField } from './sparse';

/**
 * Packing of one GEMV job into the unit's stream words (see docs/formats.md):
 *  - job:    one word, nGroups | nRowBlocks << groupCountBits
 *  - x:      one word per column step; int8 x[step*simd + j] at bits [8j+7:8j]; padding columns are 0
 *  - weight: one word per (row block, column step), row blocks outermost;
 *            code of A[rb*lanes+l][step*simd+j] at bits [2(l*simd+j)+1 : 2(l*simd+j)]; padding codes are 0
 *            2:4 units: quad k of lane l (columns step*simd+4k..+3) as a 7-bit field (sparse.ts) at bit 7(l*simd/4+k)
 *  - scale:  one word per (row block, group); lane l's scale at bits [sb*l+sb-1 : sb*l]; padding rows have scale 0
 *  - y:      one word per row block; lane l's signed output at bits [ob*l+ob-1 : ob*l]
 */
export interface GemvJobWords {
  job: bigint[];
  x: bigint[];
  weights: bigint[];
  scales: bigint[];
  /** Number of y words the unit will emit. */
  yWords: number;
}

export function jobShape(cfg: GemvConfig, rows: number, cols: number) {
  const nGroups = groupsOf(cols, cfg.group);
  const nRowBlocks = Math.ceil(rows / cfg.lanes);
  return { nGroups, nRowBlocks, colSteps: nGroups * cfg.stepsPerGroup };
}

/** Assemble fields of `bits` each (LSB first) into one word. */
function packFields(values: ArrayLike<number>, bits: number): bigint {
  let w = 0n;
  const mask = (1n << BigInt(bits)) - 1n;
  for (let i = values.length - 1; i >= 0; i--) w = (w << BigInt(bits)) | (BigInt(values[i]!) & mask);
  return w;
}

export function packX(cfg: GemvConfig, x: ArrayLike<number>, cols: number): bigint[] {
  const { colSteps } = jobShape(cfg, 1, cols);
  const words: bigint[] = [];
  const lane = new Array<number>(cfg.simd);
  for (let s = 0; s < colSteps; s++) {
    for (let j = 0; j < cfg.simd; j++) {
      const c = s * cfg.simd + j;
      lane[j] = c < cols ? x[c]! : 0;
    }
    words.push(packFields(lane, 8));
  }
  return words;
}

export function packJob(cfg: GemvConfig, m: W2Matrix, x: ArrayLike<number>): GemvJobWords {
  checkJob(cfg, m);
  const { nGroups, nRowBlocks, colSteps } = jobShape(cfg, m.rows, m.cols);
  const ng = groupsOf(m.cols, m.group);
  const weights: bigint[] = [];
  const scales: bigint[] = [];
  if (cfg.sparse) checkSparse24(m);
  const codes = new Array<number>(cfg.lanes * cfg.simd);
  const quads: number[] = [];
  const sc = new Array<number>(cfg.lanes);
  for (let rb = 0; rb < nRowBlocks; rb++) {
    for (let s = 0; s < colSteps; s++) {
      if (cfg.sparse) {
        weights.push(packFields(sparseStep(cfg, m, rb, s, quads), QUAD_FIELD_BITS));
      } else {
        for (let l = 0; l < cfg.lanes; l++) {
          const r = rb * cfg.lanes + l;
          for (let j = 0; j < cfg.simd; j++) {
            const c = s * cfg.simd + j;
            codes[l * cfg.simd + j] = r < m.rows && c < m.cols ? m.codes[r * m.cols + c]! : 0;
          }
        }
        weights.push(packFields(codes, 2));
      }
      if ((s + 1) % cfg.stepsPerGroup === 0) {
        const g = (s + 1) / cfg.stepsPerGroup - 1;
        for (let l = 0; l < cfg.lanes; l++) {
          const r = rb * cfg.lanes + l;
          sc[l] = r < m.rows ? m.scales[r * ng + g]! : 0;
        }
        scales.push(packFields(sc, cfg.scaleBits));
      }
    }
  }
  const job = [BigInt(nGroups) | (BigInt(nRowBlocks) << BigInt(cfg.groupCountBits))];
  return { job, x: packX(cfg, x, m.cols), weights, scales, yWords: nRowBlocks };
}

/**
 * The quad fields of one 2:4 weight word (row block rb, column step s), lane-major; padding rows and quads beyond
 * the matrix keep positions 0 and 1 with code 0 (x and scale are 0 there). `plane` selects a 2-bit digit of wider codes.
 */
export function sparseStep(cfg: GemvConfig, m: W2Matrix, rb: number, s: number, out: number[] = [], plane = 0): number[] {
  const q = cfg.simd / QUAD;
  for (let l = 0; l < cfg.lanes; l++) {
    const r = rb * cfg.lanes + l;
    for (let k = 0; k < q; k++) {
      const c0 = s * cfg.simd + k * QUAD;
      out[l * q + k] = r < m.rows && c0 < m.cols ? quadField(m, r, c0, plane) : 0;
    }
  }
  return out;
}

/** Split y words into per-row signed outputs, dropping padding rows. */
export function unpackY(cfg: GemvConfig, words: readonly bigint[], rows: number): number[] {
  const out: number[] = [];
  const ob = BigInt(cfg.outBits);
  const mask = (1n << ob) - 1n;
  const sign = 1n << (ob - 1n);
  for (const w of words) {
    for (let l = 0; l < cfg.lanes && out.length < rows; l++) {
      let v = (w >> (ob * BigInt(l))) & mask;
      if (v & sign) v -= 1n << ob;
      out.push(Number(v));
    }
  }
  return out;
}
