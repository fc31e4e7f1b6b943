/**
 * Element-wise datapaths of the decode engine, P elements per cycle: EMBED (dequantise the embedding row), NORM
 * (RMSNorm from the fused Σx²), QUANT (A8 codes assembled into GEMV x words), RESID and SILU, and the fused
 * reductions (Σx² for the next NORM, |max| for the next QUANT). Formats: docs/formats.md.
 */
import { lit, mux, sumTree, type Expr } from '../../hdl';
import { bitsFor } from '../../util/errors';
import { roundUp } from './hw-config';
import type { EngineCore } from './core';
import { QSRC } from './schedule';
import { asS, catLanes, qcodeHw, qscaleHw } from './units';

/** EMBED: x = sat(shr(scale * level * mul, exp - resFrac), resBits). */
export function embedPath(core: EngineCore) {
  const { m, A, e, cfg, P, auxLane, cExp, cMul } = core;
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
  return { embLanes };
}

/** NORM: rsqrt lookup from the registered Σx², then x * t * gamma. */
export function normPath(core: EngineCore) {
  const { m, A, e, cfg, P, X, is, i, ss, rsqrtRom, s1W, cExp, normT, normS1, auxLane, GM, firstTok } = core;
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
    // weights from aux for the block's first token, from GM (kept as it read them) for the others
    const gmA = auxLane(q).slice(e.normWBits - 1, 0);
    const gm = (GM ? mux(firstTok, gmA, GM.rdata.slice(e.normWBits * q + e.normWBits - 1, e.normWBits * q)) : gmA).asSigned();
    const y = A.shrDynRound(A.wire('ntg', t.mul(gm)), normS2, cfg.normS2.lo, cfg.normS2.hi);
    normLanes.push(y.resize(cfg.nBits));
  }
  return { tVal, s1Val, normLanes };
}

/** QUANT: A8 of N, ATT or H1 into the GEMV x buffer. */
export function quantPath(core: EngineCore) {
  const { m, A, e, md, P, CW, N, ATT, H1, is, i, qsrc, c, qa, actExpW, xamax, recipRom, actR, actS, gc, xAsm } = core;
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
  const qsc = qscaleHw(A, e, recipRom, xamax, qa);
  const qCodes = qVals.map((v) => qcodeHw(A, v, actR, actS, qa));
  const xStepsPerWord = gc.simd / P;
  const xAsmNext = m.let(
    'x_asm_next',
    xStepsPerWord === 1 ? catLanes(qCodes.map((q) => q.asUnsigned())) : catLanes([xAsm.slice(8 * gc.simd - 1, 8 * P), ...qCodes.map((q) => q.asUnsigned())]),
  );
  return { qFrac, qSteps, qsc, xStepsPerWord, xAsmNext };
}

/** RESID (x += y) and SILU (h1 = silu(h1) * h3). */
export function residSiluPath(core: EngineCore) {
  const { A, e, cfg, P, X, Y, H1, H3, is, i, lin, sigRom } = core;
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
  return { residLanes, siluLanes };
}

/**
 * Fused reductions: Σ (x >> sqShift)^2 of x as EMBED / RESID write it, so NORM needs no pass of its own; |max| of what
 * NORM / SILU write (as stored, masked to the vector length), for the next QUANT (ATTN's is in attention.ts).
 */
export function reductions(core: EngineCore, embLanes: Expr[], residLanes: Expr[], normLanes: Expr[], siluLanes: Expr[]) {
  const { m, A, e, cfg, md, P, CW, i, ss, is, lin, qa, absOf, amaxWith } = core;
  const sqTerms = Array.from({ length: P }, (_, q) => {
    const v = A.shrC(mux(is('EMBED'), embLanes[q]!, residLanes[q]!), e.sqShift);
    return v.mul(v).resize(e.ssBits + 1).asUnsigned().resize(e.ssBits);
  });
  const ssNext = m.let('ss_next', mux(i.eq(0), lit(e.epsSs, e.ssBits), ss).add(sumTree(sqTerms, e.ssBits)));
  const normAmax = amaxWith(normLanes.map((x) => absOf(x, cfg.nBits)));
  const hidW = CW + bitsFor(P);
  const siluAmax = amaxWith(siluLanes.map((x, q) => {
    const ok = i.zext(hidW).mul(lit(P, bitsFor(P))).resize(hidW).add(lit(q, hidW)).lt(lit(md.hiddenDim, hidW));
    return mux(ok, absOf(x, lin), lit(0, qa.srcBits));
  }));
  return { ssNext, normAmax, siluAmax };
}
