/**
 * The W2A8KV4 decode engine (docs/llm-engine.md). One controller steps through the schedule ROM
 * (schedule.ts); exactly one op runs at a time and the ops share the loop counters below.
 *
 * Streams (valid/ready, docs/architecture.md#streams):
 *   tok     in   token id | restart << idBits            one beat per decode step (restart: position 0)
 *   aux     in   P x 32-bit lanes                        constants, embedding row, RMSNorm weights (schedule order)
 *   w, s    in   GEMV weight / scale words               every linear layer and classifier plane (schedule order)
 *   logits  out  P x 32-bit signed logits (logitFrac)    ceil(vocab/P) beats per step, last on the final beat
 * Perf counters (plain outputs): cycles spent in GEMV ops, attention ops, other ops, and waiting for a token.
 */
import { Module, cat, lit, mux, select, sumTree, type Block, type Expr, type Signal } from '../../hdl';
import { Arith } from '../../lib/arith';
import { bitsFor } from '../../util/errors';
import { buildTables } from '../golden/tables';
import { gemvModule } from '../gemv/rtl';
import { fifoModule } from '../../lib/fifo';
import { MATS, addrBits, ceilDiv, roundUp, type LlmEngineConfig } from './config';
import { INSTR_BITS, QSRC, encodeInstr, opCode, schedule } from './schedule';
import { VecMem, asS, catLanes, qcodeHw, qscaleHw, rom } from './units';

const IDLE = 0;
const RUN = 1;

export function llmEngineModule(cfg: LlmEngineConfig, name = 'llm_engine'): Module {
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
      `S=${S} W=${W} lanes=${lanes} simd=${gc.simd} vpar=${P}`,
  });
  const A = new Arith(m, 'a');
  const lin = cfg.linBits;

  // ---- ports -----------------------------------------------------------------------------------
  const idBits = cfg.tokBits - 1;
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

  const instrRom = rom(m, 'instr_rom', INSTR_BITS, sch.rom.map(encodeInstr));
  const instr = m.let('instr', instrRom.read(pc));
  const opc = m.let('opc', instr.slice(3, 0));
  const mat = m.let('mat', instr.slice(6, 4));
  const plane = m.let('plane', instr.slice(9, 7));
  const qsrc = m.let('qsrc', instr.slice(11, 10));
  const reuseX = m.let('reuse_x', instr.bit(12));
  const running = m.let('running', state.eq(RUN));
  const is = (op: Parameters<typeof opCode>[0]) => running.and(opc.eq(opCode(op)));
  const at = (op: Parameters<typeof opCode>[0], p: number) => is(op).and(ph.eq(p));

  // ---- memories ----------------------------------------------------------------------------------
  const X = new VecMem(m, 'x', cfg.depth.x, P, cfg.resBits);
  const N = new VecMem(m, 'n', cfg.depth.n, P, cfg.nBits);
  const Q = new VecMem(m, 'q', cfg.depth.q, P, lin);
  const K = new VecMem(m, 'k', cfg.depth.kv, P, lin);
  const V = new VecMem(m, 'v', cfg.depth.kv, P, lin);
  const ATT = new VecMem(m, 'att', cfg.depth.att, P, lin);
  const Y = new VecMem(m, 'y', cfg.depth.y, P, lin);
  const H1 = new VecMem(m, 'h1', cfg.depth.h, P, lin);
  const H3 = new VecMem(m, 'h3', cfg.depth.h, P, lin);
  const LOG = cfg.clsPlanes > 1 ? new VecMem(m, 'log', cfg.depth.log, P, cfg.logAccBits) : undefined;
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
  const cosRom = rom(m, 'cos_rom', cosW, Array.from(tb.ropeCos, (v) => (v < 0 ? v + 2 ** cosW : v)));
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
  const actMant = m.reg('act_mant', e.actMantBits);
  const actExpW = qa.expBits + 1;
  const actExp = m.reg('act_exp', actExpW, { signed: true });
  const xAsm = m.reg('x_asm', 8 * gc.simd);
  const ss = m.reg('ss', e.ssBits);
  const normT = m.reg('norm_t', rsqrtRom.width);
  const s1W = bitsFor(Math.max(Math.abs(cfg.normS1.lo), Math.abs(cfg.normS1.hi))) + 2;
  const normS1 = m.reg('norm_s1', s1W, { signed: true });

  // ==== EMBED: x = sat(shr(scale * level * mul, exp - resFrac), resBits) ==========================
  const cb = e.clsBits;
  const embLanes: Expr[] = [];
  const embShiftW = bitsFor(Math.max(Math.abs(cfg.embShift.lo), Math.abs(cfg.embShift.hi))) + 2;
  const embS = m.let('emb_s', cExp.resize(embShiftW).sub(lit(e.resFrac, embShiftW, true)));
  for (let q = 0; q < P; q++) {
    const ln = auxLane(q);
    const code = ln.slice(cb - 1, 0);
    const scale = ln.slice(8 + e.scaleBits - 1, 8);
    const level = code.zext(cb + 2).asSigned().shl(1).sub(lit(2 ** cb - 1, cb + 2, true));
    const prod = A.wire('embp', asS(scale).mul(level).mul(asS(cMul)));
    embLanes.push(A.sat(A.shrDynRound(prod, embS, cfg.embShift.lo, cfg.embShift.hi), cfg.resBits));
  }

  // ==== NORM ==========================================================================================
  X.readAt(is('NORM'), i);
  // rsqrt lookup from the registered ss.
  const L = e.rsqrtIndexBits;
  const ssBl = A.bitLength(ss);
  const blW = ssBl.width;
  const e2 = m.let('norm_e2', ssBl.sub(lit(1, blW)).and(lit((2 ** blW - 1) & ~1, blW)));
  const e2s = e2.zext(blW + 1).asSigned();
  const dsh = m.let('norm_dsh', e2s.sub(lit(L, blW + 1, true)));
  const dNeg = dsh.bit(blW);
  const ssR = A.shrDyn(ss, mux(dNeg, lit(0, blW + 1), dsh.asUnsigned()).slice(blW - 1, 0));
  const ssL = A.shlDyn(ss.resize(L + 2), mux(dNeg, dsh.neg().asUnsigned(), lit(0, blW + 1)).slice(bitsFor(L) - 1, 0));
  const uIdx = m.let('norm_u', mux(dNeg, ssL.slice(L + 1, 0), ssR.slice(L + 1, 0)));
  const rsIdx = m.let('norm_idx', uIdx.sub(lit(2 ** L, L + 2)));
  const tVal = m.let('norm_tval', rsqrtRom.read(rsIdx));
  const s1Val = m.let('norm_s1v', e2.zext(s1W).shr(1).asSigned().add(lit(e.sqShift + e.rsqrtFrac - e.normMidFrac, s1W, true)));
  const s2W = bitsFor(Math.max(Math.abs(cfg.normS2.lo), Math.abs(cfg.normS2.hi))) + 2;
  const normS2 = m.let('norm_s2', cExp.resize(s2W).add(lit(e.normMidFrac - e.normOutFrac, s2W, true)));
  const normLanes: Expr[] = [];
  for (let q = 0; q < P; q++) {
    const t = A.shrDynRound(A.wire('nxt', X.lane(q).mul(asS(normT))), normS1, cfg.normS1.lo, cfg.normS1.hi);
    const gm = auxLane(q).slice(e.normWBits - 1, 0).asSigned();
    const y = A.shrDynRound(A.wire('ntg', t.mul(gm)), normS2, cfg.normS2.lo, cfg.normS2.hi);
    normLanes.push(y.resize(cfg.nBits));
  }

  // ==== QUANT (A8 of N, ATT or H1 into the GEMV x buffer) ===============================================
  const qsrcN = qsrc.eq(QSRC.indexOf('N'));
  const qsrcA = qsrc.eq(QSRC.indexOf('ATT'));
  N.readAt(is('QUANT'), i);
  ATT.readAt(is('QUANT'), i);
  H1.readAt(is('QUANT'), i);
  const qLen = m.let('q_len', mux(qsrc.eq(QSRC.indexOf('H1')), c(md.hiddenDim), c(md.dim)));
  const qSteps = m.let('q_steps', mux(qsrc.eq(QSRC.indexOf('H1')), c(roundUp(md.hiddenDim, e.wGroup) / P), c(roundUp(md.dim, e.wGroup) / P)));
  const qFrac = mux(qsrcN, lit(e.normOutFrac, actExpW, true), lit(e.linFrac, actExpW, true));
  const qVals: Expr[] = [];
  for (let q = 0; q < P; q++) {
    const v = mux(qsrcN, N.lane(q).resize(qa.srcBits), mux(qsrcA, ATT.lane(q).resize(qa.srcBits), H1.lane(q).resize(qa.srcBits)));
    const elem = A.wire('qel', i.zext(CW + bitsFor(P)).mul(lit(P, bitsFor(P))).resize(CW + bitsFor(P)).add(lit(q, CW + bitsFor(P))));
    const ok = A.wire('qok', elem.lt(qLen.zext(CW + bitsFor(P))));
    const vv = A.wire('qv', mux(ok, v, lit(0, qa.srcBits, true)));
    qVals.push(vv);
  }
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
  const qsc = qscaleHw(A, e, recipRom, xamax, qa);
  const qCodes = qVals.map((v) => qcodeHw(A, v, actR, actS, qa));
  const xStepsPerWord = gc.simd / P;
  const xAsmNext = m.let(
    'x_asm_next',
    xStepsPerWord === 1 ? catLanes(qCodes.map((q) => q.asUnsigned())) : catLanes([xAsm.slice(8 * gc.simd - 1, 8 * P), ...qCodes.map((q) => q.asUnsigned())]),
  );

  // ==== GEMV ============================================================================================
  const matInfo = MATS.map((mt) => {
    const rows = { wq: md.dim, wk: md.kvDim, wv: md.kvDim, wo: md.dim, w1: md.hiddenDim, w3: md.hiddenDim, w2: md.dim, cls: md.vocabSize }[mt];
    const cols = mt === 'w2' ? md.hiddenDim : md.dim;
    const nGroups = ceilDiv(cols, e.wGroup);
    return { rows, cols, nGroups, nRowBlocks: ceilDiv(rows, lanes), colSteps: nGroups * gc.stepsPerGroup };
  });
  const gemv = gemvModule(gc, `${name}_gemv`);
  // Optional prefetch FIFOs: the memory keeps streaming w / s while the GEMV waits for its next x.
  let gw = { valid: wIn.valid as Expr, ready: wIn.ready as Signal, data: wIn.data as Expr };
  let gs = { valid: sIn.valid as Expr, ready: sIn.ready as Signal, data: sIn.data as Expr };
  if (cfg.hw.wFifo) {
    const fifo = (port: typeof wIn, tag: string, width: number, depth: number) => {
      const f = fifoModule(`${name}_${tag}fifo`, width, depth);
      const o = { valid: m.wire(`${tag}f_valid`, 1), ready: m.wire(`${tag}f_ready`, 1), data: m.wire(`${tag}f_data`, width), count: m.wire(`${tag}f_count`, bitsFor(depth)) };
      m.instance(f, `u_${tag}fifo`, { in_valid: port.valid, in_ready: port.ready, in_data: port.data, out_valid: o.valid, out_ready: o.ready, out_data: o.data, count: o.count });
      return o;
    };
    const fw = fifo(wIn, 'w', gc.weightPortBits, cfg.hw.wFifo);
    const fs = fifo(sIn, 's', gc.scalePortBits, cfg.sFifo);
    gw = fw;
    gs = fs;
    m.assign(m.output('perf_fifo', fw.count.width + fs.count.width), cat(fs.count, fw.count));
  }
  const gJob = m.wire('g_job_valid', 1);
  const gJobReady = m.wire('g_job_ready', 1);
  const gXValid = m.wire('g_x_valid', 1);
  const gXReady = m.wire('g_x_ready', 1);
  const gY = m.wire('g_y_data', gc.yPortBits);
  const gYValid = m.wire('g_y_valid', 1);
  const gYReady = m.wire('g_y_ready', 1);
  const jobBase = gc.groupCountBits + gc.rowBlockCountBits;
  const jobWord = m.let(
    'g_job_data',
    cat(reuseX, select(mat, matInfo.map((mi) => lit(BigInt(mi.nGroups) | (BigInt(mi.nRowBlocks) << BigInt(gc.groupCountBits)), jobBase)))),
  );
  // QUANT streams each x word into the GEMV unit as it is assembled (the job was issued at the QUANT's start).
  const xData = xAsmNext;
  m.instance(gemv, 'u_gemv', {
    job_valid: gJob,
    job_ready: gJobReady,
    job_data: jobWord,
    x_valid: gXValid,
    x_ready: gXReady,
    x_data: xData,
    w_valid: gw.valid,
    w_ready: gw.ready,
    w_data: gw.data,
    s_valid: gs.valid,
    s_ready: gs.ready,
    s_data: gs.data,
    y_valid: gYValid,
    y_ready: gYReady,
    y_data: gY,
  });
  const colSteps = m.let('g_col_steps', select(mat, matInfo.map((mi) => c(mi.colSteps))));
  const nRowBlocks = m.let('g_row_blocks', select(mat, matInfo.map((mi) => c(mi.nRowBlocks))));
  const matRows = m.let('g_rows', select(mat, matInfo.map((mi) => c(mi.rows))));
  const isCls = m.let('g_is_cls', mat.eq(MATS.indexOf('cls')));
  const lastPlane = m.let('g_last_plane', plane.eq(cfg.clsPlanes - 1));
  const yBuf = m.reg('y_buf', gc.yPortBits);
  const yHeld = m.reg('y_held', 1, { init: 0 });
  const chunks = lanes / P;
  const chunkW = Math.max(1, bitsFor(chunks - 1));
  const r0 = m.let('g_r0', i.resize(CW + chunkW + bitsFor(lanes)).mul(lit(lanes, bitsFor(lanes))).resize(CW + chunkW + bitsFor(lanes))
    .add(k.resize(CW + chunkW + bitsFor(lanes)).mul(lit(P, bitsFor(P))).resize(CW + chunkW + bitsFor(lanes))));
  const rowOk = m.let('g_row_ok', r0.lt(matRows.zext(r0.width)));
  const dstAddr = m.let('g_dst', i.resize(CW + chunkW).mul(lit(chunks, chunkW + 1)).resize(CW + chunkW).add(k.resize(CW + chunkW)));
  const lastChunk = m.let('g_last_chunk', k.eq(chunks - 1));
  const toLogits = m.let('g_to_logits', isCls.and(lastPlane));
  const wrEn = m.let('g_wr_en', at('GEMV', 3).and(yHeld));
  const chunkGo = m.let('g_chunk_go', wrEn.and(toLogits.not().or(rowOk.not()).or(logits.ready)));
  const xWordDone = m.let('q_word_done', k.eq(xStepsPerWord - 1));
  m.assign(gJob, at('QUANT', 0).or(at('GEMV', 1)));
  m.assign(gXValid, at('QUANT', 1).and(xWordDone));
  m.assign(gYReady, at('GEMV', 3).and(yHeld.not().or(chunkGo.and(lastChunk))));
  const gYFire = m.let('g_y_fire', gYValid.and(gYReady));
  LOG?.readAt(is('GEMV'), dstAddr);
  const kq = m.let('g_kq', cMul.mul(actMant.resize(16)));
  const rqW = bitsFor(Math.max(Math.abs(cfg.requantShift.lo), Math.abs(cfg.requantShift.hi))) + 2;
  const outFrac = mux(toLogits, lit(e.logitFrac, rqW, true), lit(e.linFrac, rqW, true));
  const rqS = m.let('g_rq_s', cExp.resize(rqW).sub(actExp.resize(rqW)).sub(outFrac));
  const rqLanes: Expr[] = [];
  const logLanes: Expr[] = [];
  const linLanes: Expr[] = [];
  for (let q = 0; q < P; q++) {
    const accL = select(k.resize(chunkW), Array.from({ length: chunks }, (_, ch) => yBuf.slice(32 * (ch * P + q) + 31, 32 * (ch * P + q)).asSigned()));
    const acc = A.wire('gacc', accL);
    let val: Expr = acc.resize(cfg.logAccBits);
    if (LOG) {
      const shifted = A.shlDyn(val, plane.shl(1).resize(3));
      const old = mux(plane.eq(0), lit(0, cfg.logAccBits, true), LOG.lane(q));
      const sum = A.wire('glog', old.add(shifted));
      logLanes.push(sum);
      val = mux(isCls, sum, val);
    }
    const prod = A.wire('grq', val.mul(asS(kq)));
    const shr = A.shrDynRound(prod, rqS, cfg.requantShift.lo, cfg.requantShift.hi);
    rqLanes.push(A.sat(shr, 32));
    linLanes.push(A.sat(shr, lin));
  }
  m.assign(logits.valid, wrEn.and(toLogits).and(rowOk));
  m.assign(logits.data, catLanes(rqLanes.map((r) => r.asUnsigned())));
  m.assign(logits.last!, r0.add(lit(P, r0.width)).ge(lit(md.vocabSize, r0.width)));

  // ==== ROPE, fused into the GEMV writer: q and k chunks are rotated as wq / wk write them ==================
  const nPairs = hd / 2;
  const phases: Signal[] = Array.from({ length: nPairs }, (_, j) => m.reg(`rope_phase${j}`, 32, { init: 0 }));
  const NL = e.ropeLutBits;
  const ropeIn = (q: number) => linLanes[q]!;
  const ropeLanes: Expr[] = [];
  const kkW = bitsFor(hd / P);
  // chunk of P elements within the head being written (the writer visits chunks in order)
  const rk = m.reg('rope_chunk', kkW, { init: 0 });
  for (let q = 0; q < P / 2; q++) {
    const cands = Array.from({ length: hd / P }, (_, cc) => phases[cc * (P / 2) + q]!);
    const phase = A.wire('rph', select(rk, cands));
    const idx = A.wire('ridx', phase.add(lit(2 ** (31 - NL), 32)).slice(31, 32 - NL));
    const co = A.wire('rcos', cosRom.read(idx).asSigned());
    const si = A.wire('rsin', cosRom.read(idx.sub(lit(2 ** NL / 4, NL))).asSigned());
    const v0 = ropeIn(2 * q);
    const v1 = ropeIn(2 * q + 1);
    const pw = lin + cosW + 1;
    const a0 = v0.mul(co).resize(pw).sub(v1.mul(si).resize(pw));
    const a1 = v0.mul(si).resize(pw).add(v1.mul(co).resize(pw));
    ropeLanes.push(A.sat(A.shrC(A.wire('ra0', a0), e.ropeFrac), lin), A.sat(A.shrC(A.wire('ra1', a1), e.ropeFrac), lin));
  }

  // ==== RESID and SILU ==================================================================================
  X.readAt(is('RESID'), i);
  Y.readAt(is('RESID'), i);
  H1.readAt(is('SILU'), i);
  H3.readAt(is('SILU'), i);
  const residLanes: Expr[] = [];
  const siluLanes: Expr[] = [];
  const sigS = 2 ** (e.sigRangeLog2 + e.sigStepFrac);
  for (let q = 0; q < P; q++) {
    const yS = A.shrC(Y.lane(q), e.linFrac - e.resFrac);
    const w_ = Math.max(yS.width, cfg.resBits) + 1;
    residLanes.push(A.sat(X.lane(q).resize(w_).add(yS.resize(w_)), cfg.resBits));
    const h1 = H1.lane(q);
    const u = A.shrC(h1, e.linFrac - e.sigStepFrac);
    const uw = Math.max(u.width, bitsFor(2 * sigS)) + 2;
    const ui = A.wire('su', u.resize(uw).add(lit(sigS, uw, true)));
    const clampI = mux(ui.lt(lit(0, uw, true)), lit(0, uw, true), mux(ui.gt(lit(2 * sigS - 1, uw, true)), lit(2 * sigS - 1, uw, true), ui));
    const sig = A.wire('ssig', sigRom.read(clampI.asUnsigned().slice(bitsFor(2 * sigS - 1) - 1, 0)));
    const silu = A.sat(A.shrC(A.wire('sp', h1.mul(asS(sig))), e.sigFrac), lin);
    siluLanes.push(A.sat(A.shrC(A.wire('sg', silu.mul(H3.lane(q))), e.linFrac), lin));
  }

  // ==== fused reductions ===================================================================================
  // Σ (x >> sqShift)^2 of x as EMBED / RESID write it, so NORM needs no pass of its own.
  const sqTerms = Array.from({ length: P }, (_, q) => {
    const v = A.shrC(mux(is('EMBED'), embLanes[q]!, residLanes[q]!), e.sqShift);
    return v.mul(v).resize(e.ssBits + 1).asUnsigned().resize(e.ssBits);
  });
  const ssNext = m.let('ss_next', mux(i.eq(0), lit(e.epsSs, e.ssBits), ss).add(sumTree(sqTerms, e.ssBits)));
  // |max| of what NORM / ATTN / SILU write (as stored, masked to the vector length), for the next QUANT.
  const absOf = (x: Expr, bits: number) => A.abs(x.resize(bits).asUnsigned().asSigned()).zext(qa.srcBits);
  const amaxWith = (xs: Expr[]) => m.let(`xamax_${amaxN++}`, A.umax(xamax, maxTree(xs)));
  let amaxN = 0;
  const normAmax = amaxWith(normLanes.map((x) => absOf(x, cfg.nBits)));
  const hidW = CW + bitsFor(P);
  const siluAmax = amaxWith(siluLanes.map((x, q) => {
    const ok = i.zext(hidW).mul(lit(P, bitsFor(P))).resize(hidW).add(lit(q, hidW)).lt(lit(md.hiddenDim, hidW));
    return mux(ok, absOf(x, lin), lit(0, qa.srcBits));
  }));

  // ==== KVW: quantise this position's k and v per kv head and group into the cache =======================
  const qk = cfg.qSites.kv;
  const kvBase = m.let('kv_base', kh.resize(CW + 8).mul(lit(hd / P, bitsFor(hd / P))).resize(CW + 8)
    .add(g.resize(CW + 8).mul(lit(G / P, bitsFor(G / P))).resize(CW + 8)).add(i.resize(CW + 8)));
  K.readAt(is('KVW'), kvBase);
  V.readAt(is('KVW'), kvBase);
  const kAbs = Array.from({ length: P }, (_, q) => A.abs(K.lane(q)));
  const vAbs = Array.from({ length: P }, (_, q) => A.abs(V.lane(q)));
  const kAmaxNext = m.let('kv_kamax_next', A.umax(mux(i.eq(0), lit(0, lin), amax.resize(lin)), maxTree(kAbs)));
  const vAmaxNext = m.let('kv_vamax_next', A.umax(mux(i.eq(0), lit(0, lin), amax2), maxTree(vAbs)));
  const kScale = qscaleHw(A, e, recipRom, amax.resize(lin), qk);
  const vScale = qscaleHw(A, e, recipRom, amax2, qk);
  const kvSW = bitsFor(Math.max(Math.abs(qk.s.lo), Math.abs(qk.s.hi))) + 2;
  const kR = m.reg('kv_kr', recipRom.width);
  const kS = m.reg('kv_ks', kvSW, { signed: true });
  const kM = m.reg('kv_km', e.kvMantBits);
  const kE = m.reg('kv_ke', qk.expBits, { signed: true });
  const vR = m.reg('kv_vr', recipRom.width);
  const vS = m.reg('kv_vs', kvSW, { signed: true });
  const vM = m.reg('kv_vm', e.kvMantBits);
  const vE = m.reg('kv_ve', qk.expBits, { signed: true });
  const kvCodeBits = G * e.kvBits;
  const kAsm = m.reg('kv_kasm', kvCodeBits);
  const vAsm = m.reg('kv_vasm', kvCodeBits);
  const kCodes = Array.from({ length: P }, (_, q) => qcodeHw(A, K.lane(q), kR, kS, qk));
  const vCodes = Array.from({ length: P }, (_, q) => qcodeHw(A, V.lane(q), vR, vS, qk));
  const asmNext = (asm: Expr, codes: Expr[]) =>
    G === P ? catLanes(codes.map((x) => x.asUnsigned())) : catLanes([asm.slice(kvCodeBits - 1, P * e.kvBits), ...codes.map((x) => x.asUnsigned())]);
  const kAsmNext = m.let('kv_kasm_next', asmNext(kAsm, kCodes));
  const vAsmNext = m.let('kv_vasm_next', asmNext(vAsm, vCodes));
  const kvExpOf = (sc: ReturnType<typeof qscaleHw>) =>
    mux(sc.zero, lit(0, qk.expBits, true), sc.sh.resize(qk.expBits).sub(lit(e.kvBits - 1 + e.linFrac, qk.expBits, true)));
  const kExpNext = m.let('kv_kexp_next', kvExpOf(kScale));
  const vExpNext = m.let('kv_vexp_next', kvExpOf(vScale));
  const rowsSl = cfg.slotRows;
  /** Bank address of (layer, kv head kh, slot row, group g). */
  const cacheAddr = (row: Expr) => {
    const w_ = kvAw + 2;
    const lk = layer.resize(w_).mul(lit(md.nKvHeads * rowsSl * gph, bitsFor(md.nKvHeads * rowsSl * gph))).resize(w_);
    const hh = kh.resize(w_).mul(lit(rowsSl * gph, bitsFor(rowsSl * gph))).resize(w_);
    const ss_ = row.resize(w_).mul(lit(gph, bitsFor(gph))).resize(w_);
    return lk.add(hh).add(ss_).add(g.resize(w_)).resize(kvAw);
  };
  const slotCurX = slotCur.zext(slotW + lgNS);
  const slotRowCur = lgNS === 0 ? slotCur : slotCurX.shr(lgNS);
  const kvWAddr = m.let('kv_waddr', cacheAddr(slotRowCur));
  const kvWBank = (b: number) => (lgNS === 0 ? lit(1, 1) : slotCurX.slice(lgNS - 1, 0).eq(b));

  // ==== ATTN ============================================================================================
  const qq = cfg.qSites.q;
  const qBase = m.let('at_qbase', h.resize(CW + 8).mul(lit(hd / P, bitsFor(hd / P))).resize(CW + 8).add(i.resize(CW + 8)));
  Q.readAt(is('ATTN'), qBase);
  const qAbsA = Array.from({ length: P }, (_, q) => A.abs(Q.lane(q)));
  const qAmaxA = m.let('at_amax_next', A.umax(mux(i.eq(0), lit(0, lin), amax.resize(lin)), maxTree(qAbsA)));
  const qScaleA = qscaleHw(A, e, recipRom, amax.resize(lin), qq);
  const qSW = bitsFor(Math.max(Math.abs(qq.s.lo), Math.abs(qq.s.hi))) + 2;
  const qR = m.reg('at_qr', recipRom.width);
  const qS = m.reg('at_qs', qSW, { signed: true });
  const qE = m.reg('at_qe', qq.expBits, { signed: true });
  const invW = bitsFor(tb.invSqrtHead);
  const qmInv = m.reg('at_qminv', e.actMantBits + invW);
  const qCodesA = Array.from({ length: P }, (_, q) => qcodeHw(A, Q.lane(q), qR, qS, qq));
  const qcRegs = Array.from({ length: hd }, (_, j) => m.reg(`at_qc${j}`, 8, { signed: true }));
  // Visibility of a slot under the Λ mask (visiting order does not matter: every sum is exact). Row sl holds slots
  // sl*slotPar + n, n < slotPar (padding slots beyond S+W are never visible).
  const posGeS = m.let('at_pos_ge_s', S > 0 ? pos.ge(lit(S, 32)) : lit(1, 1));
  const winRaw = m.let('at_win_raw', (S > 0 ? pos.sub(lit(S, 32)) : pos).add(lit(1, 32)));
  const nWin = m.let('at_nwin', mux(posGeS, mux(winRaw.gt(lit(W, 32)), lit(W, 32), winRaw), lit(0, 32)));
  const cAddr = m.let('at_caddr', cacheAddr(sl));
  const fieldsOf = (wd: Expr) => ({
    code: (t: number) => wd.slice(e.kvBits * t + e.kvBits - 1, e.kvBits * t).asSigned(),
    mant: wd.slice(kvCodeBits + e.kvMantBits - 1, kvCodeBits),
    exp: wd.slice(cfg.kvWordBits - 1, kvCodeBits + e.kvMantBits).asSigned(),
  });
  const gSel = bitsFor(gph);
  const dotW = bitsFor(128 * 8 * G) + 1;
  const qvs = Array.from({ length: G }, (_, t) => A.wire('aq', select(g.resize(gSel), Array.from({ length: gph }, (_, gg) => qcRegs[gg * G + t]!))));
  const scSW = bitsFor(Math.max(Math.abs(cfg.scoreShift.lo), Math.abs(cfg.scoreShift.hi))) + 2;
  const maxS = m.reg('at_max', 32, { signed: true });
  const sumE = m.reg('at_sum', cfg.sumBits);
  const scRow = m.let('at_sc', scMem.read(sl.resize(addrBits(rowsSl))));
  const dW = 34;
  const clampD = (e.expFrac + 2) * 2 ** e.scoreFrac;
  const dcW = bitsFor(clampD) + 1;
  const vvW = bitsFor(Math.max(Math.abs(cfg.vShift.lo), Math.abs(cfg.vShift.hi))) + 2;
  const pBits = e.probFrac + 2;
  const accW = e.vBits + pBits + bitsFor(slots) + 1;
  const psW = bitsFor(Math.max(Math.abs(cfg.probShift.lo), Math.abs(cfg.probShift.hi))) + 2;
  const rReg = m.reg('at_rreg', recipRom.width);
  const psReg = m.reg('at_ps', psW, { signed: true });
  const NEG = lit(-(2 ** 31), 32, true);
  const lanesA = Array.from({ length: NS }, (_, n) => {
    const slot = m.let(`at_slot${n}`, sl.resize(32).shl(lgNS).add(lit(n, 32)));
    const visSink = S > 0 ? slot.lt(lit(S, 32)).and(slot.le(pos)) : lit(0, 1);
    const visWin = S > 0 ? slot.ge(lit(S, 32)).and(slot.sub(lit(S, 32)).lt(nWin)) : slot.lt(nWin);
    const vis = m.let(`at_vis${n}`, visSink.or(visWin));
    const kf = fieldsOf(m.let(`at_kword${n}`, kc[n]!.read(cAddr)));
    const vf = fieldsOf(m.let(`at_vword${n}`, vc[n]!.read(cAddr)));
    // score term of this group: dot(q codes, k codes) * kmant * (qmant * invSqrt), shifted to scoreFrac
    const dot = m.let(`at_dot${n}`, sumTree(qvs.map((qv, t) => qv.mul(kf.code(t)).resize(dotW)), dotW));
    const scS = m.let(`at_score_s${n}`, lit(e.invSqrtFrac - e.scoreFrac, scSW, true).sub(kf.exp.resize(scSW)).sub(qE.resize(scSW)));
    const term = A.shrDynRound(A.wire('atp', dot.mul(asS(kf.mant)).mul(asS(qmInv))), scS, cfg.scoreShift.lo, cfg.scoreShift.hi);
    const sAccW = term.width + bitsFor(gph) + 1;
    const sAcc = m.reg(`at_sacc${n}`, sAccW, { signed: true });
    const sTot = m.let(`at_stot${n}`, mux(g.eq(0), lit(0, sAccW, true), sAcc).add(term.resize(sAccW)));
    const score = A.wire('atsc', A.sat(sTot, 32));
    // softmax numerator exp(score - max) from the 2^-f table
    const scLane = scRow.slice(scW * n + scW - 1, scW * n);
    const dd = m.let(`at_d${n}`, maxS.resize(dW).sub(scLane.slice(31, 0).asSigned().resize(dW)));
    const dC = m.let(`at_dc${n}`, mux(dd.gt(lit(clampD, dW, true)), lit(clampD, dW, true), dd).resize(dcW));
    const z = A.shrC(A.wire('atz', dC.mul(lit(tb.log2e, bitsFor(tb.log2e) + 1, true))), e.log2eFrac);
    const nSh = A.wire('atn', z.shr(e.scoreFrac));
    const fr = A.wire('atfr', z.slice(e.scoreFrac - 1, 0).zext(e.scoreFrac + 1).asSigned());
    const fIdx = A.shrC(fr, e.scoreFrac - e.expLutBits);
    const e0 = A.wire('ate0', exp2Rom.read(fIdx.asUnsigned().slice(bitsFor(2 ** e.expLutBits) - 1, 0)));
    const nBig = m.let(`at_nbig${n}`, nSh.gt(lit(e.expFrac, nSh.width, true)));
    const eShift = A.shrDynRound(asS(e0), A.wire('atna', nSh.resize(bitsFor(e.expFrac) + 2)), 0, e.expFrac);
    const eVal = m.let(`at_e${n}`, mux(nBig.or(vis.not()), lit(0, cfg.sumBits), eShift.resize(cfg.sumBits + 1).asUnsigned().resize(cfg.sumBits)));
    // P.V: p = shr(e * recip, ps); dequantised v (vFrac, saturated to vBits)
    const pVal = A.wire('atpv', A.shrDynRound(A.wire('atpp', asS(scLane.slice(cfg.sumBits - 1, 0)).mul(asS(rReg))), psReg, cfg.probShift.lo, cfg.probShift.hi).resize(pBits));
    const vSh = m.let(`at_vsh${n}`, lit(-e.vFrac, vvW, true).sub(vf.exp.resize(vvW)));
    const pv = Array.from({ length: G }, (_, t) => {
      const raw = A.wire('atvr', vf.code(t).mul(asS(vf.mant)));
      const vfx = A.sat(A.shrDynRound(raw, vSh, cfg.vShift.lo, cfg.vShift.hi), e.vBits);
      return A.wire('atpvp', mux(vis, pVal.mul(vfx).resize(accW), lit(0, accW, true)));
    });
    return { vis, sAcc, sTot, score, scMasked: mux(vis, score, NEG), eVal, pv };
  });
  const smax = (a: Expr, b: Expr) => A.wire('atmx', mux(a.gt(b), a, b));
  let rowMaxL = lanesA.map((l) => l.scMasked);
  while (rowMaxL.length > 1) {
    const nx: Expr[] = [];
    for (let t = 0; t + 1 < rowMaxL.length; t += 2) nx.push(smax(rowMaxL[t]!, rowMaxL[t + 1]!));
    if (rowMaxL.length % 2) nx.push(rowMaxL[rowMaxL.length - 1]!);
    rowMaxL = nx;
  }
  const rowMax = m.let('at_rowmax', smax(maxS, rowMaxL[0]!));
  const scoreRow = m.let('at_score_row', catLanes(lanesA.map((l) => l.score.resize(scW).asUnsigned())));
  const eRow = m.let('at_e_row', catLanes(lanesA.map((l) => l.eVal.zext(scW))));
  const eSum = m.let('at_e_sum', sumTree(lanesA.map((l) => l.eVal), cfg.sumBits));
  const pvSum = Array.from({ length: G }, (_, t) => m.let(`at_pv${t}`, sumTree(lanesA.map((l) => l.pv[t]!), accW)));
  // reciprocal of the sum
  const sumBl = A.bitLength(sumE);
  const rshW = bitsFor(Math.max(Math.abs(cfg.recipSh.lo), Math.abs(cfg.recipSh.hi))) + 2;
  const rSh = m.let('at_rsh', sumBl.zext(rshW).asSigned().sub(lit(e.recipBits, rshW, true)));
  const ms = A.shrDynRound(asS(sumE), rSh, cfg.recipSh.lo, cfg.recipSh.hi);
  const rIdx = A.wire('atri', ms.resize(e.recipBits + 2).asUnsigned().sub(lit(2 ** (e.recipBits - 1), e.recipBits + 2)).slice(e.recipBits - 1, 0));
  const rVal = A.wire('atr', recipRom.read(rIdx));
  const psVal = m.let('at_psv', rSh.resize(psW).add(lit(e.recipFrac - e.probFrac, psW, true)));
  const accRegs = Array.from({ length: hd }, (_, j) => m.reg(`at_acc${j}`, accW, { signed: true }));
  const attLanes = Array.from({ length: P }, (_, q) => {
    const a = A.wire('ato', select(i.resize(kkW), Array.from({ length: hd / P }, (_, cc) => accRegs[cc * P + q]!)));
    return A.sat(A.shrC(a, e.probFrac + e.vFrac - e.linFrac), lin);
  });
  const attAmax = amaxWith(attLanes.map((x) => absOf(x, lin)));

  // ---- read-address muxes (priority order is irrelevant: one op runs at a time) -------------------------
  for (const vm of [X, N, Q, K, V, ATT, Y, H1, H3, ...(LOG ? [LOG] : [])]) vm.finish();

  // ---- handshakes driven by the current op ---------------------------------------------------------------
  m.assign(tok.ready, state.eq(IDLE));
  m.assign(
    aux.ready,
    at('EMBED', 0).or(at('EMBED', 1)).or(at('NORM', 0)).or(at('NORM', 1)).or(at('GEMV', 0)),
  );

  // ---- perf counters ----------------------------------------------------------------------------------
  const pG = m.reg('perf_g', 32, { init: 0 });
  const pA = m.reg('perf_a', 32, { init: 0 });
  const pO = m.reg('perf_o', 32, { init: 0 });
  const pI = m.reg('perf_i', 32, { init: 0 });
  m.assign(perf.gemv, pG);
  m.assign(perf.attn, pA);
  m.assign(perf.other, pO);
  m.assign(perf.idle, pI);
  m.sync((b) => {
    b.if(is('GEMV'), (t) => t.set(pG, pG.add(1)), (el) =>
      el.if(is('ATTN').or(is('KVW')), (t) => t.set(pA, pA.add(1)), (el2) =>
        el2.if(running, (t) => t.set(pO, pO.add(1)), (t) => t.set(pI, pI.add(1)))));
  }, 'perf');

  // ---- the controller and every op -------------------------------------------------------------------------
  const clearCounters = (b: Block) => b.set(ph, 0).set(i, 0).set(k, 0).set(g, 0).set(sl, 0).set(h, 0).set(kh, 0).set(hk, 0).set(rk, 0);
  const next = (b: Block) => {
    clearCounters(b);
    b.if(
      pc.eq(sch.bodyEnd).and(layer.ne(md.nLayers - 1)),
      (t) => t.set(pc, sch.bodyStart).set(layer, layer.add(1)),
      (el) => el.set(pc, pc.add(1)),
    );
  };
  const lastSlot = sl.eq(rowsSl - 1);
  m.sync((b) => {
    b.if(state.eq(IDLE), (t) =>
      t.if(tok.valid, (u) => {
        u.set(state, RUN).set(pc, 0).set(layer, 0).set(xamax, 0);
        clearCounters(u);
        u.if(tok.data.bit(idBits), (v) => {
          v.set(pos, 0).set(slotCur, 0);
          for (const p_ of phases) v.set(p_, 0);
        });
      }),
    );
    b.if(running, (t) =>
      t.switch(opc, [
        [
          opCode('EMBED'),
          (o) => {
            o.if(ph.eq(0).and(auxFire), (u) => u.set(cMul, auxLane(0).slice(15, 0)).set(cExp, auxLane(0).slice(31, 16).asSigned()).set(ph, 1));
            o.if(ph.eq(1).and(auxFire), (u) => {
              u.write(X.mem, i.resize(X.aw), X.word(embLanes));
              u.set(ss, ssNext);
              u.if(i.eq(md.dim / P - 1), next, (el) => el.set(i, i.add(1)));
            });
          },
        ],
        [
          opCode('NORM'),
          (o) => {
            // ss (Σ of squares) was accumulated by the EMBED / RESID that wrote x
            o.if(ph.eq(0).and(auxFire), (u) => u.set(cExp, auxLane(0).slice(15, 0).asSigned()).set(normT, tVal).set(normS1, s1Val).set(ph, 1));
            o.if(ph.eq(1).and(auxFire), (u) => {
              u.write(N.mem, i.resize(N.aw), N.word(normLanes));
              u.set(xamax, normAmax);
              u.if(i.eq(md.dim / P - 1), next, (el) => el.set(i, i.add(1)));
            });
          },
        ],
        [
          opCode('QUANT'),
          (o) => {
            // |max| was accumulated by the producer; scale, then issue the GEMV job (this QUANT carries its mat)
            o.if(ph.eq(0), (u) => {
              u.set(actR, qsc.r).set(actS, qsc.s.resize(sW)).set(actMant, qsc.mant);
              u.set(actExp, mux(qsc.zero, lit(0, actExpW, true), qsc.sh.resize(actExpW).sub(lit(e.aBits - 1, actExpW, true)).sub(qFrac)));
              u.if(gJobReady, (v) => v.set(ph, 1).set(k, 0).set(i, 0).set(xamax, 0));
            });
            // code pass: each assembled word goes straight into the GEMV unit's x buffer
            o.if(ph.eq(1).and(xWordDone.not().or(gXReady)), (u) => {
              u.set(xAsm, xAsmNext);
              u.if(xWordDone, (v) => v.set(k, 0), (el) => el.set(k, k.add(1)));
              u.if(i.eq(qSteps.sub(1)), next, (el) => el.set(i, i.add(1)));
            });
          },
        ],
        [
          opCode('GEMV'),
          (o) => {
            // the job was issued by the QUANT before (x streamed) or is issued here with the reuse bit
            o.if(ph.eq(0).and(auxFire), (u) => u.set(cMul, auxLane(0).slice(15, 0)).set(cExp, auxLane(0).slice(31, 16).asSigned()).set(ph, mux(reuseX, lit(1, 3), lit(3, 3))));
            o.if(ph.eq(1).and(gJobReady), (u) => u.set(ph, 3).set(i, 0).set(k, 0));
            o.if(ph.eq(3), (u) => {
              u.if(chunkGo, (v) => {
                v.if(rowOk, (w_) => {
                  const dests: Array<[string, VecMem | undefined, Expr[]]> = [
                    ['wq', Q, ropeLanes], ['wk', K, ropeLanes], ['wv', V, linLanes], ['wo', Y, linLanes],
                    ['w1', H1, linLanes], ['w3', H3, linLanes], ['w2', Y, linLanes], ['cls', LOG, logLanes],
                  ];
                  for (const [mt, vm, lanesE] of dests) {
                    if (!vm) continue;
                    w_.if(mat.eq(MATS.indexOf(mt as (typeof MATS)[number])), (x_) => x_.write(vm.mem, dstAddr.resize(vm.aw), vm.word(lanesE)));
                  }
                });
                v.set(rk, mux(rk.eq(hd / P - 1), lit(0, kkW), rk.add(1)));
                v.if(lastChunk, (w_) => {
                  w_.set(k, 0);
                  w_.if(i.eq(nRowBlocks.sub(1)), next, (el) => el.set(i, i.add(1)));
                }, (el) => el.set(k, k.add(1)));
              });
              u.if(gYFire, (v) => v.set(yBuf, gY).set(yHeld, 1), (el) => el.if(chunkGo.and(lastChunk), (w_) => w_.set(yHeld, 0)));
            });
          },
        ],
        [
          opCode('KVW'),
          (o) => {
            o.if(ph.eq(0), (u) => {
              u.set(amax, kAmaxNext.resize(qa.srcBits)).set(amax2, vAmaxNext);
              u.if(i.eq(G / P - 1), (v) => v.set(i, 0).set(ph, 1), (el) => el.set(i, i.add(1)));
            });
            o.if(ph.eq(1), (u) => {
              u.set(kR, kScale.r).set(kS, kScale.s.resize(kvSW)).set(kM, kScale.mant).set(kE, kExpNext);
              u.set(vR, vScale.r).set(vS, vScale.s.resize(kvSW)).set(vM, vScale.mant).set(vE, vExpNext);
              u.set(ph, 2);
            });
            o.if(ph.eq(2), (u) => {
              u.set(kAsm, kAsmNext).set(vAsm, vAsmNext);
              u.if(i.eq(G / P - 1), (v) => {
                for (let b_ = 0; b_ < NS; b_++)
                  v.if(kvWBank(b_), (w_) => {
                    w_.write(kc[b_]!, kvWAddr, catLanes([kAsmNext, kM, kE.asUnsigned()]));
                    w_.write(vc[b_]!, kvWAddr, catLanes([vAsmNext, vM, vE.asUnsigned()]));
                  });
                v.set(i, 0).set(ph, 0);
                v.if(g.eq(gph - 1), (w_) => {
                  w_.set(g, 0);
                  w_.if(kh.eq(md.nKvHeads - 1), next, (el) => el.set(kh, kh.add(1)));
                }, (el) => el.set(g, g.add(1)));
              }, (el) => el.set(i, i.add(1)));
            });
          },
        ],
        [
          opCode('ATTN'),
          (o) => {
            const lastHeadStep = i.eq(hd / P - 1);
            o.switch(ph, [
              [0, (u) => {
                u.set(amax, qAmaxA.resize(qa.srcBits));
                u.if(lastHeadStep, (v) => v.set(i, 0).set(ph, 1), (el) => el.set(i, i.add(1)));
              }],
              [1, (u) => {
                u.set(qR, qScaleA.r).set(qS, qScaleA.s.resize(qSW));
                u.set(qE, mux(qScaleA.zero, lit(0, qq.expBits, true), qScaleA.sh.resize(qq.expBits).sub(lit(e.aBits - 1 + e.linFrac, qq.expBits, true))));
                u.set(qmInv, qScaleA.mant.mul(lit(tb.invSqrtHead, invW)).resize(e.actMantBits + invW));
                for (const a of accRegs) u.set(a, lit(0, accW, true));
                u.set(maxS, lit(-(2 ** 31), 32, true)).set(sumE, 0).set(ph, 2).set(i, 0).set(sl, 0).set(g, 0);
              }],
              [2, (u) => {
                for (let j = 0; j < hd; j++) u.if(i.eq(Math.floor(j / P)), (v) => v.set(qcRegs[j]!, qCodesA[j % P]!.resize(8)));
                u.if(lastHeadStep, (v) => v.set(i, 0).set(ph, 3), (el) => el.set(i, i.add(1)));
              }],
              // scores of slotPar slots per cycle (one kv group each), one row of slots per gph cycles
              [3, (u) => {
                for (const l of lanesA) u.set(l.sAcc, l.sTot);
                u.if(g.eq(gph - 1), (w_) => {
                  w_.write(scMem, sl.resize(addrBits(rowsSl)), scoreRow);
                  w_.set(maxS, rowMax);
                  w_.if(lastSlot, (v) => v.set(sl, 0).set(g, 0).set(ph, 4), (el) => el.set(sl, sl.add(1)).set(g, 0));
                }, (el) => el.set(g, g.add(1)));
              }],
              // exp(score - max) of a row per cycle (0 for invisible slots), and their sum
              [4, (u) => {
                u.write(scMem, sl.resize(addrBits(rowsSl)), eRow);
                u.set(sumE, sumE.add(eSum));
                u.if(lastSlot, (v) => v.set(sl, 0).set(ph, 5), (el) => el.set(sl, sl.add(1)));
              }],
              [5, (u) => u.set(rReg, rVal).set(psReg, psVal).set(ph, 6).set(sl, 0).set(g, 0)],
              // P.V: a row of slots per group per cycle into the head_dim accumulators
              [6, (u) => {
                for (let j = 0; j < hd; j++)
                  u.if(g.eq(Math.floor(j / G)), (w_) => w_.set(accRegs[j]!, accRegs[j]!.add(pvSum[j % G]!)));
                u.if(g.eq(gph - 1), (w_) =>
                  w_.if(lastSlot, (v) => v.set(sl, 0).set(g, 0).set(ph, 7).set(i, 0), (el) => el.set(sl, sl.add(1)).set(g, 0)),
                (el) => el.set(g, g.add(1)));
              }],
              [7, (u) => {
                u.write(ATT.mem, qBase.resize(ATT.aw), ATT.word(attLanes));
                u.set(xamax, attAmax);
                u.if(lastHeadStep, (v) => {
                  v.set(i, 0).set(ph, 0);
                  v.if(hk.eq(md.nHeads / md.nKvHeads - 1), (w_) => w_.set(hk, 0).set(kh, kh.add(1)), (el) => el.set(hk, hk.add(1)));
                  v.if(h.eq(md.nHeads - 1), next, (el) => el.set(h, h.add(1)));
                }, (el) => el.set(i, i.add(1)));
              }],
            ]);
          },
        ],
        [
          opCode('RESID'),
          (o) => {
            o.write(X.mem, i.resize(X.aw), X.word(residLanes));
            o.set(ss, ssNext);
            o.if(i.eq(md.dim / P - 1), next, (el) => el.set(i, i.add(1)));
          },
        ],
        [
          opCode('SILU'),
          (o) => {
            o.write(H1.mem, i.resize(H1.aw), H1.word(siluLanes));
            o.set(xamax, siluAmax);
            o.if(i.eq(ceilDiv(md.hiddenDim, P) - 1), next, (el) => el.set(i, i.add(1)));
          },
        ],
        [
          opCode('END'),
          (o) => {
            o.set(state, IDLE).set(pc, 0).set(layer, 0).set(pos, pos.add(1));
            o.if(slotCur.eq(slots - 1), (u) => u.set(slotCur, S), (el) => el.set(slotCur, slotCur.add(1)));
            phases.forEach((p_, j) => o.set(p_, p_.add(lit(tb.ropeFreq[j]!, 32))));
          },
        ],
      ], (o) => next(o)),
    );
  }, 'control');
  return m;
}
