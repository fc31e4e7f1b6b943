/**
 * Two prefill groups in flight (hw prefillGroups 2; docs/llm-engine.md#two-groups-in-flight). A block of up to 2T
 * tokens is two groups, A (tokens 0..T-1) and B (the rest). Two issue queues walk the same schedule ROM, as VTA
 * splits load / compute / store:
 *  - the GEMV queue runs only GEMV ops: each maximal run of them (a GEMV phase: wq wk wv | wo | w1 w3 | w2 | cls)
 *    for group A, then again for B; the GEMV unit reads its x in place from the vector queue's code buffer (xc,
 *    one region per block token) and the queue takes each GEMV's constant from the scale stream;
 *  - the vector queue runs every other op, phase by phase (the runs between GEMV phases), for A then for B.
 * A GEMV phase of a group starts when the vector queue has finished the phase before it for that group; a vector
 * phase when the GEMV queue has finished the one before it. So group B's attention runs while the array serves
 * group A's next GEMV phase, and the other way round. B's KV writes and attentions follow A's (position order);
 * the epilogue (final norm, classifier) runs for the block's last token only. Vector memories, A8 scales and x
 * codes are per block token; the KV cache is shared. Every op body comes from ops.ts, as in the one-queue engine.
 */
import { lit, mux, type Block, type Expr } from '../../hdl';
import { bitsFor } from '../../util/errors';
import { IDLE, RUN, type EngineCore } from './core';
import { codeBufferWords } from './hw-config';
import type { QueueIssue } from './gemv-path';
import { gemvWrite, opCases, type EngineParts } from './ops';
import { opCode, type OpName } from './schedule';

export type GemvQueue = ReturnType<typeof gemvQueue>;

/** The GEMV queue's state, the x code buffer, and the view of the core its GEMV path runs on (before gemvPath). */
export function gemvQueue(core: EngineCore) {
  const { m, cfg, md, CW, T, TB, tkb, state, pcW, layW, instrRom, groupLast, sch } = core;
  const gc = cfg.gemv;
  const tcb = gc.tokenCountBits;
  const phW = bitsFor(4 * md.nLayers + 2);
  const reg = (name: string, w: number) => m.reg(name, w, { init: 0 });
  const pc = reg('gq_pc', pcW);
  const layer = reg('gq_layer', layW);
  const ph = reg('gq_ph', 3);
  const i = reg('gq_i', CW);
  const k = reg('gq_k', CW);
  const grp = reg('gq_grp', 1);
  const inPhase = reg('gq_in_phase', 1);
  const phase = reg('gq_phase', phW);
  const startPc = reg('gq_phase_pc', pcW);
  const startLayer = reg('gq_phase_layer', layW);
  const end = reg('gq_end', 1);
  const cMul = m.reg('gq_c_mul', 16);
  const cExp = m.reg('gq_c_exp', 16, { signed: true });
  const wt = reg('gq_wt', tcb);
  // phases each queue has finished, per group: the other queue's start conditions
  const gDone = [reg('gq_done0', phW), reg('gq_done1', phW)] as const;
  const vDone = [reg('vq_done0', phW), reg('vq_done1', phW)] as const;
  const instr = m.let('gq_instr', instrRom.read(pc));
  const opc = m.let('gq_opc', instr.slice(3, 0));
  const mat = m.let('gq_mat', instr.slice(6, 4));
  const plane = m.let('gq_plane', instr.slice(9, 7));
  const reuseX = m.let('gq_reuse_x', instr.bit(12));
  const isGemv = m.let('gq_is_gemv', opc.eq(opCode('GEMV')));
  const go = m.let('gq_go', state.eq(RUN).and(inPhase).and(isGemv).and(mux(grp, vDone[1], vDone[0]).gt(phase)));
  const is = (op: OpName) => go.and(opc.eq(opCode(op)));
  const at = (op: OpName, p: number) => is(op).and(ph.eq(p));
  const inEpi = m.let('gq_in_epi', pc.gt(lit(sch.bodyEnd, pcW)));
  const last = m.let('gq_last', groupLast(grp).resize(tcb));
  const t0 = m.let('gq_t0', mux(inEpi, last, lit(0, tcb)));
  const blockTok = (t: Expr) => mux(grp, t.zext(tkb).add(lit(T, tkb)), t.zext(tkb));
  const writerTok = m.let('gq_tok', blockTok(wt));
  // x codes of every block token, written by the vector queue's QUANTs and read by the unit in place (its job's
  // tokens start at block token grp*T + t0); K - 1 tokens of slack past the end for a partial DSP step
  const xcDepth = codeBufferWords(gc, TB);
  const xcW = bitsFor(xcDepth - 1);
  const xc = m.memory('xc_mem', gc.xPortBits, xcDepth);
  const xcAddr = (tok: Expr, col: Expr) => tok.zext(xcW).mul(lit(gc.maxColSteps, xcW)).resize(xcW).add(col.resize(xcW));
  const xBase = m.let('gq_x_base', xcAddr(blockTok(t0), lit(0, 1)));
  const xRead = (raddr: Expr, j: number) => xc.read(xBase.add(raddr.zext(xcW)).add(lit(j * gc.maxColSteps, xcW)));
  const sTake = m.wire('gq_s_take', 1);
  const issue: QueueIssue = { job: at('GEMV', 1), xRead, sTake, writerTok };
  const view: EngineCore = { ...core, ph, i, k, mat, plane, reuseX, cMul, cExp, wt, t0, nTok: last, is, at, firstTok: lit(1, 1) };
  return {
    view, issue, pc, layer, ph, i, k, grp, inPhase, phase, startPc, startLayer, end, cMul, cExp, wt,
    gDone, vDone, opc, isGemv, go, is, at, inEpi, t0, xc, xcAddr, phW, sTake,
  };
}

export function engineControlGroups(core: EngineCore, parts: EngineParts, gq: GemvQueue): void {
  const { m, md, CW, sch, idBits, ringNext, tok, aux, perf, T, tkb, nTok, tk, tslot, tpos, seg, firstTok } = core;
  const { state, pc, layer, pos, slotCur, slotW, ph, i, k, g, sl, h, kh, hk, opc, running, is, at, pcW, layW } = core;
  const { X, N, Q, K, V, ATT, Y, H1, H3, LOG, GM, xamax, vGrp, vTok, vLast, vGo } = core;
  const { actR, actS, sW, actMantV, actExpV, actExpW, xAsm, e } = core;
  const { phases, rk, rkRow, phaseStep } = parts.rope;
  const { qFrac, qSteps, qsc, xAsmNext, xStepsPerWord } = parts.quant;
  const { gJobReady, gs } = parts.gemv;
  GM?.readAt(is('NORM'), i);
  for (const vm of [X, N, Q, K, V, ATT, Y, H1, H3, ...(LOG ? [LOG] : []), ...(GM ? [GM] : [])]) vm.finish();
  const nL = md.nLayers;
  const grpB = vGrp!;

  // ---- the vector queue's phase state ---------------------------------------------------------------------
  const reg = (name: string, w: number) => m.reg(name, w, { init: 0 });
  const vPhase = reg('vq_phase', gq.phW);
  const vInPhase = reg('vq_in_phase', 1);
  const vStartPc = reg('vq_phase_pc', pcW);
  const vStartLayer = reg('vq_phase_layer', layW);
  const slotB = reg('slot_b', slotW);
  const xWord = reg('vq_x_word', CW);
  const twoGroups = m.let('block_has_b', nTok.ge(lit(T, tkb)));
  const atGemv = opc.eq(opCode('GEMV'));
  const atEnd = opc.eq(opCode('END'));
  // END waits for the GEMV queue's classifier; any other phase for the GEMV phases before it (of its group)
  m.assign(vGo!, vInPhase.and(atGemv.not()).and(mux(atEnd, gq.end, mux(grpB, gq.gDone[1], gq.gDone[0]).ge(vPhase))));

  // ---- handshakes -----------------------------------------------------------------------------------------
  m.assign(tok.ready, state.eq(IDLE));
  m.assign(aux.ready, at('EMBED', 0).or(at('EMBED', 1)).or(at('NORM', 0).or(at('NORM', 1)).and(firstTok)));
  m.assign(gq.sTake, gq.at('GEMV', 0).and(gs.valid));

  // ---- perf counters: GEMV-queue busy cycles, vector-queue attention and other cycles, idle --------------------
  const pG = reg('perf_g', 32);
  const pA = reg('perf_a', 32);
  const pO = reg('perf_o', 32);
  const pI = reg('perf_i', 32);
  m.assign(perf.gemv, pG);
  m.assign(perf.attn, pA);
  m.assign(perf.other, pO);
  m.assign(perf.idle, pI);
  m.sync((b) => {
    b.if(gq.is('GEMV'), (t) => t.set(pG, pG.add(1)));
    b.if(is('ATTN').or(is('KVW')), (t) => t.set(pA, pA.add(1)), (el) => el.if(running, (t) => t.set(pO, pO.add(1))));
    b.if(state.eq(IDLE), (t) => t.set(pI, pI.add(1)));
  }, 'perf');

  const advance = (b: Block, pcR: typeof pc, layerR: typeof layer) =>
    b.if(pcR.eq(sch.bodyEnd).and(layerR.ne(nL - 1)), (t) => t.set(pcR, sch.bodyStart).set(layerR, layerR.add(1)), (el) => el.set(pcR, pcR.add(1)));

  // ---- vector queue -----------------------------------------------------------------------------------------
  const clearCounters = (b: Block) => b.set(ph, 0).set(i, 0).set(k, 0).set(g, 0).set(sl, 0).set(h, 0).set(kh, 0).set(hk, 0);
  /** A vector phase done for group vGrp: run it again for B, or move on to the next phase (after the GEMVs). */
  const endPass = (b: Block) => {
    b.if(grpB, (t) => t.set(gq.vDone[1], gq.vDone[1].add(1)), (el) => el.set(gq.vDone[0], gq.vDone[0].add(1)));
    b.if(grpB.not().and(twoGroups), (t) => t.set(pc, vStartPc).set(layer, vStartLayer).set(grpB, 1).set(tk, 0).set(tslot, slotB),
      (el) => {
        el.set(vInPhase, 0).set(vPhase, vPhase.add(1));
        // the classifier's phase keeps the last token (and its group) for END
        el.if(pc.gt(lit(sch.bodyEnd, pcW)).not(), (r) => r.set(grpB, 0).set(tk, 0).set(tslot, slotCur));
      });
  };
  const lastBodySeg = pc.eq(sch.bodyEnd).and(layer.eq(nL - 1));
  // A segment's last op loops back over the group's tokens; group A's last layer ends its pass before the epilogue
  // when B follows (the epilogue is the block's last token's).
  const next = (b: Block) => {
    clearCounters(b);
    const segEnd = seg.ne(0);
    b.if(segEnd.and(tk.ne(vLast)), (t) => {
      t.set(tk, tk.add(1)).set(tslot, ringNext(tslot)).set(pc, pc.sub(seg.resize(pc.width)).add(1));
    }, (el) => {
      el.if(segEnd.and(grpB.not()), (r) => r.set(slotB, ringNext(tslot)));
      el.if(segEnd.and(lastBodySeg).and(grpB.not()).and(twoGroups), endPass, (r) => {
        r.if(segEnd.and(lastBodySeg.not()), (q) => q.set(tk, 0).set(tslot, mux(grpB, slotB, slotCur)));
        advance(r, pc, layer);
      });
    });
  };
  // QUANT: scale, then each assembled word of codes into the token's region of the code buffer (the unit reads it there)
  const wordDone = m.let('vq_word_done', k.eq(xStepsPerWord - 1));
  const quant = (o: Block) => {
    o.if(ph.eq(0), (u) => {
      u.set(actR, qsc.r).set(actS, qsc.s.resize(sW));
      actMantV.set(u, vTok, qsc.mant);
      actExpV.set(u, vTok, mux(qsc.zero, lit(0, actExpW, true), qsc.sh.resize(actExpW).sub(lit(e.aBits - 1, actExpW, true)).sub(qFrac)));
      u.set(ph, 1).set(k, 0).set(i, 0).set(xamax, 0).set(xWord, 0);
    });
    o.if(ph.eq(1), (u) => {
      u.set(xAsm, xAsmNext);
      u.if(wordDone, (v) => v.write(gq.xc, gq.xcAddr(vTok, xWord), xAsmNext).set(k, 0).set(xWord, xWord.add(1)), (el) => el.set(k, k.add(1)));
      u.if(i.eq(qSteps.sub(1)), next, (el) => el.set(i, i.add(1)));
    });
  };

  // ---- GEMV queue -------------------------------------------------------------------------------------------
  const gNext = (b: Block) => {
    b.set(gq.ph, 0).set(gq.i, 0).set(gq.k, 0).set(rk, 0);
    if (rkRow) b.set(rkRow, 0);
    b.set(gq.pc, gq.pc.add(1));
  };
  const writer = gemvWrite(gq.view, parts, gNext, gq.issue.writerTok);

  m.sync((b) => {
    b.if(state.eq(IDLE), (t) =>
      t.if(tok.valid, (u) => {
        u.set(state, RUN).set(pc, 0).set(layer, 0).set(xamax, 0);
        clearCounters(u);
        u.set(nTok, tok.data.slice(idBits + tkb, idBits + 1)).set(tk, 0).set(tslot, slotCur);
        u.set(grpB, 0).set(vPhase, 0).set(vInPhase, 1).set(vStartPc, 0).set(vStartLayer, 0);
        u.set(gq.pc, 0).set(gq.layer, 0).set(gq.ph, 0).set(gq.grp, 0).set(gq.inPhase, 0).set(gq.phase, 0).set(gq.end, 0);
        for (const r of [...gq.gDone, ...gq.vDone]) u.set(r, 0);
        u.if(tok.data.bit(idBits), (v) => {
          v.set(pos, 0).set(slotCur, 0).set(tslot, 0);
          for (const p_ of phases) v.set(p_, 0);
        });
      }),
    );
    // vector queue: phase boundaries (at a GEMV op: the pass is done; after the GEMVs: a new phase starts)
    b.if(state.eq(RUN), (t) =>
      t.if(atGemv, (u) => u.if(vInPhase, endPass, (el) => el.set(pc, pc.add(1))),
        (el) => el.if(vInPhase.not(), (u) => u.set(vInPhase, 1).set(vStartPc, pc).set(vStartLayer, layer))));
    b.if(running, (t) =>
      t.switch(opc, [
        ...opCases(core, parts, next, { quant }),
        [
          opCode('END'),
          (o) => {
            // the block's last token is tk of the last group: the next block / decode step starts after it
            o.set(state, IDLE).set(pc, 0).set(layer, 0).set(pos, tpos.add(1));
            o.set(slotCur, ringNext(tslot)).set(tk, 0).set(tslot, ringNext(tslot)).set(grpB, 0);
            phases.forEach((p_, j) => o.set(p_, p_.add(phaseStep(j))));
          },
        ],
      ], (o) => next(o)),
    );

    // GEMV queue: phase boundaries and skipping the vector ops
    b.if(state.eq(RUN).and(gq.end.not()), (t) =>
      t.if(gq.isGemv.not(), (u) =>
        u.if(gq.inPhase, (v) => {
          v.if(gq.grp, (x) => x.set(gq.gDone[1], gq.gDone[1].add(1)), (x) => x.set(gq.gDone[0], gq.gDone[0].add(1)));
          v.if(gq.grp.not().and(twoGroups).and(gq.inEpi.not()), (x) => x.set(gq.pc, gq.startPc).set(gq.layer, gq.startLayer).set(gq.grp, 1),
            (x) => x.set(gq.inPhase, 0).set(gq.grp, 0).set(gq.phase, gq.phase.add(1)));
        }, (v) => v.if(gq.opc.eq(opCode('END')), (x) => x.set(gq.end, 1), (x) => advance(x, gq.pc, gq.layer))),
      (u) => u.if(gq.inPhase.not(), (v) =>
        v.set(gq.inPhase, 1).set(gq.startPc, gq.pc).set(gq.startLayer, gq.layer).set(gq.grp, gq.inEpi.and(twoGroups)))));
    // the GEMV op: constant from s, job (the unit reads x in place), then the writer
    b.if(gq.at('GEMV', 0).and(gs.valid), (t) =>
      t.set(gq.cMul, gs.data.slice(15, 0)).set(gq.cExp, gs.data.slice(31, 16).asSigned()).set(gq.ph, 1).set(gq.wt, gq.t0));
    b.if(gq.at('GEMV', 1).and(gJobReady), (t) => t.set(gq.ph, 3).set(gq.i, 0).set(gq.k, 0));
    b.if(gq.go, writer);
  }, 'control');
}
