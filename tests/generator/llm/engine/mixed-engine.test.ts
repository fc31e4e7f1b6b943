import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../../generator/llm/checkpoint';
import { expandW4Spec, matrixBits, shapeOf, LINEAR_MATS, type ModelShape } from '../../../../generator/llm/model-spec';
import { llmEngineConfig, llmPresetConfig, STORIES260K_SHAPE } from '../../../../generator/llm/engine/hw-config';
import { packModel } from '../../../../generator/llm/engine/pack';
import { randomQuantModel } from '../../../../generator/llm/engine/random';
import { blockOrder, encodeInstr, instrBits, schedule, unrolled } from '../../../../generator/llm/engine/schedule';
import { quantizeModel } from '../../../../generator/llm/quant/model';
import { ConfigError, InputError } from '../../../../generator/util/errors';
import { buildLlmSim } from '../../../../sim/designs/llm';
import { lintVerilog } from '../../../../sim/lint';
import { compileIcarus } from '../../../../sim/icarus';
import { printDesign } from '../../../../generator/hdl';
import { llmEngineModule } from '../../../../generator/llm/engine/rtl';
import { loadQuantModelFor } from '../../../../generator/llm/quant/qmodel-file';
import { hasModel, MODEL } from '../helpers';
import { decodeAndCompare } from './helpers';

const L = STORIES260K_SHAPE.nLayers;
const mixed = (spec: string, hw = {}) => llmPresetConfig('sim-small', STORIES260K_SHAPE, { engine: { w4Matrices: expandW4Spec(spec, L) }, hw });

describe('mixed-precision schedule and config (4-bit linear matrices as two 2-bit digit planes)', () => {
  it('gives exactly the 4-bit matrices two GEMV passes (plane 0 with more, plane 1 reusing x) and the rest one', () => {
    const cfg = mixed('0.*,*.wq,3.w2');
    expect(cfg.linPlanes).toBe(2);
    const gemvs = unrolled(cfg).filter((i) => i.op === 'GEMV' && i.mat !== 'cls');
    for (let l = 0; l < L; l++)
      for (const mat of LINEAR_MATS) {
        const passes = gemvs.filter((i) => i.layer === l && i.mat === mat);
        if (matrixBits(cfg.engine, l, mat) === 4) {
          expect(passes.map((p) => [p.plane, Boolean(p.more), p.reuse]), `${l}.${mat}`).toEqual([[0, true, mat !== 'wq' && mat !== 'wo' && mat !== 'w1' && mat !== 'w2'], [1, false, true]]);
        } else expect(passes.map((p) => [p.plane ?? 0, Boolean(p.more)]), `${l}.${mat}`).toEqual([[0, false]]);
      }
    expect(gemvs.length).toBe(7 * L + cfg.engine.w4Matrices.length);
    // the classifier's planes are unchanged and never carry `more`
    expect(unrolled(cfg).filter((i) => i.mat === 'cls' && i.op === 'GEMV').map((i) => [i.plane, Boolean(i.more)])).toEqual(
      Array.from({ length: cfg.clsPasses }, (_, p) => [p, false]));
  });

  it('lists every layer body in the ROM when layers differ, loops one body when they agree, and the controller walk matches', () => {
    const differ = mixed('0.*,*.wq');
    const s = schedule(differ);
    expect(s.loop).toBe(false);
    expect(s.rom.filter((i) => i.layerEnd).length).toBe(L);
    expect(s.rom[s.bodyEnd]!.layerEnd).toBe(true);
    const key = (i: { op: string; mat?: string; plane?: number; more?: boolean; layer: number }) => `${i.op}:${i.mat ?? ''}:${i.plane ?? 0}:${i.more ? 1 : 0}:${i.layer}`;
    expect(blockOrder(differ, 1).map(key)).toEqual(unrolled(differ).map(key));
    for (const cfg of [mixed('*.wq'), llmPresetConfig('sim-small', STORIES260K_SHAPE, { engine: { wBits: 4 } })]) {
      const sl = schedule(cfg);
      expect(sl.loop).toBe(true);
      expect(sl.rom.some((i) => i.layerEnd)).toBe(false);
      expect(blockOrder(cfg, 1).map(key)).toEqual(unrolled(cfg).map(key));
    }
    // wBits 4: every linear matrix is two passes
    const w4 = llmPresetConfig('sim-small', STORIES260K_SHAPE, { engine: { wBits: 4 } });
    expect(unrolled(w4).filter((i) => i.op === 'GEMV' && i.mat !== 'cls').length).toBe(14 * L);
  });

  it('keeps the 16-bit instruction word of W2 engines and widens it only with 4-bit matrices', () => {
    const w2 = llmPresetConfig('sim-small', STORIES260K_SHAPE);
    expect(instrBits(w2)).toBe(16);
    expect(schedule(w2).rom.every((i) => encodeInstr(i) < 2 ** 16)).toBe(true);
    const mx = mixed('0.wq');
    expect(instrBits(mx)).toBe(18);
    expect(Math.max(...schedule(mx).rom.map(encodeInstr))).toBeGreaterThanOrEqual(2 ** 17);
  });

  it('sizes the LOG accumulator memory for the largest linear matrix when 4-bit matrices exist', () => {
    const shape: ModelShape = { dim: 16, hiddenDim: 40, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 8, kvDim: 8, vocabSize: 24, seqLen: 64 };
    const hw = { lanes: 4, simd: 8, vpar: 4 };
    const plain = llmEngineConfig(shape, hw, { wGroup: 16, kvGroup: 4, sinks: 1, window: 3, clsBits: 2 });
    const mx = llmEngineConfig(shape, hw, { wGroup: 16, kvGroup: 4, sinks: 1, window: 3, clsBits: 2, w4Matrices: ['1.w1'] });
    expect(plain.depth.log * plain.P).toBeLessThan(40);
    expect(mx.depth.log * mx.P).toBeGreaterThanOrEqual(40);
    expect(mx.logAccBits).toBeGreaterThanOrEqual(32 + 2 + 1);
    expect(mx.onChipBits).toBeGreaterThan(plain.onChipBits);
  });

  it('refuses what it does not run, naming the parameter', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    };
    const pf = err(() => mixed('0.wq', { prefillBlock: 4 }));
    expect(pf).toBeInstanceOf(ConfigError);
    expect(pf.message).toMatch(/prefillBlock.*prefillBlock 1/s);
    const w8 = err(() => llmPresetConfig('sim-small', STORIES260K_SHAPE, { engine: { wBits: 8 } }));
    expect(w8).toBeInstanceOf(ConfigError);
    expect(w8.message).toMatch(/wBits.*2 or 4/s);
    const sp = err(() => llmPresetConfig('sim-small', STORIES260K_SHAPE, { engine: { wBits: 4, wSparsity: '2:4' } }));
    expect(sp).toBeInstanceOf(ConfigError);
    expect(sp.message).toMatch(/wSparsity/);
  });

  it('refuses to pack a model whose matrix widths differ from the engine\'s (W2-only model on a mixed engine and back)', () => {
    const shape: ModelShape = { dim: 16, hiddenDim: 24, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 8, kvDim: 8, vocabSize: 20, seqLen: 64 };
    const hw = { lanes: 4, simd: 8, vpar: 4 };
    const eng = { wGroup: 16, kvGroup: 4, sinks: 1, window: 3 };
    const mx = llmEngineConfig(shape, hw, { ...eng, w4Matrices: ['0.wk'] });
    const w2 = llmEngineConfig(shape, hw, eng);
    expect(() => packModel(mx, randomQuantModel(shape, eng, 1))).toThrow(InputError);
    expect(() => packModel(mx, randomQuantModel(shape, eng, 1))).toThrow(/wk \(layer 0\) has 2-bit codes.*4-bit/);
    expect(() => packModel(w2, randomQuantModel(shape, { ...eng, w4Matrices: ['0.wk'] }, 1))).toThrow(/4-bit codes/);
    // the mixed image carries one more wk pass: rows/lanes x column steps more weight words
    const words = (c: typeof mx) => packModel(c, randomQuantModel(shape, c.engine, 1)).wWords;
    expect(words(mx) - words(w2)).toBe(Math.ceil(8 / 4) * (16 / 8));
  });
});

describe('decode engine with 4-bit linear matrices in Verilator', () => {
  it('passes verilator --lint-only -Wall and compiles in Icarus (per-layer ROM bodies, and wBits 4 with one body)', async () => {
    for (const cfg of [mixed('0.*,*.wq'), llmPresetConfig('tiny', STORIES260K_SHAPE, { engine: { wBits: 4 } })]) {
      const d = printDesign(llmEngineModule(cfg));
      const lint = await lintVerilog(d.files, d.top, { throwOnWarning: false });
      expect(lint.messages).toEqual([]);
      await compileIcarus(d.files, d.top);
    }
  }, 300_000);

  it('a random 2-layer model with 4-bit w1 / w2 in layer 1 only (LOG deeper than the vocabulary): bit-exact with stalls', async () => {
    const shape: ModelShape = { dim: 16, hiddenDim: 40, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 8, kvDim: 8, vocabSize: 24, seqLen: 64 };
    const eng = { wGroup: 16, kvGroup: 4, sinks: 1, window: 3, w4Matrices: ['1.w1', '1.w2'] };
    const cfg = llmEngineConfig(shape, { lanes: 4, simd: 8, vpar: 4 }, eng);
    expect(schedule(cfg).loop).toBe(false);
    expect(cfg.depth.log * cfg.P).toBeGreaterThanOrEqual(shape.hiddenDim);
    const qm = randomQuantModel(shape, eng, 77);
    expect([qm.layers[1]!.w1.bits, qm.layers[0]!.w1.bits]).toEqual([4, 2]);
    const sim = await buildLlmSim(cfg);
    await decodeAndCompare(sim, cfg, qm, [3, 9], 7, { seed: 21, memory: { latency: 2, stall: 0.3 }, logitStall: 0.3 });
  }, 600_000);

  const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;
  it.skipIf(!ckpt)('stories260K with layer 0 and every wq 4-bit: every logit equals the golden decoder, with stalls', async () => {
    const cfg = llmPresetConfig('sim-small', shapeOf(ckpt!.dims), { engine: { w4Matrices: expandW4Spec('0.*,*.wq', L) } });
    const qm = quantizeModel(ckpt!, cfg.engine, { search: 'mse' });
    expect([qm.layers[0]!.w2.bits, qm.layers[3]!.wq.bits, qm.layers[3]!.wk.bits]).toEqual([4, 4, 2]);
    const sim = await buildLlmSim(cfg);
    await decodeAndCompare(sim, cfg, qm, [1, 403, 27], 6, { seed: 9, memory: { latency: 3, stall: 0.3 }, logitStall: 0.3 });
  }, 600_000);

  const qat = new URL('../../../../models/stories260K-W4A8KV4-qat.lfq', import.meta.url).pathname;
  it.skipIf(!ckpt)('wBits 4: the shipped W4A8KV4 QAT model runs bit-exact (every linear matrix as two planes)', async () => {
    const cfg = llmPresetConfig('sim-small', shapeOf(ckpt!.dims), { engine: { wBits: 4 } });
    const qm = loadQuantModelFor(qat, cfg.engine, ckpt!);
    const sim = await buildLlmSim(cfg);
    await decodeAndCompare(sim, cfg, qm, [1], 3, { seed: 4, memory: { latency: 3, stall: 0.2 }, logitStall: 0.2 });
  }, 600_000);
});
