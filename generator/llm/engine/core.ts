/**
 * The engine's shared skeleton: ports, controller state and loop counters, instruction decode, vector memories,
 * KV-cache banks, ROMs and the registers that several ops write. Every op's datapath (vector.ts, gemv-path.ts,
 * attention.ts) and the controller (control.ts) take the EngineCore this returns. Creation order is significant:
 * it fixes the printed names, so llmEngineModule calls the parts in one fixed order.
 */
import { Module, lit, mux, type Expr } from '../../hdl';
import { Arith } from '../../lib/arith';
import { bitsFor } from '../../util/errors';
import { buildTables } from '../golden/tables';
import { addrBits, type LlmEngineConfig } from './hw-config';
import { encodeInstr, instrBits, opCode, schedule } from './schedule';
import { TokVal, VecMem, quarterWave, quarterWaveRead, rom } from './units';

export const IDLE = 0;
export const RUN = 1;

export type EngineCore = ReturnType<typeof engineCore>;

export function engineCore(cfg: LlmEngineConfig, name: string) {
  const e = cfg.engine;
  const md = e.model;
  const P = cfg.P;
  const G = e.kvGroup;
  const hd = md.headDim;
  const gph = e.kvGroupsPerHead;
  const slots = e.cacheSlots;
  const S = e.sinks;
  const W = e.window;
  const gc = cfg.gemv;
  const lanes = gc.lanes;
  const tb = buildTables(e);
  const sch = schedule(cfg);
  const m = new Module(name, {
    doc: `W2A8KV4 decode engine: dim=${md.dim} hidden=${md.hiddenDim} layers=${md.nLayers} heads=${md.nHeads}/${md.nKvHeads} vocab=${md.vocabSize} ` +
      `S=${S} W=${W} lanes=${lanes} simd=${gc.simd} vpar=${P}` +
      (cfg.linPlanes > 1 ? ` 4-bit linear matrices as 2-bit planes: ${!e.w4Matrices.length ? 'all' : e.w4Matrices.length > 8 ? `${e.w4Matrices.length} (w4Matrices)` : e.w4Matrices.join(',')}` : ''),
  });
  const A = new Arith(m, 'a');
  const lin = cfg.linBits;

  // ---- ports -----------------------------------------------------------------------------------
  const idBits = cfg.tokBits - 1 - cfg.tokCountBits;
  const tok = m.streamIn('tok', cfg.tokBits);
  const aux = m.streamIn('aux', cfg.auxBits);
  const wIn = m.streamIn('w', gc.weightPortBits);
  const sIn = m.streamIn('s', gc.scalePortBits);
  const logits = m.streamOut('logits', cfg.logitsBits, { last: true });
  const perf = {
    gemv: m.output('perf_gemv', 32),
    attn: m.output('perf_attn', 32),
    other: m.output('perf_other', 32),
    idle: m.output('perf_idle', 32),
  };
  const auxLane = (k: number) => aux.data.slice(32 * k + 31, 32 * k);
  const auxFire = m.let('aux_fire', aux.valid.and(aux.ready));

  // ---- controller state and shared counters ----------------------------------------------------------
  const maxLoop = Math.max(md.vocabSize, md.hiddenDim, md.dim, cfg.depth.h, cfg.depth.log, gc.maxColSteps, gc.maxRowBlocks, lanes / P, slots, hd, md.nHeads, md.nKvHeads, gph) + 2;
  const CW = bitsFor(maxLoop);
  const pcW = bitsFor(sch.rom.length);
  const layW = bitsFor(md.nLayers);
  const state = m.reg('state', 1, { init: IDLE });
  const pc = m.reg('pc', pcW, { init: 0 });
  const layer = m.reg('layer', layW, { init: 0 });
  const pos = m.reg('pos', 32, { init: 0 });
  const slotW = bitsFor(slots);
  const slotCur = m.reg('slot_cur', slotW, { init: 0 });
  const ph = m.reg('ph', 3, { init: 0 });
  const i = m.reg('i', CW, { init: 0 });
  const k = m.reg('k', CW, { init: 0 });
  const g = m.reg('g', CW, { init: 0 });
  const sl = m.reg('sl', CW, { init: 0 });
  const h = m.reg('h', CW, { init: 0 });
  const kh = m.reg('kh', CW, { init: 0 });
  const hk = m.reg('hk', CW, { init: 0 });
  const c = (v: number, w = CW) => lit(v, w);
  // Prefill (docs/llm-engine.md#prefill-in-the-engine-rtl): the block holds nTok+1 tokens; tk is the token the per-token
  // ops work on, tslot its KV slot, wt the token the GEMV writer writes. All stay 0 (and tslot = slot_cur) in decode.
  const T = cfg.hw.prefillBlock;
  // two groups in flight (control-groups.ts): a block of up to 2T tokens, group B's tokens after group A's T; the
  // vector queue works on group vGrp, whose token tk is block token vTok
  const Gp = cfg.hw.prefillGroups;
  const TB = cfg.blockTokens;
  const tkb = cfg.tokCountBits || 1;
  const nTok = m.reg('n_tok', tkb, { init: 0 });
  const tk = m.reg('tk', tkb, { init: 0 });
  const wt = m.reg('wt', tkb, { init: 0 });
  const tslot = T > 1 ? m.reg('tslot', slotW, { init: 0 }) : slotCur;
  const vGrp = Gp > 1 ? m.reg('v_grp', 1, { init: 0 }) : undefined;
  const vTok = vGrp ? m.let('v_tok', mux(vGrp, tk.add(lit(T, tkb)), tk)) : tk;
  /** Last token index (within its group) of group 0 / 1 of the running block. */
  const groupLast = (grp: Expr): Expr =>
    mux(grp, nTok.sub(lit(T, tkb)), mux(nTok.lt(lit(T, tkb)), nTok, lit(T - 1, tkb)));
  const vLast = vGrp ? m.let('v_last', groupLast(vGrp)) : nTok;
  const tpos = T > 1 ? m.let('tpos', pos.add(vTok.zext(32))) : pos;
  /** The Λ cache's next slot: sinks are pinned, the window is a ring after them. */
  const ringNext = (s_: Expr): Expr => mux(s_.eq(slots - 1), lit(S, s_.width), s_.add(1));

  const instrRom = rom(m, 'instr_rom', instrBits(cfg), sch.rom.map(encodeInstr));
  const instr = m.let('instr', instrRom.read(pc));
  const opc = m.let('opc', instr.slice(3, 0));
  const mat = m.let('mat', instr.slice(6, 4));
  const plane = m.let('plane', instr.slice(9, 7));
  const qsrc = m.let('qsrc', instr.slice(11, 10));
  const reuseX = m.let('reuse_x', instr.bit(12));
  /** Non-zero on the last op of a per-token segment: its length (the controller loops it over the block's tokens). */
  const seg = m.let('seg', instr.slice(15, 13));
  // 4-bit linear matrices (linPlanes > 1): a plane pass another plane of the same matrix follows (it only
  // accumulates into LOG), and the last op of a layer's body in a ROM that lists every layer (schedule.ts)
  const more = cfg.linPlanes > 1 ? m.let('more', instr.bit(16)) : undefined;
  const layerEnd = cfg.linPlanes > 1 ? m.let('layer_end', instr.bit(17)) : undefined;
  // two groups: the vector queue runs an op only when its phase may start (control-groups.ts drives v_go)
  const vGo = Gp > 1 ? m.wire('v_go', 1) : undefined;
  const running = m.let('running', vGo ? state.eq(RUN).and(vGo) : state.eq(RUN));
  const is = (op: Parameters<typeof opCode>[0]) => running.and(opc.eq(opCode(op)));
  const at = (op: Parameters<typeof opCode>[0], p: number) => is(op).and(ph.eq(p));
  /** First token of the current op: 0 in the prologue and body, the block's last token in the epilogue. */
  const t0 = T > 1 ? m.let('t0', mux(pc.gt(lit(sch.bodyEnd, pcW)), vLast, lit(0, tkb))) : lit(0, 1);
  const firstTok = T > 1 ? m.let('first_tok', tk.eq(t0)) : lit(1, 1);

  // ---- memories ----------------------------------------------------------------------------------
  const X = new VecMem(m, 'x', cfg.depth.x, P, cfg.resBits, TB, vTok);
  const N = new VecMem(m, 'n', cfg.depth.n, P, cfg.nBits, TB, vTok);
  const Q = new VecMem(m, 'q', cfg.depth.q, P, lin, TB, vTok);
  const K = new VecMem(m, 'k', cfg.depth.kv, P, lin, TB, vTok);
  const V = new VecMem(m, 'v', cfg.depth.kv, P, lin, TB, vTok);
  const ATT = new VecMem(m, 'att', cfg.depth.att, P, lin, TB, vTok);
  const Y = new VecMem(m, 'y', cfg.depth.y, P, lin, TB, vTok);
  const H1 = new VecMem(m, 'h1', cfg.depth.h, P, lin, TB, vTok);
  const H3 = new VecMem(m, 'h3', cfg.depth.h, P, lin, TB, vTok);
  // RMSNorm weights of the running NORM, kept from its first token for the block's other tokens (prefill only)
  const GM = T > 1 ? new VecMem(m, 'gamma', cfg.depth.x, P, e.normWBits) : undefined;
  const LOG = cfg.clsPasses > 1 || cfg.linPlanes > 1 ? new VecMem(m, 'log', cfg.depth.log, P, cfg.logAccBits) : undefined;
  // KV cache: slotPar banks each for K and V; slot s lives in bank s mod slotPar, row s div slotPar.
  const NS = cfg.hw.slotPar;
  const lgNS = Math.log2(NS);
  const kvAw = addrBits(cfg.kvCacheWords);
  const kc = Array.from({ length: NS }, (_, b) => m.memory(`kc_mem${b}`, cfg.kvWordBits, cfg.kvCacheWords));
  const vc = Array.from({ length: NS }, (_, b) => m.memory(`vc_mem${b}`, cfg.kvWordBits, cfg.kvCacheWords));
  const scW = 34;
  const scMem = m.memory('sc_mem', scW * NS, cfg.slotRows);

  const recipRom = rom(m, 'recip_rom', bitsFor(Math.max(...tb.recip)), tb.recip);
  const rsqrtRom = rom(m, 'rsqrt_rom', bitsFor(Math.max(...tb.rsqrt)), tb.rsqrt);
  const cosW = e.ropeFrac + 2;
  // RoPE's cos/sin: the quarter-wave of the table when it is exactly symmetric (every table built so far is)
  const quarter = quarterWave(tb.ropeCos);
  const cosRom = quarter ? rom(m, 'cos_rom', cosW, quarter) : rom(m, 'cos_rom', cosW, Array.from(tb.ropeCos, (v) => (v < 0 ? v + 2 ** cosW : v)));
  const cosAt = (idx: Expr): Expr => (quarter ? quarterWaveRead(cosRom, idx, cosW) : cosRom.read(idx).asSigned());
  const exp2Rom = rom(m, 'exp2_rom', bitsFor(Math.max(...tb.exp2)), tb.exp2);
  const sigRom = rom(m, 'sig_rom', bitsFor(Math.max(...tb.sigmoid)), tb.sigmoid);

  // ---- registers written by ops --------------------------------------------------------------------
  const cMul = m.reg('c_mul', 16);
  const cExp = m.reg('c_exp', 16, { signed: true });
  const qa = cfg.qSites.act;
  const amax = m.reg('amax', qa.srcBits);
  // |max| of the vector the next QUANT reads, accumulated by its producer (NORM, ATTN, SILU) as it is written.
  const xamax = m.reg('xamax', qa.srcBits, { init: 0 });
  const amax2 = m.reg('amax2', lin);
  const actR = m.reg('act_r', recipRom.width);
  const sW = bitsFor(Math.max(Math.abs(qa.s.lo), Math.abs(qa.s.hi))) + 2;
  const actS = m.reg('act_s', sW, { signed: true });
  const actExpW = qa.expBits + 1;
  // the A8 scale of each token's x, set by its QUANT and read by the GEMV writer (token wt)
  const actMantV = new TokVal(m, 'act_mant', e.actMantBits, false, TB);
  const actExpV = new TokVal(m, 'act_exp', actExpW, true, TB);
  const xAsm = m.reg('x_asm', 8 * gc.simd);
  // Σx² of each token's x, from the EMBED / RESID that wrote it to the NORM that reads it
  const ssV = new TokVal(m, 'ss', e.ssBits, false, TB);
  const ss = T > 1 ? m.let('ss_cur', ssV.read(vTok)) : ssV.read(tk);
  const normT = m.reg('norm_t', rsqrtRom.width);
  const s1W = bitsFor(Math.max(Math.abs(cfg.normS1.lo), Math.abs(cfg.normS1.hi))) + 2;
  const normS1 = m.reg('norm_s1', s1W, { signed: true });

  // Pairwise |max| tree, and the running |max| the next QUANT reads (xamax_<n> per producer).
  const maxTree = (xs: Expr[]): Expr => {
    let layer_ = xs;
    while (layer_.length > 1) {
      const nx: Expr[] = [];
      for (let t = 0; t + 1 < layer_.length; t += 2) nx.push(A.wire('mx', A.umax(layer_[t]!, layer_[t + 1]!)));
      if (layer_.length % 2) nx.push(layer_[layer_.length - 1]!);
      layer_ = nx;
    }
    return layer_[0]!;
  };
  const absOf = (x: Expr, bits: number) => A.abs(x.resize(bits).asUnsigned().asSigned()).zext(qa.srcBits);
  let amaxN = 0;
  const amaxWith = (xs: Expr[]) => m.let(`xamax_${amaxN++}`, A.umax(xamax, maxTree(xs)));

  return {
    cfg, name, m, A, e, md, P, G, hd, gph, slots, S, W, gc, lanes, tb, sch, lin, idBits,
    tok, aux, wIn, sIn, logits, perf, auxLane, auxFire,
    CW, state, pc, layer, pos, slotW, slotCur, ph, i, k, g, sl, h, kh, hk, c,
    T, tkb, nTok, tk, wt, tslot, tpos, seg, t0, firstTok, Gp, TB, vGrp, vTok, vLast, groupLast, pcW, layW, vGo, instrRom, ringNext,
    instr, opc, mat, plane, qsrc, reuseX, more, layerEnd, running, is, at,
    X, N, Q, K, V, ATT, Y, H1, H3, LOG, GM, NS, lgNS, kvAw, kc, vc, scW, scMem,
    recipRom, rsqrtRom, cosW, cosRom, cosAt, exp2Rom, sigRom,
    cMul, cExp, qa, amax, xamax, amax2, actR, sW, actS, actMantV, actExpV, actExpW, xAsm, ssV, ss, normT, s1W, normS1,
    maxTree, absOf, amaxWith,
  };
}
