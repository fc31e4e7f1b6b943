/**
 * Drive the decode engine in Verilator: the Node side plays the external weight memory (it streams the schedule-ordered
 * w/s/aux words of each step, after `latency` idle cycles and with seeded random stalls of probability `stall`),
 * feeds tokens and collects the logits. Shared by the tests and bench/llm.ts.
 */
import { Module, lit, mux, plainPorts, printDesign } from '../../generator/hdl';
import { bitsFor } from '../../generator/util/errors';
import type { MemoryModel, LlmEngineConfig } from '../../generator/llm/engine/hw-config';
import { logitBeats, packBlockAux, packModel, unpackLogits, type TokenImage } from '../../generator/llm/engine/pack';
import { packGroupBlock } from '../../generator/llm/engine/pack-groups';
import { llmEngineModule } from '../../generator/llm/engine/rtl';
import type { QuantModel } from '../../generator/llm/quant/model';
import { buildSim, type Sim, type SimRun } from '../index';

/** Fixed-point fraction of the bandwidth credit counter (bytes * 2^CREDIT_FRAC). */
const CREDIT_FRAC = 8;

/**
 * Simulation-only top: the engine behind a model of the external memory's bandwidth. A credit counter gains
 * bytesPerCycle every cycle and a w or s beat may only transfer when the credit covers its bytes. The credit is
 * capped at one w + s word pair plus one cycle's rate, so a memory whose words are not taken saves nothing up
 * (bandwidth not used in a cycle is lost), while a saturated one delivers exactly bytesPerCycle on average.
 * The memory reads its image in order: the w words of a group, then that group's s word, so w may run at most one
 * group ahead of s (`lead` = w beats - stepsPerGroup x s beats stays in [0, stepsPerGroup]); when a w and an s beat
 * can both be due in one cycle, each needs the credit of both. The engine itself is unchanged.
 */
export function bandwidthTop(cfg: LlmEngineConfig, engine: Module, bytesPerCycle: number): Module {
  const m = new Module('llm_sim_top', { doc: `decode engine behind a ${bytesPerCycle.toFixed(1)} B/cycle memory model (simulation only)` });
  const conns: Record<string, ReturnType<Module['wire']>> = {};
  const pass = (name: string, width: number, last = false, dir: 'in' | 'out' = 'in') => {
    const st = dir === 'in' ? m.streamIn(name, width, { last }) : m.streamOut(name, width, { last });
    conns[`${name}_valid`] = st.valid;
    conns[`${name}_ready`] = st.ready;
    conns[`${name}_data`] = st.data;
    if (st.last) conns[`${name}_last`] = st.last;
    return st;
  };
  pass('tok', cfg.tokBits);
  pass('aux', cfg.auxBits);
  pass('logits', cfg.logitsBits, true, 'out');
  for (const p of plainPorts(engine.interface())) if (p.dir === 'output') conns[p.name] = m.output(p.name, p.width);
  const w = m.streamIn('w', cfg.wPortBits);
  const s = m.streamIn('s', cfg.sPortBits);
  const bw = BigInt(Math.round((cfg.wPortBits / 8) * 2 ** CREDIT_FRAC));
  const bs = BigInt(Math.round((cfg.sPortBits / 8) * 2 ** CREDIT_FRAC));
  const rate = BigInt(Math.round(bytesPerCycle * 2 ** CREDIT_FRAC));
  const cap = bw + bs + rate;
  const cw = cap.toString(2).length + 2;
  const credit = m.reg('credit', cw, { init: cap });
  const spg = cfg.gemv.stepsPerGroup;
  const lw = bitsFor(spg) + 1;
  const lead = m.reg('lead', lw, { init: 0 });
  // (two groups in flight put each GEMV's constant word on s ahead of its weights: the streams are not paired then)
  const paired = cfg.hw.prefillGroups === 1;
  const wOk = m.let('w_in_order', paired ? lead.lt(lit(spg, lw)) : lit(1, 1));
  const sOk = m.let('s_in_order', spg === 1 || !paired ? lit(1, 1) : lead.ge(lit(spg - 1, lw)));
  const both = wOk.and(sOk);
  const allowW = m.let('allow_w', wOk.and(credit.ge(mux(both, lit(bw + bs, cw), lit(bw, cw)))));
  const allowS = m.let('allow_s', sOk.and(credit.ge(mux(both, lit(bw + bs, cw), lit(bs, cw)))));
  const ewValid = m.wire('e_w_valid', 1);
  const ewReady = m.wire('e_w_ready', 1);
  const esValid = m.wire('e_s_valid', 1);
  const esReady = m.wire('e_s_ready', 1);
  m.assign(ewValid, w.valid.and(allowW));
  m.assign(w.ready, ewReady.and(allowW));
  m.assign(esValid, s.valid.and(allowS));
  m.assign(s.ready, esReady.and(allowS));
  Object.assign(conns, { w_valid: ewValid, w_ready: ewReady, w_data: w.data, s_valid: esValid, s_ready: esReady, s_data: s.data });
  const spent = mux(w.valid.and(w.ready), lit(bw, cw), lit(0, cw)).add(mux(s.valid.and(s.ready), lit(bs, cw), lit(0, cw)));
  const after = m.let('credit_after', credit.sub(spent).add(lit(rate, cw)));
  const wFire = w.valid.and(w.ready);
  const sFire = s.valid.and(s.ready);
  m.sync((b) => {
    b.set(credit, mux(after.gt(lit(cap, cw)), lit(cap, cw), after));
    b.set(lead, lead.add(mux(wFire, lit(1, lw), lit(0, lw))).sub(mux(sFire, lit(spg, lw), lit(0, lw))));
  });
  m.instance(engine, 'u_engine', conns);
  return m;
}

export async function buildLlmSim(cfg: LlmEngineConfig, opts: { trace?: boolean; bytesPerCycle?: number } = {}): Promise<Sim> {
  const engine = llmEngineModule(cfg);
  const module = opts.bytesPerCycle ? bandwidthTop(cfg, engine, opts.bytesPerCycle) : engine;
  const printed = printDesign(module);
  return buildSim({ iface: module.interface(), files: printed.files, trace: opts.trace });
}

export interface StepResult {
  logits: number[];
  /** Cycles of this step: from the token beat's acceptance to the end of the last logits beat (incl. memory latency). */
  cycles: number;
  /** Weight/scale words consumed in this step. */
  wBeats: number;
  sBeats: number;
  auxBeats: number;
  /** Cycles spent in GEMV ops, attention + KV-write ops, other ops (perf counters of the engine). */
  perf: { gemv: number; attn: number; other: number };
}

export interface SessionOptions {
  seed?: number;
  memory?: Partial<MemoryModel>;
  /** Probability that the host withholds ready on the logits stream. */
  logitStall?: number;
  maxCycles?: number;
  /** FST waveform file (needs a sim built with trace). */
  traceFile?: string;
}

/** One simulator process decoding a sequence step by step. */
export class LlmSession {
  private last = { cycle: 0, w: 0, s: 0, aux: 0, gemv: 0, attn: 0, other: 0 };
  private constructor(
    readonly cfg: LlmEngineConfig,
    readonly qm: QuantModel,
    readonly image: TokenImage,
    readonly run: SimRun,
    readonly latency: number,
  ) {}

  static async start(sim: Sim, cfg: LlmEngineConfig, qm: QuantModel, opts: SessionOptions = {}, image?: TokenImage): Promise<LlmSession> {
    const stall = opts.memory?.stall ?? 0;
    const run = await sim.start({
      seed: opts.seed ?? 1,
      stall: { default: 0, w: stall, s: stall, aux: stall, logits: opts.logitStall ?? 0 },
      maxCycles: opts.maxCycles ?? 1e10,
      idleCycles: 1e7,
      traceFile: opts.traceFile,
    });
    return new LlmSession(cfg, qm, image ?? packModel(cfg, qm), run, opts.memory?.latency ?? 0);
  }

  /** Decode one token; restart = true starts a new sequence at position 0. */
  step(token: number, restart = false): Promise<StepResult> {
    return this.block([token], restart);
  }

  /**
   * Prefill a block of 1..prefillBlock prompt tokens in one weight pass (one token = a decode step); the logits are
   * the last token's. restart = true starts a new sequence at position 0.
   */
  async block(tokens: readonly number[], restart = false): Promise<StepResult> {
    const cfg = this.cfg;
    const run = this.run;
    const idBits = cfg.tokBits - 1 - cfg.tokCountBits;
    const two = cfg.hw.prefillGroups > 1;
    const streams = two ? packGroupBlock(cfg, this.qm, this.image, tokens) : { w: this.image.w, s: this.image.s, aux: packBlockAux(cfg, this.qm, this.image, tokens) };
    const aux = streams.aux;
    const beat = BigInt(tokens[tokens.length - 1]!) | (restart ? 1n << BigInt(idBits) : 0n) | (BigInt(tokens.length - 1) << BigInt(idBits + 1));
    await run.push('tok', [beat]);
    const t0 = await run.run();
    if (this.latency > 0) await run.step(this.latency);
    const col = run.collect('logits', logitBeats(cfg));
    await Promise.all([run.push('aux', aux), run.push('s', streams.s), run.push('w', streams.w)]);
    const beats = await col;
    const st = await run.stats();
    const endCycle = beats.cycles[beats.cycles.length - 1]! + 1;
    const rd = async (p: string) => Number(await run.read(p));
    const [gemv, attn, other] = [await rd('perf_gemv'), await rd('perf_attn'), await rd('perf_other')];
    const cur = { cycle: endCycle, w: st.streams.w!.beats, s: st.streams.s!.beats, aux: st.streams.aux!.beats, gemv, attn, other };
    const res: StepResult = {
      logits: unpackLogits(cfg, beats.data),
      cycles: endCycle - Math.min(t0, this.last.cycle === 0 ? t0 : t0),
      wBeats: cur.w - this.last.w,
      sBeats: cur.s - this.last.s,
      auxBeats: cur.aux - this.last.aux,
      perf: { gemv: gemv - this.last.gemv, attn: attn - this.last.attn, other: other - this.last.other },
    };
    this.last = cur;
    return res;
  }

  async finish(): Promise<void> {
    await this.run.finish();
  }

  kill(): void {
    this.run.kill();
  }
}
