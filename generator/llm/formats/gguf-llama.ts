/**
 * Llama-architecture GGUF <-> LlamaCheckpoint. Tensor names and metadata keys follow llama.cpp. GGUF's q/k rows are
 * in the adjacent-pair RoPE order (llama.cpp's LLAMA_ROPE_TYPE_NORM; its HF converter permutes rotate-half models
 * into it), which is llama2.c's order too, so matrices are copied without permutation.
 */
import { GGMLQuantizationType, GGUFValueType, type MetadataValue } from '@huggingface/gguf';
import type { LlamaCheckpoint, LlamaDims, LlamaWeights } from '../checkpoint';
import { InputError } from '../../util/errors';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { tokenizerFromGguf, tokenizerGgufEntries } from '../tokenizer/gguf';
import { serializeGguf, type GgufTensorOut, type GgufValue } from './gguf-write';
import { parseGguf, tensorF32, type GgufFile } from './gguf-read';
import { f32ToBf16, f32ToF16 } from './half';

/** llama2.c's fixed RoPE base and RMSNorm epsilon; GGUF metadata may set others. */
export const LLAMA2C_ROPE_THETA = 10000;
export const LLAMA2C_RMS_EPS = 1e-5;

export const ARCH = 'llama';
/** Metadata keys read (`llama.` prefix); required unless a default is listed. */
export const LLAMA_KEYS = {
  dim: 'llama.embedding_length',
  nLayers: 'llama.block_count',
  nHeads: 'llama.attention.head_count',
  nKvHeads: 'llama.attention.head_count_kv', // default: head_count
  hiddenDim: 'llama.feed_forward_length',
  seqLen: 'llama.context_length',
  ropeTheta: 'llama.rope.freq_base', // default 10000
  rmsEps: 'llama.attention.layer_norm_rms_epsilon',
  ropeDims: 'llama.rope.dimension_count', // default: head size; must equal it
  vocabSize: 'llama.vocab_size', // default: rows of token_embd.weight
} as const;

/** Per-layer tensors: GGUF suffix -> our weight, with its row-major [rows][cols] shape. */
const LAYER_TENSORS = [
  ['attn_norm', 'rmsAtt', (d: LlamaDims) => [d.dim]],
  ['attn_q', 'wq', (d: LlamaDims) => [d.dim, d.dim]],
  ['attn_k', 'wk', (d: LlamaDims) => [d.kvDim, d.dim]],
  ['attn_v', 'wv', (d: LlamaDims) => [d.kvDim, d.dim]],
  ['attn_output', 'wo', (d: LlamaDims) => [d.dim, d.dim]],
  ['ffn_norm', 'rmsFfn', (d: LlamaDims) => [d.dim]],
  ['ffn_gate', 'w1', (d: LlamaDims) => [d.hiddenDim, d.dim]],
  ['ffn_down', 'w2', (d: LlamaDims) => [d.dim, d.hiddenDim]],
  ['ffn_up', 'w3', (d: LlamaDims) => [d.hiddenDim, d.dim]],
] as const satisfies ReadonlyArray<readonly [string, keyof LlamaWeights, (d: LlamaDims) => number[]]>;

export interface LoadedGguf {
  ckpt: LlamaCheckpoint;
  tokenizer?: Tokenizer;
}

export async function parseGgufModel(bytes: Uint8Array, source = '<buffer>'): Promise<LoadedGguf> {
  return ggufToCheckpoint(await parseGguf(bytes, source));
}

export function ggufToCheckpoint(file: GgufFile): LoadedGguf {
  const fail = (msg: string): never => {
    throw new InputError(`GGUF ${file.source}: ${msg}`);
  };
  const md = file.metadata;
  const arch = md['general.architecture'];
  if (arch === undefined) fail('metadata general.architecture is missing');
  if (arch !== ARCH) fail(`general.architecture is ${JSON.stringify(arch)}; lutforge reads the '${ARCH}' architecture only`);
  const int = (key: string, dflt?: number): number => {
    const v: MetadataValue | undefined = md[key];
    if (v === undefined) {
      if (dflt === undefined) fail(`metadata ${key} is missing`);
      return dflt!;
    }
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) fail(`metadata ${key}=${String(v)} must be a positive integer`);
    return n as number;
  };
  const real = (key: string, dflt?: number): number => {
    const v = md[key];
    if (v === undefined) {
      if (dflt === undefined) fail(`metadata ${key} is missing`);
      return dflt!;
    }
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) fail(`metadata ${key}=${String(v)} must be a positive number`);
    return v as number;
  };
  for (const k of Object.keys(md))
    if (k.startsWith('llama.rope.scaling.') && k !== 'llama.rope.scaling.type' && k !== 'llama.rope.scaling.factor') fail(`metadata ${k}: RoPE scaling is not supported`);
  const scaling = md['llama.rope.scaling.type'];
  if (scaling !== undefined && scaling !== 'none' && !(scaling === 'linear' && md['llama.rope.scaling.factor'] === 1))
    fail(`metadata llama.rope.scaling.type=${String(scaling)}: RoPE scaling is not supported`);

  const dim = int(LLAMA_KEYS.dim);
  const nHeads = int(LLAMA_KEYS.nHeads);
  const nKvHeads = int(LLAMA_KEYS.nKvHeads, nHeads);
  const nLayers = int(LLAMA_KEYS.nLayers);
  const hiddenDim = int(LLAMA_KEYS.hiddenDim);
  const seqLen = int(LLAMA_KEYS.seqLen);
  const ropeTheta = real(LLAMA_KEYS.ropeTheta, LLAMA2C_ROPE_THETA);
  const rmsEps = real(LLAMA_KEYS.rmsEps);
  if (dim % nHeads !== 0) fail(`${LLAMA_KEYS.dim}=${dim} is not divisible by ${LLAMA_KEYS.nHeads}=${nHeads}`);
  if (nHeads % nKvHeads !== 0) fail(`${LLAMA_KEYS.nHeads}=${nHeads} is not divisible by ${LLAMA_KEYS.nKvHeads}=${nKvHeads}`);
  const headDim = dim / nHeads;
  if (headDim % 2 !== 0) fail(`head size ${headDim} (${LLAMA_KEYS.dim} / ${LLAMA_KEYS.nHeads}) is odd; RoPE rotates pairs`);
  const ropeDims = int(LLAMA_KEYS.ropeDims, headDim);
  if (ropeDims !== headDim) fail(`${LLAMA_KEYS.ropeDims}=${ropeDims} differs from the head size ${headDim}; partial RoPE is not supported`);

  const emb = file.tensors.get('token_embd.weight') ?? fail('tensor token_embd.weight is missing');
  if (emb.shape.length !== 2 || emb.shape[0] !== dim)
    fail(`tensor token_embd.weight has shape [${emb.shape.join(', ')}] but ${LLAMA_KEYS.dim}=${dim} implies [${dim}, vocab_size]`);
  const vocabSize = int(LLAMA_KEYS.vocabSize, emb.shape[1]);
  if (vocabSize !== emb.shape[1]) fail(`${LLAMA_KEYS.vocabSize}=${vocabSize} but tensor token_embd.weight has ${emb.shape[1]} rows`);
  const dims: LlamaDims = {
    dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, headDim, kvDim: nKvHeads * headDim,
    // Absent = llama2.c's values, so a model converted from a .bin has the same dims (and engine config) as the .bin.
    ...(Math.fround(ropeTheta) !== Math.fround(LLAMA2C_ROPE_THETA) && { ropeTheta }),
    ...(Math.fround(rmsEps) !== Math.fround(LLAMA2C_RMS_EPS) && { rmsEps }),
  };

  const used = new Set<string>();
  const read = (name: string, rowsCols: readonly number[]): Float32Array => {
    const t = file.tensors.get(name) ?? fail(`tensor ${name} is missing`);
    const want = [...rowsCols].reverse();
    if (t.shape.length !== want.length || t.shape.some((s, i) => s !== want[i]))
      fail(`tensor ${name} has shape [${t.shape.join(', ')}] but the metadata implies [${want.join(', ')}]`);
    used.add(name);
    return tensorF32(file, t);
  };
  const perLayer = (suffix: string, shape: readonly number[]): Float32Array => {
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(nLayers * n);
    for (let l = 0; l < nLayers; l++) out.set(read(`blk.${l}.${suffix}.weight`, shape), l * n);
    return out;
  };
  const w: Partial<LlamaWeights> = { tokenEmbedding: read('token_embd.weight', [vocabSize, dim]) };
  for (const [suffix, key, shape] of LAYER_TENSORS) w[key] = perLayer(suffix, shape(dims));
  w.rmsFinal = read('output_norm.weight', [dim]);
  const shared = !file.tensors.has('output.weight');
  w.wcls = shared ? w.tokenEmbedding : read('output.weight', [vocabSize, dim]);
  const extra = [...file.tensors.keys()].filter((n) => !used.has(n));
  if (extra.length) fail(`tensor ${extra[0]} is not part of the Llama layout lutforge decodes${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}`);
  for (const [name, t] of Object.entries(w) as [string, Float32Array][])
    for (let i = 0; i < t.length; i++) if (!Number.isFinite(t[i]!)) fail(`tensor ${name} holds ${t[i]} at index ${i}`);

  const tokenizer = tokenizerFromGguf(md, file.source);
  if (tokenizer && tokenizer.size !== vocabSize)
    fail(`tokenizer.ggml.tokens holds ${tokenizer.size} tokens but the model's vocab_size is ${vocabSize}`);
  const ckpt: LlamaCheckpoint = { dims, weights: w as LlamaWeights, version: 'gguf', sharedClassifier: shared, source: file.source };
  return { ckpt, ...(tokenizer && { tokenizer }) };
}

export type GgufFloatType = 'f32' | 'f16' | 'bf16';
const GGML_TYPE = { f32: GGMLQuantizationType.F32, f16: GGMLQuantizationType.F16, bf16: GGMLQuantizationType.BF16 } as const;
/** general.file_type (llama.cpp's LLAMA_FTYPE): ALL_F32, MOSTLY_F16, MOSTLY_BF16. */
const FILE_TYPE = { f32: 0, f16: 1, bf16: 32 } as const;

function encodeTensor(x: Float32Array, type: GgufFloatType): Uint8Array {
  if (type === 'f32') return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  const out = new Uint16Array(x.length);
  const conv = type === 'f16' ? f32ToF16 : f32ToBf16;
  for (let i = 0; i < x.length; i++) out[i] = conv(x[i]!);
  return new Uint8Array(out.buffer);
}

/**
 * A Llama GGUF of `ckpt`, matrices in `type` (norms always F32, as llama.cpp writes them), with the tokenizer
 * embedded when given.
 */
export function checkpointToGguf(ckpt: LlamaCheckpoint, opts: { type?: GgufFloatType; tokenizer?: Tokenizer; name?: string } = {}): Uint8Array {
  const type = opts.type ?? 'f32';
  const d = ckpt.dims;
  const w = ckpt.weights;
  if (opts.tokenizer) opts.tokenizer.checkVocabSize(d.vocabSize, 'convert');
  const u32 = (value: number): GgufValue => ({ type: GGUFValueType.UINT32, value });
  const f32v = (value: number): GgufValue => ({ type: GGUFValueType.FLOAT32, value });
  const kv: Array<[string, GgufValue]> = [
    ['general.architecture', { type: GGUFValueType.STRING, value: ARCH }],
    ['general.name', { type: GGUFValueType.STRING, value: opts.name ?? 'lutforge' }],
    ['general.file_type', u32(FILE_TYPE[type])],
    [LLAMA_KEYS.seqLen, u32(d.seqLen)],
    [LLAMA_KEYS.dim, u32(d.dim)],
    [LLAMA_KEYS.nLayers, u32(d.nLayers)],
    [LLAMA_KEYS.hiddenDim, u32(d.hiddenDim)],
    [LLAMA_KEYS.ropeDims, u32(d.headDim)],
    [LLAMA_KEYS.nHeads, u32(d.nHeads)],
    [LLAMA_KEYS.nKvHeads, u32(d.nKvHeads)],
    [LLAMA_KEYS.rmsEps, f32v(d.rmsEps ?? LLAMA2C_RMS_EPS)],
    [LLAMA_KEYS.ropeTheta, f32v(d.ropeTheta ?? LLAMA2C_ROPE_THETA)],
    [LLAMA_KEYS.vocabSize, u32(d.vocabSize)],
    ...(opts.tokenizer ? tokenizerGgufEntries(opts.tokenizer) : []),
  ];
  const tensors: GgufTensorOut[] = [];
  const add = (name: string, data: Float32Array, rowsCols: number[], t: GgufFloatType) =>
    tensors.push({ name, shape: [...rowsCols].reverse(), type: GGML_TYPE[t], data: encodeTensor(data, t) });
  add('token_embd.weight', w.tokenEmbedding, [d.vocabSize, d.dim], type);
  for (let l = 0; l < d.nLayers; l++)
    for (const [suffix, key, shapeOf] of LAYER_TENSORS) {
      const shape = shapeOf(d);
      const n = shape.reduce((a, b) => a * b, 1);
      add(`blk.${l}.${suffix}.weight`, w[key].subarray(l * n, (l + 1) * n), shape, shape.length === 1 ? 'f32' : type);
    }
  add('output_norm.weight', w.rmsFinal, [d.dim], 'f32');
  if (!ckpt.sharedClassifier) add('output.weight', w.wcls, [d.vocabSize, d.dim], type);
  return serializeGguf(kv, tensors);
}
