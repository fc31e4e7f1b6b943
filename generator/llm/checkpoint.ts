import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors';

/** Model hyper-parameters as stored in a llama2.c checkpoint header. */
export interface LlamaDims {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** dim / nHeads */
  headDim: number;
  /** nKvHeads * headDim */
  kvDim: number;
  /** RoPE frequency base; absent = llama2.c's 10000 (GGUF files may set another). */
  ropeTheta?: number;
  /** RMSNorm epsilon; absent = llama2.c's 1e-5. */
  rmsEps?: number;
}

/**
 * Float32 weights, every matrix row-major [out][in]; per-layer tensors concatenated over layers
 * exactly as llama2.c stores them (layer l of wq starts at l*dim*dim).
 */
export interface LlamaWeights {
  tokenEmbedding: Float32Array; // [vocab][dim]
  rmsAtt: Float32Array; // [layer][dim]
  wq: Float32Array; // [layer][dim][dim]
  wk: Float32Array; // [layer][kvDim][dim]
  wv: Float32Array; // [layer][kvDim][dim]
  wo: Float32Array; // [layer][dim][dim]
  rmsFfn: Float32Array; // [layer][dim]
  w1: Float32Array; // [layer][hidden][dim]
  w2: Float32Array; // [layer][dim][hidden]
  w3: Float32Array; // [layer][hidden][dim]
  rmsFinal: Float32Array; // [dim]
  /** Classifier [vocab][dim]; the same array as tokenEmbedding when tied. */
  wcls: Float32Array;
}

export interface LlamaCheckpoint {
  dims: LlamaDims;
  weights: LlamaWeights;
  /** 0 = legacy .bin, 1 = ak42 fp32, 2 = ak42 Q8_0 (dequantised on load), 'gguf' = GGUF (formats/gguf-llama.ts). */
  version: 0 | 1 | 2 | 'gguf';
  sharedClassifier: boolean;
  source: string;
}

const MAGIC_AK42 = 0x616b3432;
const LEGACY_HEADER = 28;
const AK42_HEADER = 256;
const MAX_DIM = 1 << 16;
const MAX_VOCAB = 1 << 20;

export function loadCheckpoint(path: string): LlamaCheckpoint {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(`checkpoint ${path}: cannot read (${(e as Error).message})`);
  }
  return parseCheckpoint(buf, path);
}

/** Parse and validate a llama2.c checkpoint (legacy .bin, or ak42 version 1/2). */
export function parseCheckpoint(buf: Uint8Array, source = '<buffer>'): LlamaCheckpoint {
  const fail = (msg: string): never => {
    throw new InputError(`checkpoint ${source}: ${msg}`);
  };
  if (buf.length < LEGACY_HEADER) fail(`file is ${buf.length} bytes, shorter than the 28-byte header`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) === MAGIC_AK42) return parseAk42(buf, dv, source, fail);

  const h = Array.from({ length: 7 }, (_, i) => dv.getInt32(4 * i, true));
  const shared = h[5]! > 0;
  const dims = makeDims(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, Math.abs(h[5]!), h[6]!, fail);
  const sizes = tensorSizes(dims);
  const ropeFloats = dims.seqLen * dims.headDim; // freq_cis_real + freq_cis_imag, unused (RoPE is computed)
  const total = sizes.reduce((a, b) => a + b, 0) + ropeFloats + (shared ? 0 : dims.vocabSize * dims.dim);
  const expected = LEGACY_HEADER + 4 * total;
  if (buf.length !== expected)
    fail(
      `file is ${buf.length} bytes but the header (dim=${dims.dim}, hidden_dim=${dims.hiddenDim}, n_layers=${dims.nLayers}, ` +
        `n_heads=${dims.nHeads}, n_kv_heads=${dims.nKvHeads}, vocab_size=${h[5]}, seq_len=${dims.seqLen}) implies ${expected} bytes` +
        (buf.length < expected ? ' (truncated?)' : ' (trailing data or wrong header)'),
    );
  const all = readF32(buf, LEGACY_HEADER, total);
  let off = 0;
  const take = (n: number): Float32Array => all.subarray(off, (off += n));
  const [emb, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal] = sizes.map(take) as Float32Array[];
  take(ropeFloats);
  const wcls = shared ? emb! : take(dims.vocabSize * dims.dim);
  const weights: LlamaWeights = {
    tokenEmbedding: emb!, rmsAtt: rmsAtt!, wq: wq!, wk: wk!, wv: wv!, wo: wo!, rmsFfn: rmsFfn!,
    w1: w1!, w2: w2!, w3: w3!, rmsFinal: rmsFinal!, wcls,
  };
  checkFinite(weights, fail);
  return { dims, weights, version: 0, sharedClassifier: shared, source };
}

function parseAk42(buf: Uint8Array, dv: DataView, source: string, fail: (m: string) => never): LlamaCheckpoint {
  if (buf.length < AK42_HEADER) fail(`ak42 file is ${buf.length} bytes, shorter than its 256-byte header`);
  const version = dv.getInt32(4, true);
  if (version !== 1 && version !== 2) fail(`ak42 version ${version} is not supported (only 1 = fp32 and 2 = Q8_0)`);
  const h = Array.from({ length: 7 }, (_, i) => dv.getInt32(8 + 4 * i, true));
  const shared = buf[36] === 1;
  if (buf[36]! > 1) fail(`ak42 shared_classifier flag is ${buf[36]}, expected 0 or 1`);
  const dims = makeDims(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, fail);
  const { dim, nLayers: L, kvDim, hiddenDim: hid, vocabSize: V } = dims;
  // ak42 order: norms first, then embedding and the matrices.
  const normSizes = [L * dim, L * dim, dim];
  const matSizes = [V * dim, L * dim * dim, L * kvDim * dim, L * kvDim * dim, L * dim * dim, L * hid * dim, L * dim * hid, L * hid * dim];
  if (!shared) matSizes.push(V * dim);
  const normTotal = normSizes.reduce((a, b) => a + b, 0);
  let mats: Float32Array[];
  if (version === 1) {
    const total = normTotal + matSizes.reduce((a, b) => a + b, 0);
    const expected = AK42_HEADER + 4 * total;
    if (buf.length !== expected) fail(`ak42 v1 file is ${buf.length} bytes but its header implies ${expected}`);
    const all = readF32(buf, AK42_HEADER + 4 * normTotal, total - normTotal);
    let off = 0;
    mats = matSizes.map((n) => all.subarray(off, (off += n)));
  } else {
    const gs = dv.getInt32(37, true);
    if (gs <= 0) fail(`ak42 v2 group size ${gs} must be positive`);
    // Each exported tensor is quantised on its own, layer by layer, so per-layer sizes must divide by gs.
    const perTensor = (i: number): number[] => {
      const n = matSizes[i]!;
      return i === 0 || i === 8 ? [n] : Array.from({ length: L }, () => n / L);
    };
    let expected = AK42_HEADER + 4 * normTotal;
    for (let i = 0; i < matSizes.length; i++)
      for (const n of perTensor(i)) {
        if (n % gs !== 0) fail(`ak42 v2 tensor of ${n} values is not a multiple of group size ${gs}`);
        expected += n + 4 * (n / gs);
      }
    if (buf.length !== expected) fail(`ak42 v2 file is ${buf.length} bytes but its header implies ${expected}`);
    let pos = AK42_HEADER + 4 * normTotal;
    mats = matSizes.map((_, i) => {
      const out = new Float32Array(matSizes[i]!);
      let o = 0;
      for (const n of perTensor(i)) {
        const q = new Int8Array(buf.buffer, buf.byteOffset + pos, n);
        const s = readF32(buf, pos + n, n / gs);
        for (let j = 0; j < n; j++) out[o + j] = q[j]! * s[Math.floor(j / gs)]!;
        pos += n + 4 * (n / gs);
        o += n;
      }
      return out;
    });
  }
  const norms = readF32(buf, AK42_HEADER, normTotal);
  const weights: LlamaWeights = {
    rmsAtt: norms.subarray(0, L * dim),
    rmsFfn: norms.subarray(L * dim, 2 * L * dim),
    rmsFinal: norms.subarray(2 * L * dim),
    tokenEmbedding: mats[0]!, wq: mats[1]!, wk: mats[2]!, wv: mats[3]!, wo: mats[4]!, w1: mats[5]!, w2: mats[6]!, w3: mats[7]!,
    wcls: shared ? mats[0]! : mats[8]!,
  };
  checkFinite(weights, fail);
  return { dims, weights, version: version as 1 | 2, sharedClassifier: shared, source };
}

function makeDims(
  dim: number, hiddenDim: number, nLayers: number, nHeads: number, nKvHeads: number, vocabSize: number, seqLen: number,
  fail: (m: string) => never,
): LlamaDims {
  const pos = (name: string, v: number, max: number) => {
    if (!(v >= 1 && v <= max)) fail(`header field ${name}=${v} is out of range [1, ${max}] (not a llama2.c checkpoint?)`);
  };
  pos('dim', dim, MAX_DIM);
  pos('hidden_dim', hiddenDim, 4 * MAX_DIM);
  pos('n_layers', nLayers, 1024);
  pos('n_heads', nHeads, dim);
  pos('n_kv_heads', nKvHeads, nHeads);
  pos('vocab_size', vocabSize, MAX_VOCAB);
  pos('seq_len', seqLen, 1 << 20);
  if (dim % nHeads !== 0) fail(`dim=${dim} is not divisible by n_heads=${nHeads}`);
  if (nHeads % nKvHeads !== 0) fail(`n_heads=${nHeads} is not divisible by n_kv_heads=${nKvHeads}`);
  const headDim = dim / nHeads;
  if (headDim % 2 !== 0) fail(`head size ${headDim} is odd; RoPE rotates pairs`);
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, headDim, kvDim: nKvHeads * headDim };
}

function tensorSizes(d: LlamaDims): number[] {
  const { dim, nLayers: L, kvDim, hiddenDim: hid, vocabSize: V } = d;
  return [V * dim, L * dim, L * dim * dim, L * kvDim * dim, L * kvDim * dim, L * dim * dim, L * dim, L * hid * dim, L * dim * hid, L * hid * dim, dim];
}

/** Copy little-endian float32 values (the buffer offset need not be 4-aligned). */
function readF32(buf: Uint8Array, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(buf.subarray(offset, offset + 4 * count));
  return out;
}

function checkFinite(w: LlamaWeights, fail: (m: string) => never): void {
  for (const [name, t] of Object.entries(w) as [string, Float32Array][]) {
    for (let i = 0; i < t.length; i++)
      if (!Number.isFinite(t[i]!)) fail(`tensor ${name} holds ${t[i]} at index ${i}`);
  }
}

/** Slice of layer l of a per-layer tensor. */
export function layerSlice(t: Float32Array, l: number, perLayer: number): Float32Array {
  return t.subarray(l * perLayer, (l + 1) * perLayer);
}
