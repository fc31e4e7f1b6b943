import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../generator/llm/checkpoint';
import { argmax } from '../../../generator/llm/float-model';
import { gemvConfig } from '../../../generator/llm/gemv/config';
import { w2GemmAcc, w2GemvAcc } from '../../../generator/llm/gemv/golden';
import { randomInt8, randomSparse24Matrix, randomW2Matrix } from '../../../generator/llm/gemv/random';
import { GoldenDecoder } from '../../../generator/llm/golden/decoder';
import { engineConfig, shapeOf } from '../../../generator/llm/model-spec';
import { quantizeModel, type QuantModel } from '../../../generator/llm/quant/model';
import { generateWithPrefill, prefillPrompt } from '../../../generator/llm/prefill/run';
import { generateGreedy } from '../../../generator/llm/float-model';
import { llmPresetConfig } from '../../../generator/llm/engine/hw-config';
import { prefillConfig } from '../../../generator/llm/prefill/config';
import { gemmPassCycles, prefillCycles } from '../../../generator/llm/prefill/cycles';
import { Rng } from '../../../generator/util/rng';
import { hasModel, MODEL } from './helpers';

const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;

describe('weights-stationary GEMM (the prefill array order)', () => {
  it('equals one GEMV per token, dense and 2:4, with partial groups', () => {
    const rng = new Rng(5);
    const cfg = gemvConfig({ lanes: 4, simd: 8, group: 16, maxCols: 256 });
    for (const m of [randomW2Matrix(rng, cfg, 9, 40), randomSparse24Matrix(rng, cfg, 7, 52)]) {
      const xs = Array.from({ length: 5 }, () => randomInt8(rng, m.cols));
      const got = w2GemmAcc(m, xs);
      xs.forEach((x, t) => expect(Array.from(got[t]!)).toEqual(Array.from(w2GemvAcc(m, x))));
    }
  });
});

/** Token-by-token: the logits after the last prompt token, then `gen` greedy steps. */
function tokenByToken(qm: QuantModel, prompt: number[], gen: number): number[][] {
  const d = new GoldenDecoder(qm);
  let l: Float64Array = new Float64Array();
  prompt.forEach((t, p) => (l = d.forward(t, p)));
  const out = [Array.from(l)];
  for (let i = 0; i < gen; i++) out.push(Array.from(d.forward(argmax(l), prompt.length + i)));
  return out;
}

describe.skipIf(!ckpt)('prefill golden on stories260K: bit-exact with the token-by-token decoder', () => {
  if (!ckpt) return;
  const shape = shapeOf(ckpt.dims);
  // S + W = 12: every prompt below is longer than the window, so the ring evicts inside blocks.
  const prompt = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200, 33, 90, 410, 5, 61, 222, 18, 301, 77];
  for (const sparsity of ['dense', '2:4'] as const) {
    const cfg = engineConfig(shape, { sinks: 2, window: 10, ...(sparsity === '2:4' && { wSparsity: '2:4' as const }) });
    const qm = quantizeModel(ckpt, cfg, { search: 'mse' });
    const want = tokenByToken(qm, prompt, 6);
    for (const block of [1, 5, 8, 23]) {
      it(`${sparsity}, block ${block}: the prompt's last logits and 6 generated tokens`, () => {
        expect(prompt.length).toBeGreaterThan(cfg.cacheSlots);
        const d = new GoldenDecoder(qm);
        let l = prefillPrompt(d, prompt, block);
        const got = [Array.from(l)];
        for (let i = 0; i < 6; i++) got.push(Array.from((l = d.forward(argmax(l), prompt.length + i))));
        expect(got).toEqual(want);
      });
    }
  }

  it('generateWithPrefill (llm run) gives generateGreedy\'s ids, also when --tokens ends inside the prompt', () => {
    const cfg = engineConfig(shape, { sinks: 2, window: 10 });
    const qm = quantizeModel(ckpt, cfg, { search: 'mse' });
    for (const steps of [30, 9]) expect(generateWithPrefill(new GoldenDecoder(qm), prompt, steps, 8)).toEqual(generateGreedy(new GoldenDecoder(qm), prompt, steps));
  });

  it('refuses a prompt longer than the context, and a block size below 1', () => {
    const cfg = engineConfig(shape, { sinks: 2, window: 10 });
    const qm = quantizeModel(ckpt, cfg, { search: 'mse' });
    const long = Array.from({ length: shape.seqLen + 1 }, (_, i) => 1 + (i % 100));
    expect(() => prefillPrompt(new GoldenDecoder(qm), long, 64)).toThrow(/exceed the model's context of 512.*shorten the prompt/);
    expect(() => prefillPrompt(new GoldenDecoder(qm), [1, 2], 0)).toThrow(/block/);
  });
});

describe('prefill golden on seeded random models (GQA, S = 0, W = 1, dense and 2:4)', () => {
  it('prompt logits and generated tokens equal token-by-token decoding for random blocks', async () => {
    const { randomCase, randomQuantModel } = await import('../../../generator/llm/engine/random');
    const rng = new Rng(77);
    for (let k = 0; k < 6; k++) {
      const rc = randomCase(rng);
      const engine = { ...rc.engine, ...(k % 2 && { wSparsity: '2:4' as const, wGroup: 16 }) };
      const qm = randomQuantModel(rc.model, engine, 100 + k);
      const prompt = Array.from({ length: rng.int(2, 20) }, () => rng.int(0, rc.model.vocabSize - 1));
      const want = tokenByToken(qm, prompt, 4);
      const d = new GoldenDecoder(qm);
      let l = prefillPrompt(d, prompt, rng.int(1, 9));
      const got = [Array.from(l)];
      for (let i = 0; i < 4; i++) got.push(Array.from((l = d.forward(argmax(l), prompt.length + i))));
      expect(got).toEqual(want);
    }
  });
});

describe('prefill config and cycle model', () => {
  const shape = { dim: 4096, hiddenDim: 11008, nLayers: 32, nHeads: 32, nKvHeads: 32, headDim: 128, kvDim: 4096, vocabSize: 32000, seqLen: 4096 };
  const cfg = llmPresetConfig('u280', shape, { engine: { kvGroup: 128, sinks: 4, window: 124, wSparsity: '2:4' } });

  it('refuses a block that does not fit on chip, naming block and the largest that fits, and a DSP array larger than the part', () => {
    expect(() => prefillConfig(cfg, { block: 128 })).toThrow(/'block'.*Mbit of on-chip activation storage.*shrink block to <= \d+/);
    expect(() => prefillConfig(cfg, { dspLanes: 512, dspPerLane: 32 })).toThrow(/'dspLanes'.*the part has 9024/);
  });

  it('a weight pass takes rows x columns x tokens / products cycles when compute-bound, and the memory time when not', () => {
    const pc = prefillConfig(cfg, { block: 32 });
    // 2:4: LUT array 128 lanes x 64 columns, one token per cycle; DSP array 128 lanes x 64 columns, two tokens per cycle.
    const wq = gemmPassCycles(pc, cfg, 4096, 4096, 32, 2044);
    const ideal = (4096 * 2048 * 32) / (4096 + 8192); // kept weights x tokens / products per cycle
    expect(pc.peakProducts).toBe(4096 + 8192);
    expect(wq.compute).toBeGreaterThanOrEqual(ideal);
    expect(wq.compute).toBeLessThan(1.05 * ideal);
    expect(wq.lutRows % 128).toBe(0);
    const one = gemmPassCycles(pc, cfg, 4096, 4096, 1, 2044);
    expect(one.memory).toBeGreaterThan(one.compute);
    expect(one.cycles).toBeGreaterThanOrEqual(one.memory);
  });

  it('prefill is array-bound: utilisation above 0.9 and the last token pays the classifier once', () => {
    const pc = prefillConfig(cfg, { block: 32 });
    const e = prefillCycles(pc, cfg, 1000, { bytesPerCycle: 2044, clsCycles: 1e5, clockHz: 225e6 });
    expect(e.groups).toBe(32);
    expect(e.tailCycles).toBeGreaterThan(1e5);
    expect(e.macUtilisation).toBeGreaterThan(0.9);
    expect(e.cycles).toBeGreaterThan(e.arrayBusy);
  });
});

describe('U280 resource budget', () => {
  it('adds the parts and the shell share, extrapolates per lane, and says when the part is exceeded', async () => {
    const { budget, extrapolate, U280_PART } = await import('../../../generator/llm/prefill/resources');
    expect(extrapolate({ lanes: 2, r: { luts: 100, ffs: 10, dsp: 4 } }, { lanes: 4, r: { luts: 180, ffs: 14, dsp: 8 } }, 128)).toEqual({ luts: 5140, ffs: 262, dsp: 256 });
    const ok = budget({ a: { luts: 1000, ffs: 0, dsp: 8200 } });
    expect(ok.total.dsp).toBe(8200 + Math.round(0.1 * U280_PART.dsp));
    expect(ok.fits).toBe(false);
    expect(budget({ a: { luts: 1000, ffs: 0, dsp: 100 } }).fits).toBe(true);
  });
});
