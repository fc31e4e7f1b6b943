import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../../generator/llm/checkpoint';
import { llmPresetConfig } from '../../../../generator/llm/engine/hw-config';
import { checkBlockStreams, packBlockAux, packModel } from '../../../../generator/llm/engine/pack';
import { blockOrder, unrolled } from '../../../../generator/llm/engine/schedule';
import { shapeOf } from '../../../../generator/llm/model-spec';
import { quantizeModel } from '../../../../generator/llm/quant/model';
import { buildLlmSim } from '../../../../sim/designs/llm';
import { hasModel, MODEL } from '../helpers';
import { prefillAndCompare } from './prefill-helpers';

const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;
// S + W = 12 on sim-small: the prompt is longer, so the ring evicts inside blocks
const PROMPT = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200, 33];

describe.skipIf(!ckpt)('prefill blocks in the engine RTL on stories260K (sim-small) in Verilator', () => {
  if (!ckpt) return;
  const shape = shapeOf(ckpt.dims);
  const cfg = llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 4 } });
  const qm = quantizeModel(ckpt, cfg.engine, { search: 'mse' });

  it('a block runs layer-major, KVW + ATTN token by token, and reads w / s in the decode order', () => {
    const ord = blockOrder(cfg, 3);
    expect(ord.filter((o) => o.op === 'GEMV').length).toBe(unrolled(cfg).filter((o) => o.op === 'GEMV').length);
    const attn0 = ord.filter((o) => o.layer === 0 && (o.op === 'KVW' || o.op === 'ATTN')).map((o) => `${o.op}${o.token}`);
    expect(attn0).toEqual(['KVW0', 'ATTN0', 'KVW1', 'ATTN1', 'KVW2', 'ATTN2']);
    expect(ord.filter((o) => o.norm === 'final').map((o) => o.token)).toEqual([2]);
    expect(blockOrder(cfg, 1).map((o) => o.op)).toEqual(unrolled(cfg).map((o) => o.op));
    expect(() => checkBlockStreams(cfg, 4)).not.toThrow();
  });

  it('refuses a block whose per-token buffers do not fit the on-chip budget, naming prefillBlock and what fits', () => {
    const decodeOnly = llmPresetConfig('sim-small', shape);
    expect(decodeOnly.prefillBits).toBe(0);
    const budget = decodeOnly.onChipBits + cfg.prefillBits;
    expect(llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 4, onChipBudgetBits: budget } }).onChipBits).toBe(budget);
    expect(() => llmPresetConfig('sim-small', shape, { hw: { prefillBlock: 16, onChipBudgetBits: budget } })).toThrow(/prefillBlock.*shrink prefillBlock to 4 or less/);
    expect(() => packBlockAux(cfg, qm, packModel(cfg, qm), [1, 2, 3, 4, 5])).toThrow(/1 to 4/);
  });

  it('the prompt in blocks of 4 (last one partial), then decode: every logit equals the token-by-token golden, with stalls', async () => {
    expect(PROMPT.length).toBeGreaterThan(cfg.engine.cacheSlots);
    const sim = await buildLlmSim(cfg);
    const r = await prefillAndCompare(sim, cfg, qm, PROMPT, 3, { seed: 5, memory: { latency: 3, stall: 0.3 }, logitStall: 0.3 });
    // one weight pass per block: a block moves exactly the words of one decode step
    for (const b of r.blocks) expect([b.wBeats, b.sBeats]).toEqual([r.steps[0]!.wBeats, r.steps[0]!.sBeats]);
  }, 600_000);
});
