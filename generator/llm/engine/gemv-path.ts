/**
 * The GEMV path of the decode engine: the optional w / s prefetch FIFOs, the GEMV unit instance fed by QUANT's x
 * words, and its writer, which requantises each row chunk (accumulating the digit planes of the classifier and of
 * 4-bit linear matrices in the LOG memory) and rotates q / k chunks (RoPE fused into the writer) as wq / wk write them.
 */
import { cat, lit, mux, select, type Expr, type Signal } from '../../hdl';
import { fifoModule } from '../../lib/fifo';
import { bitsFor } from '../../util/errors';
import { xBufAddrBits } from '../gemv/config';
import { gemvModule } from '../gemv/rtl';
import { MATS, ceilDiv, matDims } from './hw-config';
import type { EngineCore } from './core';
import { asS, catLanes } from './units';

/**
 * How the GEMV unit is fed when a separate GEMV queue runs it (two groups in flight, control-groups.ts): the queue
 * issues every job, streams x from the vector queue's code buffer, takes each GEMV's constant word from the scale
 * stream (`sTake`), and its writer writes block token `writerTok`. Without it the one controller does all of this.
 */
export interface QueueIssue {
  job: Expr;
  /** The x word of the unit's read address for the step's j-th token (the unit is built with xExternal). */
  xRead: (raddr: Expr, j: number) => Expr;
  sTake: Expr;
  writerTok: Expr;
}

export function gemvPath(core: EngineCore, quant: { xAsmNext: Expr; xStepsPerWord: number }, queue?: QueueIssue) {
  const { m, A, e, cfg, md, P, gc, lanes, name, wIn, sIn, reuseX, mat, plane, c, CW, i, k, at, is, logits, LOG, cMul, actMantV, cExp, actExpV, lin, T, nTok, t0, wt, firstTok } = core;
  const { xAsmNext, xStepsPerWord } = quant;
  const matInfo = MATS.map((mt) => {
    const [rows, cols] = matDims(md, mt);
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
    cat(...(T > 1 ? [nTok.sub(t0)] : []), reuseX, select(mat, matInfo.map((mi) => lit(BigInt(mi.nGroups) | (BigInt(mi.nRowBlocks) << BigInt(gc.groupCountBits)), jobBase)))),
  );
  // QUANT streams each x word into the GEMV unit as it is assembled (the job was issued at the QUANT's start).
  const xData = xAsmNext;
  // with a GEMV queue it also takes one constant word from s before each job (the unit is idle then)
  const gSReady = queue ? m.wire('g_s_ready', 1) : gs.ready;
  if (queue) m.assign(gs.ready, gSReady.or(queue.sTake));
  // with a GEMV queue the unit reads x from the queue's code buffer through its read address
  const xPorts: Record<string, Expr> = {};
  if (queue) {
    const raddr = m.wire('g_x_raddr', xBufAddrBits(gc));
    xPorts.x_raddr = raddr;
    for (let j = 0; j < gc.tokensPerStep; j++) xPorts[`x_rdata${j}`] = queue.xRead(raddr, j);
  } else Object.assign(xPorts, { x_valid: gXValid, x_ready: gXReady, x_data: xData });
  m.instance(gemv, 'u_gemv', {
    job_valid: gJob,
    job_ready: gJobReady,
    job_data: jobWord,
    ...xPorts,
    w_valid: gw.valid,
    w_ready: gw.ready,
    w_data: gw.data,
    s_valid: gs.valid,
    s_ready: gSReady,
    s_data: gs.data,
    y_valid: gYValid,
    y_ready: gYReady,
    y_data: gY,
  });
  const colSteps = m.let('g_col_steps', select(mat, matInfo.map((mi) => c(mi.colSteps))));
  const nRowBlocks = m.let('g_row_blocks', select(mat, matInfo.map((mi) => c(mi.nRowBlocks))));
  const matRows = m.let('g_rows', select(mat, matInfo.map((mi) => c(mi.rows))));
  const isCls = m.let('g_is_cls', mat.eq(MATS.indexOf('cls')));
  const lastPlane = m.let('g_last_plane', plane.eq(cfg.clsPasses - 1));
  // 2:4 units run each digit plane as two halves: the digit (weight 4^digit) is the pass index without its low bit.
  const digit = cfg.clsPasses > cfg.clsPlanes ? m.let('g_digit', plane.slice(2, 1)) : plane;
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
  m.assign(gJob, queue ? queue.job : at('QUANT', 0).and(firstTok).or(at('GEMV', 1)));
  if (queue) m.assign(gXReady, lit(0, 1));
  m.assign(gXValid, queue ? lit(0, 1) : at('QUANT', 1).and(xWordDone));
  m.assign(gYReady, at('GEMV', 3).and(yHeld.not().or(chunkGo.and(lastChunk))));
  const gYFire = m.let('g_y_fire', gYValid.and(gYReady));
  LOG?.readAt(is('GEMV'), dstAddr);
  // the A8 scale of the token being written
  const actMant = m.let('g_act_mant', actMantV.read(queue ? queue.writerTok : wt));
  const actExp = m.let('g_act_exp', actExpV.read(queue ? queue.writerTok : wt));
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
      const shifted = A.shlDyn(val, digit.resize(3).shl(1));
      const old = mux(plane.eq(0), lit(0, cfg.logAccBits, true), LOG.lane(q));
      const sum = A.wire('glog', old.add(shifted));
      logLanes.push(sum);
      // with 4-bit linear matrices every GEMV goes through the plane sum (a single-pass matrix is plane 0: old = 0)
      val = cfg.linPlanes > 1 ? sum : mux(isCls, sum, val);
    }
    const prod = A.wire('grq', val.mul(asS(kq)));
    const shr = A.shrDynRound(prod, rqS, cfg.requantShift.lo, cfg.requantShift.hi);
    rqLanes.push(A.sat(shr, 32));
    linLanes.push(A.sat(shr, lin));
  }
  m.assign(logits.valid, wrEn.and(toLogits).and(rowOk));
  m.assign(logits.data, catLanes(rqLanes.map((r) => r.asUnsigned())));
  m.assign(logits.last!, r0.add(lit(P, r0.width)).ge(lit(md.vocabSize, r0.width)));
  return { matInfo, gJobReady, gXReady, gY, gYFire, nRowBlocks, colSteps, rowOk, dstAddr, lastChunk, chunkGo, xWordDone, yBuf, yHeld, linLanes, logLanes, gs };
}

/** RoPE, fused into the GEMV writer: q and k chunks are rotated as wq / wk write them. */
export function ropePath(core: EngineCore, linLanes: Expr[], writerTok?: Expr) {
  const { m, A, e, hd, P, lin, cosAt, cosW, T, TB, tb, wt, nTok } = core;
  const nPairs = hd / 2;
  const phases: Signal[] = Array.from({ length: nPairs }, (_, j) => m.reg(`rope_phase${j}`, 32, { init: 0 }));
  const NL = e.ropeLutBits;
  const ropeIn = (q: number) => linLanes[q]!;
  const ropeLanes: Expr[] = [];
  const kkW = bitsFor(hd / P);
  // chunk of P elements within the head being written (the writer visits chunks in order)
  const rk = m.reg('rope_chunk', kkW, { init: 0 });
  // prefill: the chunk the writer restarts at for the row block's next token
  const rkRow = T > 1 ? m.reg('rope_chunk_row', kkW, { init: 0 }) : undefined;
  // phases hold position pos; token t of a block is at pos + t: its phase adds t * freq (mod 2^32)
  const offs = (j: number, n: number) => Array.from({ length: n }, (_, t) => lit((BigInt(t) * BigInt(tb.ropeFreq[j]!)) % 2n ** 32n, 32));
  const phaseStep = (j: number): Expr => (T > 1 ? select(nTok, offs(j, TB + 1).slice(1)) : lit(tb.ropeFreq[j]!, 32));
  for (let q = 0; q < P / 2; q++) {
    const cands = Array.from({ length: hd / P }, (_, cc) => {
      const j = cc * (P / 2) + q;
      return T > 1 ? phases[j]!.add(select(writerTok ?? wt, offs(j, TB))) : phases[j]!;
    });
    const phase = A.wire('rph', select(rk, cands));
    const idx = A.wire('ridx', phase.add(lit(2 ** (31 - NL), 32)).slice(31, 32 - NL));
    const co = A.wire('rcos', cosAt(idx));
    const si = A.wire('rsin', cosAt(idx.sub(lit(2 ** NL / 4, NL))));
    const v0 = ropeIn(2 * q);
    const v1 = ropeIn(2 * q + 1);
    const pw = lin + cosW + 1;
    const a0 = v0.mul(co).resize(pw).sub(v1.mul(si).resize(pw));
    const a1 = v0.mul(si).resize(pw).add(v1.mul(co).resize(pw));
    ropeLanes.push(A.sat(A.shrC(A.wire('ra0', a0), e.ropeFrac), lin), A.sat(A.shrC(A.wire('ra1', a1), e.ropeFrac), lin));
  }
  return { phases, ropeLanes, rk, rkRow, kkW, phaseStep };
}
