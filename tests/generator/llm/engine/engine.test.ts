import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../../generator/llm/checkpoint';
import { shapeOf } from '../../../../generator/llm/model-spec';
import { llmPresetConfig, llmEngineConfig } from '../../../../generator/llm/engine/hw-config';
import { randomCase, randomQuantModel } from '../../../../generator/llm/engine/random';
import { quantizeModel } from '../../../../generator/llm/quant/model';
import { Rng } from '../../../../generator/util/rng';
import { buildLlmSim, LlmSession } from '../../../../sim/designs/llm';
import { GoldenDecoder } from '../../../../generator/llm/golden/decoder';
import { hasModel, MODEL } from '../helpers';
import { argmaxOf, decodeAndCompare } from './helpers';
import { tokenOpCycles } from '../../../../generator/llm/prefill/cycles';

const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;

describe.skipIf(!ckpt)('decode engine on stories260K (sim-small preset) in Verilator', () => {
  const cfg = llmPresetConfig('sim-small', shapeOf(ckpt!.dims));
  const qm = quantizeModel(ckpt!, cfg.engine, { search: 'mse' });

  it('equals the golden decoder bit for bit for 20 steps from BOS, past S+W (ring wraps, sinks stay)', async () => {
    const sim = await buildLlmSim(cfg);
    const steps = 20;
    expect(steps).toBeGreaterThan(cfg.engine.cacheSlots + 4);
    const r = await decodeAndCompare(sim, cfg, qm, [1], steps, { memory: { latency: 8 } });
    expect(r.tokens).toHaveLength(steps);
  }, 600_000);

  it('equals the golden decoder from a prompt of ids, with stalls on the memory port and the logits stream', async () => {
    const sim = await buildLlmSim(cfg);
    const prompt = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200];
    await decodeAndCompare(sim, cfg, qm, prompt, 18, { seed: 5, memory: { latency: 3, stall: 0.3 }, logitStall: 0.3 });
  }, 600_000);
});

describe.skipIf(!ckpt)('decode engine with weight prefetch FIFOs behind a bandwidth-limited memory', () => {
  it('stays bit-exact, never moves more than the memory\'s bytes per cycle, and the FIFO hides vector-unit time', async () => {
    const shape = shapeOf(ckpt!.dims);
    const base = llmPresetConfig('sim-small', shape, { hw: { slotPar: 4 } });
    const fifo = llmPresetConfig('sim-small', shape, { hw: { slotPar: 4, wFifo: 64 } });
    const qm = quantizeModel(ckpt!, base.engine, { search: 'mse' });
    // 85% of what the GEMV unit consumes: the GEMV array is faster than the memory, as on the u280 preset.
    const bpc = (0.85 * (base.wPortBits + base.sPortBits / base.gemv.stepsPerGroup)) / 8;
    const run = async (cfg: typeof base) => {
      const sim = await buildLlmSim(cfg, { bytesPerCycle: bpc });
      const ses = await LlmSession.start(sim, cfg, qm, { memory: { latency: 4 } });
      const gold = new GoldenDecoder(qm);
      let cycles = 0;
      let tok = 1;
      try {
        for (let p = 0; p < 4; p++) {
          const r = await ses.step(tok, p === 0);
          const g = Array.from(gold.forward(tok, p));
          expect(r.logits).toEqual(g);
          // the attention + KV-write counter equals the cycle model's op lengths (exp pass: two rows per cycle)
          expect(r.perf.attn).toBe(cfg.engine.model.nLayers * (tokenOpCycles(cfg).kvw + tokenOpCycles(cfg).attn));
          const bytes = (r.wBeats * cfg.wPortBits + r.sBeats * cfg.sPortBits) / 8;
          // at most the initial credit (one word pair + one cycle's rate) beyond the rate
          expect(bytes).toBeLessThanOrEqual(bpc * (r.cycles + 1) + (cfg.wPortBits + cfg.sPortBits) / 8);
          cycles += r.cycles;
          tok = argmaxOf(g);
        }
        await ses.finish();
      } finally {
        ses.kill();
      }
      return cycles;
    };
    const [plain, withFifo] = [await run(base), await run(fifo)];
    expect(withFifo).toBeLessThan(plain);
  }, 600_000);
});

describe('decode engine on seeded random configurations', () => {
  const rng = new Rng(4242);
  const cases = [randomCase(rng), randomCase(rng)];
  for (const [n, rc] of cases.entries())
    it(`case ${n}: dim ${rc.model.dim} heads ${rc.model.nHeads}/${rc.model.nKvHeads} hidden ${rc.model.hiddenDim} S ${rc.engine.sinks} W ${rc.engine.window} ` +
      `kvGroup ${rc.engine.kvGroup} group ${rc.engine.wGroup} lanes ${rc.hw.lanes} simd ${rc.hw.simd} vpar ${rc.hw.vpar} slotPar ${rc.hw.slotPar} fifo ${rc.hw.wFifo}`, async () => {
      const cfg = llmEngineConfig(rc.model, rc.hw, rc.engine);
      const qm = randomQuantModel(rc.model, rc.engine, 100 + n);
      const sim = await buildLlmSim(cfg);
      const steps = cfg.engine.cacheSlots + 4;
      const prompt = Array.from({ length: 3 }, (_, j) => (7 * j + 1) % rc.model.vocabSize);
      await decodeAndCompare(sim, cfg, qm, prompt, steps, { seed: 11 + n, memory: { latency: 5, stall: 0.25 }, logitStall: 0.2 });
    }, 600_000);
});
