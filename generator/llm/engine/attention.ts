/**
 * The KV and attention paths: KVW quantises this position's k and v per kv head and group into the slot-banked
 * KV cache; ATTN quantises q, scores slotPar slots per cycle under the Λ mask (sinks + window), takes the softmax
 * from the 2^-f table and accumulates P.V into head_dim registers.
 */
import { lit, mux, select, sumTree, type Expr, type Module } from '../../hdl';
import { pairedProducts, pairFitsDsp, pairHighField, pairOperand, splitPairSum } from '../../lib/dsp-pack';
import { bitsFor } from '../../util/errors';
import { addrBits } from './hw-config';
import type { EngineCore } from './core';
import { asS, catLanes, qcodeHw, qscaleHw } from './units';

export function kvWritePath(core: EngineCore) {
  const { m, A, e, cfg, md, P, G, hd, gph, CW, K, V, is, i, g, kh, layer, lin, amax, amax2, recipRom, maxTree, kvAw, tslot, slotW, lgNS } = core;
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
  // the slot of the token being written (tslot = slot_cur in decode; a prefill block walks its tokens' slots)
  const slotCurX = tslot.zext(slotW + lgNS);
  const slotRowCur = lgNS === 0 ? tslot : slotCurX.shr(lgNS);
  const kvWAddr = m.let('kv_waddr', cacheAddr(slotRowCur));
  const kvWBank = (b: number) => (lgNS === 0 ? lit(1, 1) : slotCurX.slice(lgNS - 1, 0).eq(b));
  return { kAmaxNext, vAmaxNext, kScale, vScale, kvSW, kR, kS, kM, kE, vR, vS, vM, vE, kAsm, vAsm, kAsmNext, vAsmNext, kExpNext, vExpNext, rowsSl, cacheAddr, kvWAddr, kvWBank, kvCodeBits };
}

export function attentionPath(core: EngineCore, kvw: ReturnType<typeof kvWritePath>, kkW: number) {
  const { m, A, e, cfg, P, G, hd, gph, S, W, NS, lgNS, slots, tb, CW, Q, is, i, g, h, sl, tpos: pos, lin, amax, recipRom, exp2Rom, maxTree, kc, vc, scW, scMem, absOf, amaxWith } = core;
  const { cacheAddr, kvCodeBits, rowsSl } = kvw;
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
  const kWords = Array.from({ length: NS }, (_, n) => m.let(`at_kword${n}`, kc[n]!.read(cAddr)));
  const dots = scoreDots(m, qvs, kWords.map((w) => fieldsOf(w).code), G, dotW);
  // the exp pass sums two rows of slots per cycle: row sl and row sl + expPassCycles (read port B)
  // (with one row there is no second row to read)
  const rowB = rowsSl > 1 ? m.let('at_slb', sl.resize(addrBits(rowsSl) + 1).add(lit(cfg.expPassCycles, addrBits(rowsSl) + 1))) : undefined;
  const rowBIn = rowB && m.let('at_slb_in', rowB.lt(lit(rowsSl, rowB.width)));
  // Visibility of slot row * slotPar + n under the Λ mask
  const visOf = (row: Expr, n: number, tag: string) => {
    const slot = m.let(`at_slot${tag}${n}`, row.resize(32).shl(lgNS).add(lit(n, 32)));
    const visSink = S > 0 ? slot.lt(lit(S, 32)).and(slot.le(pos)) : lit(0, 1);
    const visWin = S > 0 ? slot.ge(lit(S, 32)).and(slot.sub(lit(S, 32)).lt(nWin)) : slot.lt(nWin);
    return m.let(`at_vis${tag}${n}`, visSink.or(visWin));
  };
  // softmax numerator exp(score - max) from the 2^-f table, 0 for an invisible slot: the exp pass sums it, the P.V
  // pass recomputes it from the same stored score (so the exp pass writes nothing back)
  const expOf = (scLane: Expr, vis: Expr, tag: string) => {
    const dd = m.let(`at_d${tag}`, maxS.resize(dW).sub(scLane.slice(31, 0).asSigned().resize(dW)));
    const dC = m.let(`at_dc${tag}`, mux(dd.gt(lit(clampD, dW, true)), lit(clampD, dW, true), dd).resize(dcW));
    const z = A.shrC(A.wire('atz', dC.mul(lit(tb.log2e, bitsFor(tb.log2e) + 1, true))), e.log2eFrac);
    const nSh = A.wire('atn', z.shr(e.scoreFrac));
    const fr = A.wire('atfr', z.slice(e.scoreFrac - 1, 0).zext(e.scoreFrac + 1).asSigned());
    const fIdx = A.shrC(fr, e.scoreFrac - e.expLutBits);
    const e0 = A.wire('ate0', exp2Rom.read(fIdx.asUnsigned().slice(bitsFor(2 ** e.expLutBits) - 1, 0)));
    const nBig = m.let(`at_nbig${tag}`, nSh.gt(lit(e.expFrac, nSh.width, true)));
    const eShift = A.shrDynRound(asS(e0), A.wire('atna', nSh.resize(bitsFor(e.expFrac) + 2)), 0, e.expFrac);
    return m.let(`at_e${tag}`, mux(nBig.or(vis.not()), lit(0, cfg.sumBits), eShift.resize(cfg.sumBits + 1).asUnsigned().resize(cfg.sumBits)));
  };
  const lanesA = Array.from({ length: NS }, (_, n) => {
    const vis = visOf(sl, n, '');
    const kf = fieldsOf(kWords[n]!);
    const vf = fieldsOf(m.let(`at_vword${n}`, vc[n]!.read(cAddr)));
    // score term of this group: dot(q codes, k codes) * kmant * (qmant * invSqrt), shifted to scoreFrac
    const dot = dots[n]!;
    const scS = m.let(`at_score_s${n}`, lit(e.invSqrtFrac - e.scoreFrac, scSW, true).sub(kf.exp.resize(scSW)).sub(qE.resize(scSW)));
    const term = A.shrDynRound(A.wire('atp', dot.mul(asS(kf.mant)).mul(asS(qmInv))), scS, cfg.scoreShift.lo, cfg.scoreShift.hi);
    const sAccW = term.width + bitsFor(gph) + 1;
    const sAcc = m.reg(`at_sacc${n}`, sAccW, { signed: true });
    const sTot = m.let(`at_stot${n}`, mux(g.eq(0), lit(0, sAccW, true), sAcc).add(term.resize(sAccW)));
    const score = A.wire('atsc', A.sat(sTot, 32));
    const eVal = expOf(scRow.slice(scW * n + scW - 1, scW * n), vis, `${n}`);
    // P.V: p = shr(e * recip, ps); dequantised v (vFrac, saturated to vBits)
    const pVal = A.wire('atpv', A.shrDynRound(A.wire('atpp', asS(eVal).mul(asS(rReg))), psReg, cfg.probShift.lo, cfg.probShift.hi).resize(pBits));
    const vSh = m.let(`at_vsh${n}`, lit(-e.vFrac, vvW, true).sub(vf.exp.resize(vvW)));
    // dequantised v codes: the slot's mantissa times two codes per multiplier (lib/dsp-pack.ts pairedProducts)
    const raws = pairedProducts(m, `at_vr${n}_`, asS(vf.mant), Array.from({ length: G }, (_, t) => vf.code(t)));
    const pv = Array.from({ length: G }, (_, t) => {
      const raw = raws[t]!;
      const vfx = A.sat(A.shrDynRound(raw, vSh, cfg.vShift.lo, cfg.vShift.hi), e.vBits);
      return A.wire('atpvp', mux(vis, pVal.mul(vfx).resize(accW), lit(0, accW, true)));
    });
    return { vis, sAcc, sTot, score, scMasked: mux(vis, score, NEG), eVal, pv };
  });
  const scRowB = rowB && rowBIn && m.let('at_sc_b', scMem.read(mux(rowBIn, rowB, lit(0, rowB.width)).resize(addrBits(rowsSl))));
  const eValsB = rowB && rowBIn && scRowB
    ? Array.from({ length: NS }, (_, n) => expOf(scRowB.slice(scW * n + scW - 1, scW * n), m.let(`at_vis_bin${n}`, rowBIn.and(visOf(rowB, n, 'b'))), `b${n}`))
    : [];
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
  const eSum = m.let('at_e_sum', sumTree([...lanesA.map((l) => l.eVal), ...eValsB], cfg.sumBits));
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
  return { qq, qBase, qAmaxA, qScaleA, qSW, qR, qS, qE, invW, qmInv, qCodesA, qcRegs, maxS, sumE, accW, rReg, psReg, lanesA, rowMax, scoreRow, eSum, pvSum, rVal, psVal, accRegs, attLanes, attAmax };
}

/**
 * The score dot products sum_t q_t * k_t of every slot of a row, dotW bits each. Two slots share one multiplier per
 * element (lib/dsp-pack.ts): q_t times both slots' k codes wired into one operand, k_b * 2^dotW + k_a, whose products
 * are summed in that packed form and split once — half the DSP48E2s of one product per slot and element, and one
 * adder tree of twice the width instead of two. A last odd slot, or k codes too wide for the DSP's 27-bit port,
 * take plain products.
 */
function scoreDots(m: Module, qvs: Expr[], kCodes: Array<(t: number) => Expr>, G: number, dotW: number): Expr[] {
  const dots: Expr[] = [];
  const kBits = kCodes[0]!(0).width;
  const packable = pairFitsDsp(dotW, kBits);
  for (let n = 0; n < kCodes.length; n++) {
    const ka = kCodes[n]!;
    const kb = kCodes[n + 1];
    if (!packable || !kb) {
      dots.push(m.let(`at_dot${n}`, sumTree(qvs.map((qv, t) => qv.mul(ka(t)).resize(dotW)), dotW)));
      continue;
    }
    const W = 2 * dotW + 1;
    const prods = qvs.map((qv, t) => qv.mul(pairOperand(m.let(`at_kpair${n}_${t}`, pairHighField(kb(t), ka(t))), ka(t), dotW)).resize(W));
    const [lo, hi] = splitPairSum(m.let(`at_dotpair${n}`, sumTree(prods, W)), dotW);
    dots.push(m.let(`at_dot${n}`, lo.resize(dotW)), m.let(`at_dot${n + 1}`, hi.resize(dotW)));
    n++;
  }
  if (dots.length !== kCodes.length || G !== qvs.length) throw new Error('scoreDots: one dot per slot');
  return dots;
}
