/**
 * Computational invariance (QuaRot / SpinQuant-style incoherence) applied offline to a float checkpoint, before any
 * quantisation: the RMSNorm gains are folded into the linear layers that read the normalised vector, then the
 * residual stream is rotated by a fixed orthogonal R (x' = R x). RMSNorm with gain 1 commutes with R (the mean
 * square is rotation-invariant), so the rotated model computes the same logits in exact arithmetic:
 *   embedding E' = E Rᵀ, readers W' = W diag(g) Rᵀ (wq wk wv w1 w3; classifier with the final gain),
 *   writers W' = R W (wo, w2), every gain 1.
 * Optionally each KV head's value space is rotated too (v' = R_h v: wv rows R_h·, wo columns ·R_hᵀ), which is exact
 * because attention mixes value vectors linearly. The final gain cannot be folded into a matrix shared with the
 * embedding, so the result always has its own classifier (the engine streams embedding rows from the host and runs
 * the classifier as a GEMV; both already take separate tables). Rotated weights spread each matrix's outliers
 * over all input channels, which makes low-bit group quantisation far less lossy.
 */
import type { LlamaCheckpoint, LlamaWeights } from './checkpoint';
import { ConfigError } from '../util/errors';
import { Rng } from '../util/rng';

export type RotationKind = 'hadamard' | 'random';

export interface Rotation {
  /** 'hadamard': H·diag(±1)/√n (n a power of 2); 'random': Gram-Schmidt of a Gaussian matrix. */
  kind: RotationKind;
  seed: number;
  /** Also rotate each KV head's value space (wv rows, wo columns) by its own matrix. */
  values: boolean;
}

/** The rotation `llm qat` starts from by default (and `llm eval --rows qat` shows GPTQ on). */
export const DEFAULT_ROTATION: Rotation = { kind: 'hadamard', seed: 1, values: true };

export const ROTATION_KINDS: readonly RotationKind[] = ['hadamard', 'random'];

/** A seeded n×n orthogonal matrix, row-major float64. */
export function orthogonalMatrix(n: number, kind: RotationKind, seed: number): Float64Array {
  const rng = new Rng(seed);
  const r = new Float64Array(n * n);
  if (kind === 'hadamard') {
    if (n & (n - 1)) throw new ConfigError('rotate', `a Hadamard rotation needs a power-of-2 size, got ${n} (use 'random')`, n);
    const sign = Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1));
    const norm = 1 / Math.sqrt(n);
    // Sylvester: H[i][j] = (-1)^popcount(i & j); columns scaled by random signs.
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) r[i * n + j] = (popcount(i & j) & 1 ? -norm : norm) * sign[j]!;
    return r;
  }
  for (let i = 0; i < n; i++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    // Modified Gram-Schmidt twice against the earlier rows keeps the result orthogonal to float64 rounding.
    for (let pass = 0; pass < 2; pass++)
      for (let k = 0; k < i; k++) {
        let d = 0;
        for (let j = 0; j < n; j++) d += v[j]! * r[k * n + j]!;
        for (let j = 0; j < n; j++) v[j]! -= d * r[k * n + j]!;
      }
    const len = Math.hypot(...v);
    for (let j = 0; j < n; j++) r[i * n + j] = v[j]! / len;
  }
  return r;
}

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

/** W' = W diag(g) Rᵀ for a row-major [rows][n] block: row i becomes R (g ⊙ w_i). */
function readSide(w: Float32Array, rows: number, n: number, g: Float32Array | undefined, r: Float64Array): Float32Array {
  const out = new Float32Array(rows * n);
  const t = new Float64Array(n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) t[j] = w[i * n + j]! * (g ? g[j]! : 1);
    for (let a = 0; a < n; a++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += r[a * n + j]! * t[j]!;
      out[i * n + a] = s;
    }
  }
  return out;
}

/** W' = R W for a row-major [n][cols] block (rows rotated), R of size n. */
function writeSide(w: Float32Array, n: number, cols: number, r: Float64Array): Float32Array {
  const out = new Float32Array(n * cols);
  for (let a = 0; a < n; a++)
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += r[a * n + j]! * w[j * cols + c]!;
      out[a * cols + c] = s;
    }
  return out;
}

/** Apply f to each layer's slice of a per-layer tensor. */
function perLayer(t: Float32Array, L: number, f: (slice: Float32Array, l: number) => Float32Array): Float32Array {
  const n = t.length / L;
  const out = new Float32Array(t.length);
  for (let l = 0; l < L; l++) out.set(f(t.subarray(l * n, (l + 1) * n), l), l * n);
  return out;
}

/** Block-diagonal per-KV-head rotation of the value space: wv rows (R_h ·) and wo columns (· R_hᵀ). */
function rotateValues(wv: Float32Array, wo: Float32Array, ck: LlamaCheckpoint, rot: Rotation, l: number): [Float32Array, Float32Array] {
  const { dim, headDim: hd, nHeads, nKvHeads } = ck.dims;
  const kvMul = nHeads / nKvHeads;
  const v = new Float32Array(wv);
  const o = new Float32Array(wo);
  for (let kh = 0; kh < nKvHeads; kh++) {
    const r = orthogonalMatrix(hd, rot.kind, rot.seed * 7919 + 1 + l * nKvHeads + kh);
    v.set(writeSide(wv.subarray(kh * hd * dim, (kh + 1) * hd * dim), hd, dim, r), kh * hd * dim);
    // wo reads heads h = kh·kvMul + j, each its own block of hd columns.
    for (let j = 0; j < kvMul; j++) {
      const c0 = (kh * kvMul + j) * hd;
      const blk = new Float32Array(dim * hd);
      for (let i = 0; i < dim; i++) for (let c = 0; c < hd; c++) blk[i * hd + c] = wo[i * dim + c0 + c]!;
      const rb = readSide(blk, dim, hd, undefined, r);
      for (let i = 0; i < dim; i++) for (let c = 0; c < hd; c++) o[i * dim + c0 + c] = rb[i * hd + c]!;
    }
  }
  return [v, o];
}

/** The rotated, gain-folded checkpoint (same logits as ckpt up to float rounding; untied classifier). */
export function rotateCheckpoint(ck: LlamaCheckpoint, rot: Rotation): LlamaCheckpoint {
  const { dim, hiddenDim: hid, kvDim, nLayers: L, vocabSize: V } = ck.dims;
  const w = ck.weights;
  const r = orthogonalMatrix(dim, rot.kind, rot.seed);
  const gain = (t: Float32Array, l: number) => t.subarray(l * dim, (l + 1) * dim);
  const reader = (t: Float32Array, rows: number, norm: Float32Array) => perLayer(t, L, (s, l) => readSide(s, rows, dim, gain(norm, l), r));
  let wv = reader(w.wv, kvDim, w.rmsAtt);
  let wo = perLayer(w.wo, L, (s) => writeSide(s, dim, dim, r));
  if (rot.values) {
    const v2 = new Float32Array(wv.length);
    const o2 = new Float32Array(wo.length);
    for (let l = 0; l < L; l++) {
      const [a, b] = rotateValues(wv.subarray(l * kvDim * dim, (l + 1) * kvDim * dim), wo.subarray(l * dim * dim, (l + 1) * dim * dim), ck, rot, l);
      v2.set(a, l * kvDim * dim);
      o2.set(b, l * dim * dim);
    }
    [wv, wo] = [v2, o2];
  }
  const weights: LlamaWeights = {
    tokenEmbedding: readSide(w.tokenEmbedding, V, dim, undefined, r),
    rmsAtt: new Float32Array(L * dim).fill(1),
    wq: reader(w.wq, dim, w.rmsAtt),
    wk: reader(w.wk, kvDim, w.rmsAtt),
    wv,
    wo,
    rmsFfn: new Float32Array(L * dim).fill(1),
    w1: reader(w.w1, hid, w.rmsFfn),
    w2: perLayer(w.w2, L, (s) => writeSide(s, dim, hid, r)),
    w3: reader(w.w3, hid, w.rmsFfn),
    rmsFinal: new Float32Array(dim).fill(1),
    wcls: readSide(w.wcls, V, dim, w.rmsFinal, r),
  };
  return { ...ck, weights, sharedClassifier: false, source: `${ck.source} (${rotationLabel(rot)})` };
}

export function rotationLabel(rot: Rotation): string {
  return `rotated ${rot.kind}${rot.values ? '+values' : ''} seed ${rot.seed}`;
}

/** Rotate residual-stream vectors (rows of a [n][dim] array) into the rotated model's basis: x' = R x. */
export function residualRotator(dim: number, rot: Rotation): (x: Float32Array) => Float32Array {
  const r = orthogonalMatrix(dim, rot.kind, rot.seed);
  return (x) => readSide(x, x.length / dim, dim, undefined, r);
}
