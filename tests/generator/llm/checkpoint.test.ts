import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../../../generator/llm/checkpoint';
import { FloatModel } from '../../../generator/llm/float-model';
import { InputError } from '../../../generator/util/errors';
import { Rng } from '../../../generator/util/rng';
import { hasModel, MODEL } from './helpers';

/** A small random legacy checkpoint; negative vocab means an untied classifier appended after freq_cis. */
function legacy(h: number[], untied = false, seed = 1): Uint8Array {
  const [dim, hid, L, heads, kvh, vocab, seq] = h as [number, number, number, number, number, number, number];
  const hd = dim / heads;
  const kv = kvh * hd;
  const n = vocab * dim + L * dim + L * dim * dim + 2 * L * kv * dim + L * dim * dim + L * dim + 3 * L * hid * dim + dim + seq * hd + (untied ? vocab * dim : 0);
  const buf = new Uint8Array(28 + 4 * n);
  const dv = new DataView(buf.buffer);
  h.forEach((v, i) => dv.setInt32(4 * i, i === 5 && untied ? -v : v, true));
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) dv.setFloat32(28 + 4 * i, rng.normal() * 0.1, true);
  return buf;
}

const H = [16, 24, 2, 4, 2, 32, 8];

describe('checkpoint import', () => {
  it.skipIf(!hasModel)('reads stories260K with the documented header', () => {
    const c = parseCheckpoint(readFileSync(MODEL), MODEL);
    expect(c.dims).toMatchObject({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, seqLen: 512, headDim: 8, kvDim: 32 });
    expect(c.sharedClassifier).toBe(true);
    expect(c.weights.wcls).toBe(c.weights.tokenEmbedding);
  });

  it('reads an untied classifier after the freq_cis tables', () => {
    const buf = legacy(H, true);
    const c = parseCheckpoint(buf);
    expect(c.sharedClassifier).toBe(false);
    const dv = new DataView(buf.buffer);
    const last = dv.getFloat32(buf.length - 4, true);
    expect(c.weights.wcls[c.weights.wcls.length - 1]).toBe(last);
    expect(c.weights.wcls).not.toBe(c.weights.tokenEmbedding);
    expect(() => new FloatModel(c).forward(1, 0)).not.toThrow();
  });

  it('rejects a truncated file, naming the size mismatch', () => {
    const buf = legacy(H);
    expect(() => parseCheckpoint(buf.subarray(0, buf.length - 4), 't.bin')).toThrow(/t\.bin: file is \d+ bytes but the header .* implies \d+ bytes \(truncated\?\)/);
    expect(() => parseCheckpoint(buf.subarray(0, 20))).toThrow(/shorter than the 28-byte header/);
  });

  it('rejects headers with impossible dimensions', () => {
    const bad = (h: number[]) => {
      const b = new Uint8Array(28 + 4096);
      const dv = new DataView(b.buffer);
      h.forEach((v, i) => dv.setInt32(4 * i, v, true));
      return () => parseCheckpoint(b);
    };
    expect(bad([18, 24, 2, 4, 2, 32, 8])).toThrow(/dim=18 is not divisible by n_heads=4/);
    expect(bad([16, 24, 2, 4, 3, 32, 8])).toThrow(/n_heads=4 is not divisible by n_kv_heads=3/);
    expect(bad([0, 24, 2, 4, 2, 32, 8])).toThrow(/header field dim=0 is out of range/);
    expect(bad([0x46464952, 0, 0, 0, 0, 0, 0])).toThrow(/out of range/);
  });

  it('rejects NaN and Inf weights, naming tensor and index', () => {
    const buf = legacy(H);
    const dv = new DataView(buf.buffer);
    dv.setFloat32(28 + 4 * (32 * 16 + 3), NaN, true); // rms_att[3]
    expect(() => parseCheckpoint(buf)).toThrow(/tensor rmsAtt holds NaN at index 3/);
    const b2 = legacy(H);
    new DataView(b2.buffer).setFloat32(28 + 4 * 5, Infinity, true);
    expect(() => parseCheckpoint(b2)).toThrow(/tokenEmbedding holds Infinity at index 5/);
  });

  it('reads ak42 version 1 and 2 exports of the same weights', () => {
    const src = parseCheckpoint(legacy(H));
    const d = src.dims;
    const w = src.weights;
    const mats = [w.tokenEmbedding, w.wq, w.wk, w.wv, w.wo, w.w1, w.w2, w.w3];
    const norms = [w.rmsAtt, w.rmsFfn, w.rmsFinal];
    const header = (version: number, gs = 0) => {
      const b = new Uint8Array(256);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, 0x616b3432, true);
      dv.setInt32(4, version, true);
      [d.dim, d.hiddenDim, d.nLayers, d.nHeads, d.nKvHeads, d.vocabSize, d.seqLen].forEach((v, i) => dv.setInt32(8 + 4 * i, v, true));
      b[36] = 1;
      if (gs) dv.setInt32(37, gs, true);
      return b;
    };
    const f32 = (a: Float32Array) => new Uint8Array(Float32Array.from(a).buffer);
    const v1 = Buffer.concat([header(1), ...norms.map(f32), ...mats.map(f32)]);
    const c1 = parseCheckpoint(v1);
    expect(c1.version).toBe(1);
    expect(Array.from(c1.weights.w2)).toEqual(Array.from(w.w2));
    expect(Array.from(c1.weights.rmsFfn)).toEqual(Array.from(w.rmsFfn));
    // v2: Q8_0 per exported tensor (per layer for layer tensors), group size 8.
    const gs = 8;
    const parts: Uint8Array[] = [header(2, gs), ...norms.map(f32)];
    mats.forEach((m, mi) => {
      const per = mi === 0 ? [m] : Array.from({ length: d.nLayers }, (_, l) => m.subarray((l * m.length) / d.nLayers, ((l + 1) * m.length) / d.nLayers));
      for (const t of per) {
        const q = new Int8Array(t.length);
        const s = new Float32Array(t.length / gs);
        for (let g = 0; g < s.length; g++) {
          let amax = 0;
          for (let j = 0; j < gs; j++) amax = Math.max(amax, Math.abs(t[g * gs + j]!));
          s[g] = amax / 127;
          for (let j = 0; j < gs; j++) q[g * gs + j] = Math.round(t[g * gs + j]! / s[g]!);
        }
        parts.push(new Uint8Array(q.buffer), f32(s));
      }
    });
    const c2 = parseCheckpoint(Buffer.concat(parts));
    expect(c2.version).toBe(2);
    for (let i = 0; i < w.w1.length; i++) expect(Math.abs(c2.weights.w1[i]! - w.w1[i]!)).toBeLessThan(0.01);
    expect(() => parseCheckpoint(Buffer.concat(parts).subarray(0, 300))).toThrow(/ak42 v2 file is 300 bytes/);
  });
});
