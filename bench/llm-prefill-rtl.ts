/**
 * Measured prefill in the engine RTL (docs/llm-engine.md#prefill-in-the-engine-rtl): stories260K on the sim-small
 * preset in Verilator, cycles per prompt token token by token against prefill blocks, at the preset's full memory
 * rate and behind a bytes-per-cycle limited memory. Every block's and every step's logits are checked against the
 * golden decoder fed token by token. Each block size runs on the LUT GEMV array alone and with the DSP half beside it
 * (hw prefillDsp: three tokens per held weight word instead of one).
 */
import { llmPresetConfig, LLM_PRESETS } from '../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../generator/llm/golden/decoder';
import type { ModelShape } from '../generator/llm/model-spec';
import type { QuantModel } from '../generator/llm/quant/model';
import { buildLlmSim, LlmSession } from '../sim/designs/llm';
import { engineGemvBlockCycles, engineGroupsBlockCycles, vectorCyclesPerToken } from '../generator/llm/prefill/cycles';

export interface EngineRtlPrefillRow {
  /** Tokens per block (tok beat); with two groups in flight, prefillBlock = block / 2 per group. */
  block: number;
  prefillGroups: number;
  /** The DSP half beside the LUT array (hw prefillDsp). */
  prefillDsp: boolean;
  /** w + s bytes per cycle of the memory model; null = the preset's (one word per cycle per port). */
  memBytesPerCycle: number | null;
  memLatency: number;
  promptTokens: number;
  cyclesPerPromptToken: number;
  tokenByTokenCyclesPerToken: number;
  speedup: number;
  /** Prefill's cycles per prompt token by the engine's perf counters: GEMV ops, attention + KV write, other ops. */
  prefillPerf: { gemv: number; attn: number; other: number };
  /** The prefill cycle model's engine GEMV time per prompt token (cycles.ts engineGemvBlockCycles), full-rate memory only. */
  gemvModelCyclesPerPromptToken: number | null;
  /**
   * The cycle model's whole block time per prompt token, full-rate memory only: GEMV + every token's vector work in
   * series (one group), or the two queues' event model (cycles.ts engineGroupsBlockCycles).
   */
  blockModelCyclesPerPromptToken: number | null;
  bitExact: boolean;
}

/** A prompt longer than S + W (the ring evicts inside blocks) whose length is a multiple of every block measured. */
export const RTL_PROMPT = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200, 33, 90, 410, 3, 77, 140, 260, 5, 321, 99];

export async function engineRtlPrefill(shape: ModelShape, qm: QuantModel, opts: { blocks?: number[]; dsp?: boolean[]; groups?: number[]; memBytesPerCycle?: Array<number | null> } = {}): Promise<EngineRtlPrefillRow[]> {
  const memory = LLM_PRESETS['sim-small'].memory;
  const gold = new GoldenDecoder(qm);
  const want = RTL_PROMPT.map((t, p) => Array.from(gold.forward(t, p)));
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, j) => v === b[j]);
  const rows: EngineRtlPrefillRow[] = [];
  for (const bpc of opts.memBytesPerCycle ?? [null, 2])
    for (const block of opts.blocks ?? [4, 8])
      for (const groups of opts.groups ?? [1, 2])
      for (const dsp of opts.dsp ?? [false, true]) {
        // two groups in flight: measured at the full memory rate (they read each weight twice per block)
        if (groups > 1 && bpc !== null) continue;
        const cfg = llmPresetConfig('sim-small', shape, { hw: { prefillBlock: block / groups, prefillDsp: dsp, prefillGroups: groups } });
        const sim = await buildLlmSim(cfg, { bytesPerCycle: bpc ?? undefined });
        let exact = true;
        // token by token on the same RTL (a decode step is a block of one)
        let tbt = 0;
        const a = await LlmSession.start(sim, cfg, qm, { memory });
        try {
          for (let p = 0; p < RTL_PROMPT.length; p++) {
            const r = await a.step(RTL_PROMPT[p]!, p === 0);
            tbt += r.cycles;
            exact &&= same(r.logits, want[p]!);
          }
          await a.finish();
        } finally {
          a.kill();
        }
        let pre = 0;
        const perf = { gemv: 0, attn: 0, other: 0 };
        const b = await LlmSession.start(sim, cfg, qm, { memory });
        try {
          for (let s = 0; s < RTL_PROMPT.length; s += block) {
            const blk = RTL_PROMPT.slice(s, s + block);
            const r = await b.block(blk, s === 0);
            pre += r.cycles;
            for (const k of ['gemv', 'attn', 'other'] as const) perf[k] += r.perf[k];
            exact &&= same(r.logits, want[s + blk.length - 1]!);
          }
          await b.finish();
        } finally {
          b.kill();
        }
        const n = RTL_PROMPT.length;
        const blockModel = groups > 1 ? engineGroupsBlockCycles(cfg, block).cycles : engineGemvBlockCycles(cfg, block) + block * vectorCyclesPerToken(cfg);
        rows.push({ block, prefillGroups: groups, prefillDsp: dsp, blockModelCyclesPerPromptToken: bpc === null && n % block === 0 ? blockModel / block : null, memBytesPerCycle: bpc, memLatency: memory.latency, promptTokens: n, cyclesPerPromptToken: pre / n, tokenByTokenCyclesPerToken: tbt / n, speedup: tbt / pre, prefillPerf: { gemv: perf.gemv / n, attn: perf.attn / n, other: perf.other / n },
          gemvModelCyclesPerPromptToken: groups === 1 && bpc === null && n % block === 0 ? engineGemvBlockCycles(cfg, block) / block : null, bitExact: exact });
      }
  return rows;
}
