/**
 * The LLM device's memory layout and host image, without a simulator: the regions hold exactly what the engine's
 * packer produces, replayed in the order the sequencer reads them (a[0], the token's embedding row, a[1..]; w; s).
 */
import { describe, expect, it } from 'vitest';
import { STORIES260K_SHAPE, llmPresetConfig } from '../../generator/llm/engine/hw-config';
import { packBlockAux, packEmbedding, packModel } from '../../generator/llm/engine/pack';
import { randomQuantModel } from '../../generator/llm/engine/random';
import { deviceImage } from '../../generator/llm/device/image';
import { layoutRevision, llmDeviceConfig, LLMDEV_PROTOCOL, REGIONS } from '../../generator/llm/device/layout';
import { llmDeviceModule } from '../../generator/llm/device/sequencer';
import { printDesign } from '../../generator/hdl';
import { linkConfig } from '../../generator/link/config';
import { linkBoardTop } from '../../generator/link/top';
import { InputError } from '../../generator/util/errors';
import { lintVerilog } from '../../sim/lint';

/**
 * What the sequencer streams on aux for a block of `tokens` (one token = a decode step), read back out of the image
 * (the RTL's address arithmetic in TS, aux-walk.ts): per token a[0] and its row of e, then a[1..] once.
 */
function auxFromImage(d: ReturnType<typeof llmDeviceConfig>, img: ReturnType<typeof deviceImage>, tokens: readonly number[]): number[] {
  const P = d.engine.P;
  const R = d.regions;
  const a = img.regions.find((r) => r.name === 'a')!.words;
  const e = img.regions.find((r) => r.name === 'e')!.words;
  const beatA = (i: number) => Array.from(a.subarray(i * R.a.stride, i * R.a.stride + P));
  const out: number[] = [];
  for (let k = 0, x = 0; x < d.auxBeats; x++) {
    const token = tokens[k]!;
    if (x >= 1 && x <= d.rowBeats) {
      const off = (token * d.rowBeats + x - 1) * R.e.stride;
      const per = 32 / d.embLaneBits;
      for (let q = 0; q < P; q++) {
        const limb = e[off + Math.floor(q / per)]!;
        out.push(d.embLaneBits === 32 ? limb : (limb >>> (d.embLaneBits * (q % per))) & (2 ** d.embLaneBits - 1));
      }
    } else out.push(...beatA(x === 0 ? 0 : x - d.rowBeats));
    if (x === d.rowBeats && k < tokens.length - 1) (k++, (x = -1));
  }
  return out;
}

describe('LLM device image', () => {
  for (const preset of ['sim-small', 'tiny'] as const)
    it(`${preset}: regions replay the engine's packed streams exactly`, () => {
      const cfg = llmPresetConfig(preset, STORIES260K_SHAPE);
      const d = llmDeviceConfig(cfg, { latency: 3 });
      const qm = randomQuantModel(STORIES260K_SHAPE, cfg.engine, 77);
      const ref = packModel(cfg, qm);
      const img = deviceImage(d, qm);
      // Regions are disjoint and inside the advertised memory.
      for (const r of img.regions) {
        expect(r.base % 2 ** d.regionShift).toBe(0);
        expect(r.words.length).toBeLessThanOrEqual(2 ** d.regionShift);
        expect(r.base + r.words.length).toBeLessThanOrEqual(d.memWords);
      }
      expect(img.bytes).toBe(d.imageBytes);
      const R = d.regions;
      const w = img.regions[0]!.words;
      for (let i = 0; i < d.wWords; i++)
        for (let k = 0; k < R.w.limbs; k++) expect(w[i * R.w.stride + k]).toBe(ref.w[i * R.w.limbs + k]);
      expect(Array.from(img.regions[1]!.words.filter((_, i) => i % R.s.stride < R.s.limbs))).toEqual(Array.from(ref.s));
      for (const token of [0, 1, 255, 511]) {
        const want = [...Array.from(packEmbedding(cfg, qm, token)), ...Array.from(ref.auxTail)];
        expect(auxFromImage(d, img, [token])).toEqual(want);
      }
      // a prefill block: the order packBlockAux defines (every token's constant beat and row, then the tail)
      const blkCfg = llmPresetConfig(preset, STORIES260K_SHAPE, { hw: { prefillBlock: 4 } });
      const bd = llmDeviceConfig(blkCfg, { latency: 3 });
      const blkImg = deviceImage(bd, qm);
      for (const blk of [[5], [0, 511, 7], [3, 3, 200, 1]])
        expect(auxFromImage(bd, blkImg, blk)).toEqual(Array.from(packBlockAux(blkCfg, qm, packModel(blkCfg, qm), blk)));
    });

  it('the layout revision follows the layout; a model of another shape is refused', () => {
    const a = llmDeviceConfig(llmPresetConfig('sim-small', STORIES260K_SHAPE));
    const b = llmDeviceConfig(llmPresetConfig('tiny', STORIES260K_SHAPE));
    expect(layoutRevision(a)).not.toBe(layoutRevision(b));
    expect(REGIONS.map((n) => a.regions[n].base)).toEqual([0, 1, 2, 3].map((i) => i << a.regionShift));
    const other = { ...STORIES260K_SHAPE, hiddenDim: 128 };
    const qm = randomQuantModel(other, a.engine.engine, 3);
    expect(() => deviceImage(a, qm)).toThrow(InputError);
  });

  it('the device core (both presets, memory latency 1 and 8, decode only and prefill blocks, block RAM and AXI) and its board top pass verilator --lint-only -Wall', async () => {
    const cases = [['sim-small', 8, 1, 'bram'], ['tiny', 1, 4, 'bram'], ['sim-small', 3, 5, 'axi'], ['sim-small', 2, 5, 'bram']] as const;
    for (const [preset, latency, prefillBlock, mem] of cases) {
      const hbm = mem === 'axi' ? { mem, hbm: { masters: 4, axiBits: 64 } } : {};
      const d = llmDeviceConfig(llmPresetConfig(preset, STORIES260K_SHAPE, { hw: { prefillBlock } }), { latency, ...hbm });
      const core = llmDeviceModule(d);
      const p = printDesign(preset === 'tiny' || mem === 'axi' ? core : linkBoardTop(core, linkConfig(), { design: d.design, memWords: d.memWords }).board);
      expect((await lintVerilog(p.files, p.top, { throwOnWarning: false })).messages).toEqual([]);
    }
  }, 240_000);

  it('the layout revision includes the prefill block and the llmdev protocol revision (2: blocks)', () => {
    const one = llmDeviceConfig(llmPresetConfig('sim-small', STORIES260K_SHAPE));
    const eight = llmDeviceConfig(llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { prefillBlock: 8 } }));
    expect(LLMDEV_PROTOCOL).toBe(2);
    expect(layoutRevision(eight)).not.toBe(layoutRevision(one));
    expect(layoutRevision(one, 1)).not.toBe(layoutRevision(one));
    expect([one.idBits, one.countBits, eight.idBits, eight.countBits]).toEqual([9, 0, 9, 3]);
  });
});
