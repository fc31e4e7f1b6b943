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
  /** Positions whose every logit equals the golden decoder's. */
  bitExactSteps: number;
  firstMismatch: { position: number; logit: number; golden: number; engine: number } | null;
  cyclesPerToken: number;
  /** Cycles of GEMV / attention+KV / other ops per token (perf counters). */
  perf: { gemv: number; attn: number; other: number };
  weightBytesPerToken: number;
  traceFile: string | null;
  /** Where the quantised weights came from: a .lfq file, or 'mse' (quantised from the checkpoint). */
  weights: string;
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
  const cfg = w4.length ? llmPresetConfig(req.preset, shapeOf(ckpt.dims), { engine: { w4Matrices: w4 } }) : preset;
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
  try {
    let tok = prompt[0]!;
    for (let p = 0; p < req.tokens; p++) {
      const r = await ses.step(tok, p === 0);
      const g = gold.forward(tok, p);
      const bad = r.logits.length !== g.length ? 0 : r.logits.findIndex((v, j) => v !== g[j]);
      if (bad >= 0) {
        firstMismatch = { position: p, logit: bad, golden: g[bad] ?? NaN, engine: r.logits[bad] ?? NaN };
        break;
      }
      fed.push(tok);
      ids.push(argmax(r.logits));
      cycles += r.cycles;
      perf.gemv += r.perf.gemv;
      perf.attn += r.perf.attn;
      perf.other += r.perf.other;
      bits += r.wBeats * cfg.wPortBits + r.sBeats * cfg.sPortBits + r.auxBeats * cfg.auxBits;
      req.onStep?.(p, req.tokens, ids[p]!);
      tok = p + 1 < prompt.length ? prompt[p + 1]! : ids[p]!;
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
    bitExactSteps: ids.length,
    firstMismatch,
    cyclesPerToken: Math.round(cycles / n),
    perf: { gemv: Math.round(perf.gemv / n), attn: Math.round(perf.attn / n), other: Math.round(perf.other / n) },
    weightBytesPerToken: Math.round(bits / 8 / n),
    traceFile: req.traceFile ?? null,
    weights: quant ?? 'mse',
  };
}
