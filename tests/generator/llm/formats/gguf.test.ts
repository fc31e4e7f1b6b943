import { gguf, GGMLQuantizationType, GGUFValueType } from '@huggingface/gguf';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCheckpoint, type LlamaCheckpoint } from '../../../../generator/llm/checkpoint';
import { FloatModel, generateGreedy } from '../../../../generator/llm/float-model';
import { checkpointToGguf } from '../../../../generator/llm/formats/gguf-llama';
import { serializeGguf, type GgufTensorOut, type GgufValue } from '../../../../generator/llm/formats/gguf-write';
import { serializeCheckpoint } from '../../../../generator/llm/formats/llama2c-write';
import { engineConfig, shapeOf } from '../../../../generator/llm/model-spec';
import { GoldenDecoder } from '../../../../generator/llm/golden/decoder';
import { quantizeModel } from '../../../../generator/llm/quant/model';
import { parseModel } from '../../../../generator/llm/model-file';
import { parseTokenizerBin } from '../../../../generator/llm/tokenizer/llama2c';
import { InputError } from '../../../../generator/util/errors';
import { Rng } from '../../../../generator/util/rng';
import { hasModel, MODEL } from '../helpers';
import { buildVocab, tokenizerBinBytes } from '../tokenizer/fixture';

/** A small random llama2.c legacy checkpoint (written field by field), optionally with an untied classifier. */
function legacy(untied: boolean, vocab = 32): Uint8Array {
  const [dim, hid, L, heads, kvh, seq] = [16, 24, 2, 4, 2, 8];
  const hd = dim / heads;
  const kv = kvh * hd;
  const n = vocab * dim + L * dim + L * dim * dim + 2 * L * kv * dim + L * dim * dim + L * dim + 3 * L * hid * dim + dim + seq * hd + (untied ? vocab * dim : 0);
  const buf = new Uint8Array(28 + 4 * n);
  const dv = new DataView(buf.buffer);
  [dim, hid, L, heads, kvh, untied ? -vocab : vocab, seq].forEach((v, i) => dv.setInt32(4 * i, v, true));
  const rng = new Rng(3);
  for (let i = 0; i < n; i++) dv.setFloat32(28 + 4 * i, rng.normal() * 0.1, true);
  return buf;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lutforge-gguf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const expectSameWeights = (a: LlamaCheckpoint, b: LlamaCheckpoint) => {
  expect(b.dims).toEqual(a.dims);
  expect(b.sharedClassifier).toBe(a.sharedClassifier);
  for (const k of Object.keys(a.weights) as (keyof LlamaCheckpoint['weights'])[]) expect(b.weights[k], k).toEqual(a.weights[k]);
};

describe('GGUF writer, read back by @huggingface/gguf (an independent parser)', () => {
  it('writes the llama metadata, tensor names, GGUF shapes and data at the offsets the parser reports', async () => {
    const ckpt = parseCheckpoint(legacy(true));
    const file = path.join(tmp, 'small.gguf');
    writeFileSync(file, checkpointToGguf(ckpt));
    const r = await gguf(file, { allowLocalFile: true });
    const md = r.metadata as Record<string, unknown>;
    expect(md['general.architecture']).toBe('llama');
    expect(md['llama.embedding_length']).toBe(16);
    expect(md['llama.block_count']).toBe(2);
    expect(md['llama.attention.head_count']).toBe(4);
    expect(md['llama.attention.head_count_kv']).toBe(2);
    expect(md['llama.feed_forward_length']).toBe(24);
    expect(md['llama.context_length']).toBe(8);
    expect(md['llama.rope.freq_base']).toBe(10000);
    expect(md['llama.attention.layer_norm_rms_epsilon']).toBe(Math.fround(1e-5));
    const names = r.tensorInfos.map((t) => t.name);
    expect(names).toContain('blk.1.ffn_down.weight');
    expect(names).toContain('output.weight');
    expect(names).toHaveLength(1 + 2 * 9 + 2);
    const down = r.tensorInfos.find((t) => t.name === 'blk.1.ffn_down.weight')!;
    expect(down.shape.map(Number)).toEqual([24, 16]); // [in=hidden, out=dim]
    expect(down.dtype).toBe(GGMLQuantizationType.F32);
    const bytes = readFileSync(file);
    const at = Number(r.tensorDataOffset + down.offset);
    expect(at % 32).toBe(0);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + 4 * 24 * 16));
    expect(data).toEqual(ckpt.weights.w2.subarray(24 * 16, 2 * 24 * 16));
  });

  it('writes metadata values and arrays of every kind the tokenizer uses', async () => {
    const kv: Array<[string, GgufValue]> = [
      ['a.u32', { type: GGUFValueType.UINT32, value: 7 }],
      ['a.f32', { type: GGUFValueType.FLOAT32, value: 0.5 }],
      ['a.bool', { type: GGUFValueType.BOOL, value: true }],
      ['a.str', { type: GGUFValueType.STRING, value: 'héllo ▁' }],
      ['a.strs', { type: GGUFValueType.ARRAY, itemType: GGUFValueType.STRING, value: ['x', '', '▁y'] }],
      ['a.i32s', { type: GGUFValueType.ARRAY, itemType: GGUFValueType.INT32, value: [1, -2, 3] }],
      ['a.u64', { type: GGUFValueType.UINT64, value: 1n << 40n }],
    ];
    const t: GgufTensorOut = { name: 't', shape: [3], type: GGMLQuantizationType.F16, data: new Uint8Array(6) };
    const file = path.join(tmp, 'kv.gguf');
    writeFileSync(file, serializeGguf(kv, [t]));
    const md = (await gguf(file, { allowLocalFile: true })).metadata as Record<string, unknown>;
    expect([md['a.u32'], md['a.f32'], md['a.bool'], md['a.str'], md['a.strs'], md['a.i32s'], md['a.u64']]).toEqual([7, 0.5, true, 'héllo ▁', ['x', '', '▁y'], [1, -2, 3], 1n << 40n]);
    expect(() => serializeGguf([kv[0]!, kv[0]!], [])).toThrow(/a\.u32 given twice/);
  });
});

describe('GGUF import', () => {
  it('round-trips tied and untied checkpoints exactly in F32, and .bin -> GGUF -> .bin byte for byte', async () => {
    for (const untied of [false, true]) {
      const bin = legacy(untied);
      const ckpt = parseCheckpoint(bin);
      const back = (await parseModel(checkpointToGguf(ckpt), 'x.gguf')).ckpt;
      expectSameWeights(ckpt, back);
      expect(back.version).toBe('gguf');
      // the freq_cis tables of the test file are random, so compare everything but them
      const again = serializeCheckpoint(back);
      expect(parseCheckpoint(again).weights).toEqual(ckpt.weights);
      expect(again.length).toBe(bin.length);
    }
  });

  it('reads F16 and BF16 tensors as their rounded values (norms stay F32)', async () => {
    const ckpt = parseCheckpoint(legacy(false));
    for (const [type, bits] of [['f16', 11], ['bf16', 8]] as const) {
      const back = (await parseModel(checkpointToGguf(ckpt, { type }), 'x.gguf')).ckpt;
      expect(back.weights.rmsAtt).toEqual(ckpt.weights.rmsAtt);
      const a = ckpt.weights.wq;
      const b = back.weights.wq;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.abs(a[i]!));
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(2 ** -bits);
    }
  });

  it('carries the tokenizer: SentencePiece pieces (U+2581 spaces), scores, types and specials', async () => {
    const v = buildVocab(32 + 259 + 10);
    const tok = parseTokenizerBin(tokenizerBinBytes(v));
    const ckpt = parseCheckpoint(legacy(false, tok.size));
    const bytes = checkpointToGguf(ckpt, { tokenizer: tok });
    writeFileSync(path.join(tmp, 'tok.gguf'), bytes);
    const raw = (await gguf(path.join(tmp, 'tok.gguf'), { allowLocalFile: true })).metadata as Record<string, unknown>;
    expect(raw['tokenizer.ggml.model']).toBe('llama');
    const pieces = raw['tokenizer.ggml.tokens'] as string[];
    expect(pieces.some((p) => p.startsWith('\u2581'))).toBe(true);
    expect(pieces.some((p) => p.includes(' '))).toBe(false);
    expect((raw['tokenizer.ggml.token_type'] as number[]).slice(0, 4)).toEqual([2, 3, 3, 6]);
    const m = await parseModel(bytes, 'tok.gguf');
    expect(m.tokenizer!.vocab.pieces).toEqual(v.pieces);
    const text = 'Lily saw a dog.';
    expect(m.tokenizer!.encode(text)).toEqual(tok.encode(text));
  });

  it.skipIf(!hasModel)('stories260K converted to GGUF decodes the ids of the .bin: float reference and golden decoder', async () => {
    const ckpt = parseCheckpoint(readFileSync(MODEL), MODEL);
    const back = (await parseModel(checkpointToGguf(ckpt), 'stories260K.gguf')).ckpt;
    expectSameWeights(ckpt, back);
    const prompt = [1, 403, 27];
    const ids = generateGreedy(new FloatModel(ckpt), prompt, 48);
    expect(generateGreedy(new FloatModel(back), prompt, 48)).toEqual(ids);
    const cfg = engineConfig(shapeOf(ckpt.dims));
    expect(engineConfig(shapeOf(back.dims))).toEqual(cfg);
    const gold = generateGreedy(new GoldenDecoder(quantizeModel(ckpt, cfg, { search: 'minmax' })), prompt, 24);
    expect(generateGreedy(new GoldenDecoder(quantizeModel(back, cfg, { search: 'minmax' })), prompt, 24)).toEqual(gold);
  });

  it('honours the file\'s RoPE base and RMSNorm epsilon in the float reference (and refuses them in a .bin)', async () => {
    const ckpt = parseCheckpoint(legacy(false));
    const other = { ...ckpt, dims: { ...ckpt.dims, ropeTheta: 500000, rmsEps: 1e-6 } };
    const back = (await parseModel(checkpointToGguf(other), 'x.gguf')).ckpt;
    expect(back.dims.ropeTheta).toBe(500000);
    expect(back.dims.rmsEps).toBe(Math.fround(1e-6));
    const a = new FloatModel(ckpt);
    const b = new FloatModel(back);
    a.forward(1, 0);
    b.forward(1, 0);
    expect(Array.from(b.forward(2, 3))).not.toEqual(Array.from(a.forward(2, 3)));
    expect(() => serializeCheckpoint(back)).toThrow(/llama\.rope\.freq_base.*cannot be stored in a llama2\.c \.bin/);
  });
});

/** A GGUF written field by field (not by the converter), with hooks to break any metadata or tensor on purpose. */
function rebuild(ckpt: LlamaCheckpoint, edit: { kv?: (kv: Map<string, GgufValue>) => void; tensors?: (t: GgufTensorOut[]) => GgufTensorOut[] }, tok?: ReturnType<typeof parseTokenizerBin>): Uint8Array {
  const u32 = (value: number): GgufValue => ({ type: GGUFValueType.UINT32, value });
  const d = ckpt.dims;
  const kv = new Map<string, GgufValue>([
    ['general.architecture', { type: GGUFValueType.STRING, value: 'llama' }],
    ['llama.context_length', u32(d.seqLen)],
    ['llama.embedding_length', u32(d.dim)],
    ['llama.block_count', u32(d.nLayers)],
    ['llama.feed_forward_length', u32(d.hiddenDim)],
    ['llama.attention.head_count', u32(d.nHeads)],
    ['llama.attention.head_count_kv', u32(d.nKvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', { type: GGUFValueType.FLOAT32, value: 1e-5 }],
  ]);
  if (tok) {
    kv.set('tokenizer.ggml.model', { type: GGUFValueType.STRING, value: 'llama' });
    kv.set('tokenizer.ggml.tokens', { type: GGUFValueType.ARRAY, itemType: GGUFValueType.STRING, value: tok.vocab.pieces });
    kv.set('tokenizer.ggml.scores', { type: GGUFValueType.ARRAY, itemType: GGUFValueType.FLOAT32, value: Array.from(tok.vocab.scores) });
  }
  edit.kv?.(kv);
  const w = ckpt.weights;
  const f32 = (x: Float32Array) => new Uint8Array(x.slice().buffer);
  let tensors: GgufTensorOut[] = [{ name: 'token_embd.weight', shape: [d.dim, d.vocabSize], type: GGMLQuantizationType.F32, data: f32(w.tokenEmbedding) }];
  const layer: Array<[string, Float32Array, number[]]> = [
    ['attn_norm', w.rmsAtt, [d.dim]], ['attn_q', w.wq, [d.dim, d.dim]], ['attn_k', w.wk, [d.dim, d.kvDim]], ['attn_v', w.wv, [d.dim, d.kvDim]],
    ['attn_output', w.wo, [d.dim, d.dim]], ['ffn_norm', w.rmsFfn, [d.dim]], ['ffn_gate', w.w1, [d.dim, d.hiddenDim]],
    ['ffn_down', w.w2, [d.hiddenDim, d.dim]], ['ffn_up', w.w3, [d.dim, d.hiddenDim]],
  ];
  for (let l = 0; l < d.nLayers; l++)
    for (const [s, t, shape] of layer) {
      const n = shape.reduce((a, b) => a * b, 1);
      tensors.push({ name: `blk.${l}.${s}.weight`, shape, type: GGMLQuantizationType.F32, data: f32(t.subarray(l * n, (l + 1) * n)) });
    }
  tensors.push({ name: 'output_norm.weight', shape: [d.dim], type: GGMLQuantizationType.F32, data: f32(w.rmsFinal) });
  if (edit.tensors) tensors = edit.tensors(tensors);
  return serializeGguf([...kv], tensors);
}

describe('GGUF bad input: a clear error naming the field', () => {
  const ckpt = parseCheckpoint(legacy(false));
  const load = (b: Uint8Array) => parseModel(b, 'bad.gguf');

  it('the hand-built reference file itself loads (so the failures below come from the edits)', async () => {
    expectSameWeights(ckpt, (await load(rebuild(ckpt, {}))).ckpt);
  });

  it('truncated anywhere: in the header, metadata, tensor infos or tensor data', async () => {
    const good = rebuild(ckpt, {});
    for (const cut of [6, 20, 200, 1000, good.length - 100, good.length - 4]) {
      const p = load(good.subarray(0, cut));
      await expect(p).rejects.toThrow(InputError);
      await expect(load(good.subarray(0, cut))).rejects.toThrow(/bad\.gguf: .*(truncated|magic)/);
    }
    await expect(load(good.subarray(0, good.length - 4))).rejects.toThrow(/tensor output_norm\.weight data .* runs past the end of the \d+-byte file \(truncated\?\)/);
  });

  it('an unknown or missing architecture', async () => {
    await expect(load(rebuild(ckpt, { kv: (kv) => kv.set('general.architecture', { type: GGUFValueType.STRING, value: 'gpt2' }) }))).rejects.toThrow(/general\.architecture is "gpt2"; lutforge reads the 'llama' architecture only/);
    await expect(load(rebuild(ckpt, { kv: (kv) => kv.delete('general.architecture') }))).rejects.toThrow(/metadata general\.architecture is missing/);
  });

  it('missing metadata or tensors', async () => {
    for (const key of ['llama.embedding_length', 'llama.block_count', 'llama.attention.head_count', 'llama.feed_forward_length', 'llama.context_length', 'llama.attention.layer_norm_rms_epsilon'])
      await expect(load(rebuild(ckpt, { kv: (kv) => kv.delete(key) }))).rejects.toThrow(new RegExp(`metadata ${key.replaceAll('.', '\\.')} is missing`));
    for (const name of ['token_embd.weight', 'blk.1.ffn_up.weight', 'blk.0.attn_norm.weight', 'output_norm.weight'])
      await expect(load(rebuild(ckpt, { tensors: (t) => t.filter((x) => x.name !== name) }))).rejects.toThrow(new RegExp(`tensor ${name.replaceAll('.', '\\.')} is missing`));
  });

  it('shapes that disagree with the metadata, and metadata that disagrees with itself', async () => {
    await expect(load(rebuild(ckpt, { kv: (kv) => kv.set('llama.feed_forward_length', { type: GGUFValueType.UINT32, value: 32 }) }))).rejects.toThrow(/tensor blk\.0\.ffn_gate\.weight has shape \[16, 24\] but the metadata implies \[16, 32\]/);
    await expect(load(rebuild(ckpt, { kv: (kv) => kv.set('llama.embedding_length', { type: GGUFValueType.UINT32, value: 8 }) }))).rejects.toThrow(/tensor token_embd\.weight has shape \[16, 32\] but llama\.embedding_length=8 implies/);
    await expect(load(rebuild(ckpt, { kv: (kv) => kv.set('llama.vocab_size', { type: GGUFValueType.UINT32, value: 33 }) }))).rejects.toThrow(/llama\.vocab_size=33 but tensor token_embd\.weight has 32 rows/);
    await expect(load(rebuild(ckpt, { kv: (kv) => kv.set('llama.attention.head_count_kv', { type: GGUFValueType.UINT32, value: 3 }) }))).rejects.toThrow(/head_count=4 is not divisible by llama\.attention\.head_count_kv=3/);
    await expect(load(rebuild(ckpt, { kv: (kv) => kv.set('llama.rope.dimension_count', { type: GGUFValueType.UINT32, value: 2 }) }))).rejects.toThrow(/llama\.rope\.dimension_count=2 differs from the head size 4/);
    await expect(load(rebuild(ckpt, { tensors: (t) => [...t, { name: 'rope_freqs.weight', shape: [2], type: GGMLQuantizationType.F32, data: new Uint8Array(8) }] }))).rejects.toThrow(/tensor rope_freqs\.weight is not part of the Llama layout/);
  });

  it('an unsupported (already-quantised) tensor type, naming the tensor, its type and the accepted ones', async () => {
    const good = rebuild(ckpt, {});
    // Patch blk.0.attn_q.weight's type field in the tensor info: u64 name length, name, u32 n_dims, 2 x u64 dims, u32 type.
    const name = Buffer.from('blk.0.attn_q.weight');
    const at = Buffer.from(good).indexOf(name) + name.length + 4 + 16;
    const bad = Uint8Array.from(good);
    new DataView(bad.buffer).setUint32(at, GGMLQuantizationType.Q4_K, true);
    await expect(load(bad)).rejects.toThrow(/tensor blk\.0\.attn_q\.weight has type Q4_K; accepted tensor types are F32, F16, BF16/);
  });

  it('a tokenizer whose vocabulary size differs from the model', async () => {
    await expect(load(rebuild(ckpt, {}, parseTokenizerBin(tokenizerBinBytes(buildVocab(300)))))).rejects.toThrow(/tokenizer\.ggml\.tokens holds 300 tokens but the model's vocab_size is 32/);
    await expect(load(rebuild(ckpt, { kv: (kv) => kv.set('tokenizer.ggml.model', { type: GGUFValueType.STRING, value: 'gpt2' }) }))).rejects.toThrow(/tokenizer\.ggml\.model is "gpt2"; lutforge decodes 'llama' \(SentencePiece-BPE\) vocabularies only/);
  });
});
