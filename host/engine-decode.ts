/**
 * Greedy decode on the generated W2A8KV4 engine in Verilator, every step's logits checked against the integer golden
 * decoder. Shared by `lutforge demo` and `lutforge sim llm`.
 */
import { existsSync } from 'node:fs';
import { loadModel } from '../generator/llm/model-file';
import { shapeOf } from '../generator/llm/model-spec';
import { llmPresetConfig } from '../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../generator/llm/golden/decoder';
import { relative } from 'node:path';
import { quantizeModel } from '../generator/llm/quant/model';
import { loadQuantModelFor, quantModelCodeParams } from '../generator/llm/quant/qmodel-file';
import { shippedQuantModels } from '../generator/llm/qat/shipped';
import { ConfigError, InputError } from '../generator/util/errors';
import { buildLlmSim, LlmSession } from '../sim/designs/llm';
import { argmax } from '../generator/llm/float-model';

export interface EngineDecodeRequest {
  model: string;
  preset: string;
  /** Positions to run; the prompt's ids are fed first, then the golden argmax. */
  tokens: number;
  prompt?: number[];
  /** Probability of a stall per cycle on the memory streams and the logits stream. */
  stall?: number;
  /** Memory latency in cycles before each step's first word. */
  latency?: number;
  seed?: number;
  traceFile?: string;
  /**
   * Weights: a quantised model file (`llm qat --out`), 'shipped' (the repository's W2 QAT model for this checkpoint
   * and the preset's group size, else MSE quantisation), or absent (MSE quantisation of the checkpoint).
   */
  quant?: string;
  /**
   * Consume the prompt in prefill blocks (docs/llm-engine.md#prefill-in-the-engine-rtl): `block` tokens per group,
   * `groups` in flight (1 or 2), the DSP half; each block's last-token logits are checked. Absent: token by token.
   */
  prefill?: { block: number; groups?: number; dsp?: boolean };
  onStep?: (position: number, tokens: number, id: number) => void;
  onPhase?: (what: string) => void;
}

export interface EngineDecodeReport {
  model: string;
  preset: string;
  config: { lanes: number; simd: number; vpar: number; sinks: number; window: number; wGroup: number };
  prompt: number[];
  /** Token fed at each position. */
  fed: number[];
  /** Engine argmax after each position. */
  ids: number[];
  /** Outputs (decode steps, and prefill blocks' last tokens) whose every logit equals the golden decoder's. */
  bitExactSteps: number;
  /** Outputs the run was to check: every position token by token; each prefill block and each decode step after it. */
  checkedOutputs: number;
  firstMismatch: { position: number; logit: number; golden: number; engine: number } | null;
  cyclesPerToken: number;
  /** Cycles of GEMV / attention+KV / other ops per token (perf counters). */
  perf: { gemv: number; attn: number; other: number };
  weightBytesPerToken: number;
  traceFile: string | null;
  /** Where the quantised weights came from: a .lfq file, or 'mse' (quantised from the checkpoint). */
  weights: string;
  /** Prefill: the blocks the prompt went in (tokens each) and their cycles per prompt token; null token by token. */
  prefill: { block: number; groups: number; dsp: boolean; blocks: number[]; promptCyclesPerToken: number } | null;
}


export async function decodeOnEngine(req: EngineDecodeRequest): Promise<EngineDecodeReport> {
  if (!existsSync(req.model)) throw new InputError(`model file ${req.model} not found (pass --model FILE, a GGUF or llama2.c checkpoint)`);
  if (!Number.isInteger(req.tokens) || req.tokens < 1) throw new ConfigError('tokens', 'must be an integer >= 1', req.tokens);
  const { ckpt } = await loadModel(req.model);
  const prompt = req.prompt ?? [1];
  for (const t of prompt) if (!Number.isInteger(t) || t < 0 || t >= ckpt.dims.vocabSize) throw new ConfigError('prompt-ids', `ids must be in 0..${ckpt.dims.vocabSize - 1}`, t);
  const preset = llmPresetConfig(req.preset, shapeOf(ckpt.dims));
  // 'shipped' = the uniform QAT model of the preset's code format (not the mixed-precision one).
  const quant =
    req.quant === 'shipped'
      ? shippedQuantModels(ckpt).find((m) => m.wBits === preset.engine.wBits && m.wGroup === preset.engine.wGroup && !m.w4Matrices.length)?.path
      : req.quant;
  // A mixed-precision file brings its 4-bit matrices into the engine config.
  const w4 = quant ? quantModelCodeParams(quant).w4Matrices : [];
  const pf = req.prefill;
  const hw = pf ? { prefillBlock: pf.block, prefillGroups: pf.groups ?? 1, prefillDsp: pf.dsp ?? false } : undefined;
  const cfg = w4.length || hw ? llmPresetConfig(req.preset, shapeOf(ckpt.dims), { ...(w4.length && { engine: { w4Matrices: w4 } }), ...(hw && { hw }) }) : preset;
  if (pf && prompt.length > req.tokens) throw new ConfigError('tokens', `must cover the prompt (${prompt.length} ids) when prefilling`, req.tokens);
  req.onPhase?.(`${quant ? `loading ${relative(process.cwd(), quant)}` : 'quantising'} (W2A8KV4, S=${cfg.engine.sinks} W=${cfg.engine.window}) and building the ${req.preset} engine in Verilator`);
  const qm = quant ? loadQuantModelFor(quant, cfg.engine, ckpt) : quantizeModel(ckpt, cfg.engine, { search: 'mse' });
  const sim = await buildLlmSim(cfg, { trace: !!req.traceFile });
  const gold = new GoldenDecoder(qm);
  const stall = req.stall ?? 0;
  const ses = await LlmSession.start(sim, cfg, qm, { memory: { latency: req.latency ?? 8, stall }, logitStall: stall, seed: req.seed ?? 1, traceFile: req.traceFile });
  const fed: number[] = [];
  const ids: number[] = [];
  const perf = { gemv: 0, attn: 0, other: 0 };
  let cycles = 0;
  let bits = 0;
  let firstMismatch: EngineDecodeReport['firstMismatch'] = null;
  const blocks: number[] = [];
  let promptCycles = 0;
  let exact = 0;
  try {
    let tok = prompt[0]!;
    // prefill: the prompt in blocks of cfg.blockTokens, each block's last-token logits against the golden's
    if (pf)
      for (let start = 0; start < prompt.length && !firstMismatch; start += cfg.blockTokens) {
        const blk = prompt.slice(start, start + cfg.blockTokens);
        const r = await ses.block(blk, start === 0);
        let g: ArrayLike<number> = [];
        for (let j = 0; j < blk.length; j++) g = gold.forward(blk[j]!, start + j);
        const last = start + blk.length - 1;
        const bad = r.logits.length !== g.length ? 0 : r.logits.findIndex((v, j) => v !== g[j]);
        if (bad >= 0) firstMismatch = { position: last, logit: bad, golden: g[bad] ?? NaN, engine: r.logits[bad] ?? NaN };
        else exact++;
        fed.push(...blk);
        blocks.push(blk.length);
        promptCycles += r.cycles;
        req.onStep?.(last, req.tokens, argmax(r.logits));
        tok = last + 1 < prompt.length ? prompt[last + 1]! : argmax(r.logits);
        if (last === prompt.length - 1) ids.push(argmax(r.logits));
      }
    for (let p = pf ? prompt.length : 0; p < req.tokens && !firstMismatch; p++) {
      const r = await ses.step(tok, p === 0);
      const g = gold.forward(tok, p);
      const bad = r.logits.length !== g.length ? 0 : r.logits.findIndex((v, j) => v !== g[j]);
      if (bad >= 0) {
        firstMismatch = { position: p, logit: bad, golden: g[bad] ?? NaN, engine: r.logits[bad] ?? NaN };
        break;
      }
      fed.push(tok);
      const id = argmax(r.logits);
      ids.push(id);
      exact++;
      cycles += r.cycles;
      perf.gemv += r.perf.gemv;
      perf.attn += r.perf.attn;
      perf.other += r.perf.other;
      bits += r.wBeats * cfg.wPortBits + r.sBeats * cfg.sPortBits + r.auxBeats * cfg.auxBits;
      req.onStep?.(p, req.tokens, id);
      tok = p + 1 < prompt.length ? prompt[p + 1]! : id;
    }
    await ses.finish();
  } finally {
    ses.kill();
  }
  const n = Math.max(1, ids.length);
  return {
    model: req.model,
    preset: req.preset,
    config: { lanes: cfg.hw.lanes, simd: cfg.hw.simd, vpar: cfg.hw.vpar, sinks: cfg.engine.sinks, window: cfg.engine.window, wGroup: cfg.engine.wGroup },
    prompt,
    fed,
    ids,
    bitExactSteps: exact,
    checkedOutputs: pf ? blocks.length + Math.max(0, req.tokens - prompt.length) : req.tokens,
    firstMismatch,
    cyclesPerToken: Math.round(cycles / n),
    perf: { gemv: Math.round(perf.gemv / n), attn: Math.round(perf.attn / n), other: Math.round(perf.other / n) },
    weightBytesPerToken: Math.round(bits / 8 / n),
    traceFile: req.traceFile ?? null,
    weights: quant ?? 'mse',
    prefill: pf ? { block: pf.block, groups: pf.groups ?? 1, dsp: pf.dsp ?? false, blocks, promptCyclesPerToken: Math.round(promptCycles / Math.max(1, prompt.length)) } : null,
  };
}
