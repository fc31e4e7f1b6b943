/**
 * The HBM image of the AXI llmdev (generator/llm/device/hbm-layout.ts), without a simulator: re-assembling every
 * pseudo-channel's slices by the documented rule gives back exactly the engine packer's words; shapes that do not
 * fit are refused with errors naming the problem.
 */
import { describe, expect, it } from 'vitest';
import { STORIES260K_SHAPE, llmPresetConfig } from '../../generator/llm/engine/hw-config';
import { packEmbedding, packModel } from '../../generator/llm/engine/pack';
import { randomQuantModel } from '../../generator/llm/engine/random';
import { deviceImage } from '../../generator/llm/device/image';
import { llmDeviceConfig } from '../../generator/llm/device/layout';
import { deviceEngineParams } from '../../generator/llm/device/engine-params';
import { HBM_BYTES, PC_BYTES, hbmImage, hbmLayout } from '../../generator/llm/device/hbm-layout';
import { ConfigError, InputError } from '../../generator/util/errors';

const cfg = llmPresetConfig('sim-small', STORIES260K_SHAPE, { engine: deviceEngineParams('sim-small') });
const qm = randomQuantModel(cfg.engine.model, cfg.engine, 3);

/** Bits [lo, lo + n) of little-endian u32 words, as a bigint. */
const bitsOf = (w: Uint32Array, lo: number, n: number): bigint => {
  let v = 0n;
  for (let i = 0; i < n; i++) if ((w[(lo + i) >>> 5]! >>> ((lo + i) & 31)) & 1) v |= 1n << BigInt(i);
  return v;
};
const wordOf = (limbs: Uint32Array, i: number, n: number, width: number): bigint => bitsOf(limbs, i * n * 32, width);

describe('HBM layout (one part per pseudo-channel)', () => {
  for (const masters of [2, 4])
    it(`${masters} masters: every w, s, aux and embedding word reassembles from the channels' slices`, () => {
      const d = llmDeviceConfig(cfg, { mem: 'axi', hbm: { masters, axiBits: 64 } });
      const h = d.hbm!;
      const parts = hbmImage(d, h, deviceImage(d, qm));
      expect(parts.map((p) => p.cardAddr)).toEqual(Array.from({ length: masters }, (_, k) => k * PC_BYTES));
      // Slice k of word i of a region: channel k, region offset, bit (i * sliceBits) (beats of axiBits, low slice first).
      const join = (name: 'w' | 's' | 'at' | 'a0', i: number, width: number): bigint => {
        const r = h.regions[name];
        let v = 0n;
        for (let k = 0; k < masters; k++) v |= bitsOf(parts[k]!.words, r.offset * 8 + i * r.sliceBits, r.sliceBits) << BigInt(k * r.sliceBits);
        return v & ((1n << BigInt(width)) - 1n);
      };
      const img = packModel(cfg, qm);
      const wl = Math.ceil(cfg.wPortBits / 32);
      for (let i = 0; i < d.wWords; i += 97) expect(join('w', i, cfg.wPortBits)).toBe(wordOf(img.w, i, wl, cfg.wPortBits));
      expect(join('w', d.wWords - 1, cfg.wPortBits)).toBe(wordOf(img.w, d.wWords - 1, wl, cfg.wPortBits));
      const sl = Math.ceil(cfg.sPortBits / 32);
      for (let i = 0; i < d.sWords; i += 31) expect(join('s', i, cfg.sPortBits)).toBe(wordOf(img.s, i, sl, cfg.sPortBits));
      const P = cfg.P;
      for (let t = 0; t < d.tailBeats; t += 7) expect(join('at', t, cfg.auxBits)).toBe(wordOf(img.auxTail, t, P, cfg.auxBits));
      // a0 = the embedding's constant beat; e row of token 77, beat b: lanes of embLaneBits.
      const emb = packEmbedding(cfg, qm, 77);
      expect(join('a0', 0, cfg.auxBits)).toBe(wordOf(emb, 0, P, cfg.auxBits));
      const e = h.regions.e;
      const K = h.axiBits / e.sliceBits;
      for (let b = 0; b < d.rowBeats; b++) {
        let v = 0n;
        for (let k = 0; k < masters; k++) v |= bitsOf(parts[k]!.words, e.offset * 8 + (77 * h.eRowBeats * K + b) * e.sliceBits, e.sliceBits) << BigInt(k * e.sliceBits);
        for (let q = 0; q < P; q++) expect(Number((v >> BigInt(q * d.embLaneBits)) & ((1n << BigInt(d.embLaneBits)) - 1n))).toBe(emb[P + b * P + q]);
      }
      // Regions start on 4 KB (bursts never straddle two regions) and fit the channel.
      for (const r of Object.values(h.regions)) expect(r.offset % 4096).toBe(0);
      expect(h.pcBytes).toBeLessThanOrEqual(PC_BYTES);
    });

  it('refuses a master count that is not a power of two in 1..32, and too few masters for a word', () => {
    expect(() => llmDeviceConfig(cfg, { mem: 'axi', hbm: { masters: 3, axiBits: 64 } })).toThrow(ConfigError);
    expect(() => llmDeviceConfig(cfg, { mem: 'axi', hbm: { masters: 64, axiBits: 64 } })).toThrow(/power of two in 1\.\.32/);
    // The 128-bit aux word needs at least two 64-bit masters.
    expect(() => llmDeviceConfig(cfg, { mem: 'axi', hbm: { masters: 1, axiBits: 64 } })).toThrow(/cannot carry the 128-bit a word/);
  });

  it('refuses an image larger than a pseudo-channel (and so than the 8 GB HBM)', () => {
    const d = llmDeviceConfig(cfg, {});
    // A model shape whose per-step w stream alone is 300 MB per channel.
    const big = { ...d, wWords: Math.ceil((300 * 2 ** 20 * 8) / 16) * 4 };
    expect(() => hbmLayout(big, { masters: 4, axiBits: 64 })).toThrow(InputError);
    expect(() => hbmLayout(big, { masters: 4, axiBits: 64 })).toThrow(/256 MB/);
    expect(HBM_BYTES).toBe(8 * 2 ** 30);
  });
});
