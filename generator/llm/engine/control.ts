/**
 * The engine's controller: the vector memories' read-address muxes, the stream handshakes of the current op, the
 * perf counters, and the one sequential process that steps through the schedule ROM and runs every op's phases.
 */
import { lit, mux, type Block, type Expr } from '../../hdl';
import { MATS, addrBits, ceilDiv } from './hw-config';
import type { attentionPath, kvWritePath } from './attention';
import { IDLE, RUN, type EngineCore } from './core';
import type { gemvPath, ropePath } from './gemv-path';
import { opCode } from './schedule';
import { catLanes, type VecMem } from './units';
import type { embedPath, normPath, quantPath, reductions, residSiluPath } from './vector';

export interface EngineParts {
  emb: ReturnType<typeof embedPath>;
  norm: ReturnType<typeof normPath>;
  quant: ReturnType<typeof quantPath>;
  gemv: ReturnType<typeof gemvPath>;
  rope: ReturnType<typeof ropePath>;
  rs: ReturnType<typeof residSiluPath>;
  red: ReturnType<typeof reductions>;
  kvw: ReturnType<typeof kvWritePath>;
  attn: ReturnType<typeof attentionPath>;
}

export function engineControl(core: EngineCore, parts: EngineParts): void {
  const { m, e, md, P, G, hd, gph, slots, S, NS, tb, sch, idBits, tok, aux, perf, auxLane, auxFire } = core;
  const { state, pc, layer, pos, slotCur, ph, i, k, g, sl, h, kh, hk, opc, mat, reuseX, more, layerEnd, running, is, at } = core;
  const { T, tkb, nTok, tk, wt, tslot, tpos, seg, t0, firstTok } = core;
  const { X, N, Q, K, V, ATT, Y, H1, H3, LOG, GM, kc, vc, scMem } = core;
  const { cMul, cExp, qa, amax, xamax, amax2, actR, sW, actS, actMantV, actExpV, actExpW, xAsm, ssV, normT, normS1 } = core;
  const { embLanes } = parts.emb;
  const { tVal, s1Val, normLanes } = parts.norm;
  const { qFrac, qSteps, qsc, xAsmNext } = parts.quant;
  const { gJobReady, gXReady, gY, gYFire, nRowBlocks, rowOk, dstAddr, lastChunk, chunkGo, xWordDone, yBuf, yHeld, linLanes, logLanes } = parts.gemv;
  const { phases, ropeLanes, rk, rkRow, kkW, phaseStep } = parts.rope;
  const { residLanes, siluLanes } = parts.rs;
  const { ssNext, normAmax, siluAmax } = parts.red;
  const { kAmaxNext, vAmaxNext, kScale, vScale, kvSW, kR, kS, kM, kE, vR, vS, vM, vE, kAsm, vAsm, kAsmNext, vAsmNext, kExpNext, vExpNext, rowsSl, kvWAddr, kvWBank } = parts.kvw;
  const { qq, qAmaxA, qScaleA, qSW, qR, qS, qE, invW, qmInv, qCodesA, qcRegs, maxS, sumE, accW, rReg, psReg, lanesA, rowMax, scoreRow, eRow, eSum, pvSum, rVal, psVal, accRegs, qBase, attLanes, attAmax } = parts.attn;
  GM?.readAt(is('NORM'), i);
  for (const vm of [X, N, Q, K, V, ATT, Y, H1, H3, ...(LOG ? [LOG] : []), ...(GM ? [GM] : [])]) vm.finish();

  // ---- handshakes driven by the current op ---------------------------------------------------------------
  m.assign(tok.ready, state.eq(IDLE));
  m.assign(
    aux.ready,
    at('EMBED', 0).or(at('EMBED', 1)).or(at('NORM', 0).or(at('NORM', 1)).and(firstTok)).or(at('GEMV', 0)),
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
  const clearCounters = (b: Block) => {
    b.set(ph, 0).set(i, 0).set(k, 0).set(g, 0).set(sl, 0).set(h, 0).set(kh, 0).set(hk, 0).set(rk, 0);
    if (rkRow) b.set(rkRow, 0);
  };
  const ringNext = (s_: Expr) => mux(s_.eq(slots - 1), lit(S, s_.width), s_.add(1));
  // one body repeated per layer, or (layers differing in 4-bit matrices) every layer's body, each ending in layerEnd
  const advancePc = (b: Block) =>
    sch.loop || !layerEnd
      ? b.if(
        pc.eq(sch.bodyEnd).and(layer.ne(md.nLayers - 1)),
        (t) => t.set(pc, sch.bodyStart).set(layer, layer.add(1)),
        (el) => el.set(pc, pc.add(1)),
      )
      : b.set(pc, pc.add(1)).if(layerEnd.and(layer.ne(md.nLayers - 1)), (t) => t.set(layer, layer.add(1)));
  // A segment's last op loops back over the block's tokens (schedule.ts blockOrder is the same walk); the last
  // body segment of the last layer keeps the last token for the epilogue.
  const next = (b: Block) => {
    clearCounters(b);
    if (T === 1) return advancePc(b);
    const segEnd = seg.ne(0);
    b.if(segEnd.and(tk.ne(nTok)), (t) => {
      t.set(tk, tk.add(1)).set(tslot, ringNext(tslot)).set(pc, pc.sub(seg.resize(pc.width)).add(1));
    }, (el) => {
      el.if(segEnd.and(pc.eq(sch.bodyEnd).and(layer.eq(md.nLayers - 1)).not()), (r) => r.set(tk, 0).set(tslot, slotCur));
      advancePc(el);
    });
  };
  const lastSlot = sl.eq(rowsSl - 1);
  m.sync((b) => {
    b.if(state.eq(IDLE), (t) =>
      t.if(tok.valid, (u) => {
        u.set(state, RUN).set(pc, 0).set(layer, 0).set(xamax, 0);
        clearCounters(u);
        if (T > 1) u.set(nTok, tok.data.slice(idBits + tkb, idBits + 1)).set(tk, 0).set(wt, 0).set(tslot, slotCur);
        u.if(tok.data.bit(idBits), (v) => {
          v.set(pos, 0).set(slotCur, 0);
          if (T > 1) v.set(tslot, 0);
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
              u.write(X.mem, X.at(i), X.word(embLanes));
              ssV.set(u, tk, ssNext);
              u.if(i.eq(md.dim / P - 1), next, (el) => el.set(i, i.add(1)));
            });
          },
        ],
        [
          opCode('NORM'),
          (o) => {
            // ss (Σ of squares) was accumulated by the EMBED / RESID that wrote x; a block's later tokens reuse the
            // exponent and the weights (GM) the first token read from aux
            o.if(ph.eq(0).and(auxFire.or(firstTok.not())), (u) => {
              u.if(firstTok, (v) => v.set(cExp, auxLane(0).slice(15, 0).asSigned()));
              u.set(normT, tVal).set(normS1, s1Val).set(ph, 1);
            });
            o.if(ph.eq(1).and(auxFire.or(firstTok.not())), (u) => {
              if (GM) u.if(firstTok, (v) => v.write(GM.mem, GM.at(i), catLanes(Array.from({ length: P }, (_, q) => auxLane(q).slice(e.normWBits - 1, 0)))));
              u.write(N.mem, N.at(i), N.word(normLanes));
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
              u.set(actR, qsc.r).set(actS, qsc.s.resize(sW));
              actMantV.set(u, tk, qsc.mant);
              actExpV.set(u, tk, mux(qsc.zero, lit(0, actExpW, true), qsc.sh.resize(actExpW).sub(lit(e.aBits - 1, actExpW, true)).sub(qFrac)));
              // the block's first token issues the job (all tokens' x follow, token-major)
              u.if(gJobReady.or(firstTok.not()), (v) => v.set(ph, 1).set(k, 0).set(i, 0).set(xamax, 0));
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
            o.if(ph.eq(0).and(auxFire), (u) => {
              u.set(cMul, auxLane(0).slice(15, 0)).set(cExp, auxLane(0).slice(31, 16).asSigned()).set(ph, mux(reuseX, lit(1, 3), lit(3, 3)));
              if (T > 1) u.set(wt, t0);
            });
            o.if(ph.eq(1).and(gJobReady), (u) => u.set(ph, 3).set(i, 0).set(k, 0));
            o.if(ph.eq(3), (u) => {
              u.if(chunkGo, (v) => {
                v.if(rowOk, (w_) => {
                  const dests: Array<[string, VecMem | undefined, Expr[]]> = [
                    ['wq', Q, ropeLanes], ['wk', K, ropeLanes], ['wv', V, linLanes], ['wo', Y, linLanes],
                    ['w1', H1, linLanes], ['w3', H3, linLanes], ['w2', Y, linLanes], ['cls', LOG, logLanes],
                  ];
                  const writeDests = (x: Block) => {
                    for (const [mt, vm, lanesE] of dests) {
                      if (!vm) continue;
                      x.if(mat.eq(MATS.indexOf(mt as (typeof MATS)[number])), (x_) => x_.write(vm.mem, vm === LOG ? vm.at(dstAddr) : vm.at(dstAddr, wt), vm.word(lanesE)));
                    }
                  };
                  // a 4-bit linear matrix's plane 0 only leaves its partial sums in LOG; its last plane writes as usual
                  if (more && LOG) w_.if(more, (x) => x.write(LOG.mem, LOG.at(dstAddr), LOG.word(logLanes)), writeDests);
                  else writeDests(w_);
                });
                const rkNext = mux(rk.eq(hd / P - 1), lit(0, kkW), rk.add(1));
                v.set(rk, rkNext);
                // row block i: every token of the job in turn (RoPE restarts at the row block's first chunk)
                const rowDone = (w_: Block) => w_.if(i.eq(nRowBlocks.sub(1)), next, (el) => el.set(i, i.add(1)));
                v.if(lastChunk, (w_) => {
                  w_.set(k, 0);
                  if (T === 1) rowDone(w_);
                  else
                    w_.if(wt.eq(nTok), (x_) => {
                      x_.set(wt, t0).set(rkRow!, rkNext);
                      rowDone(x_);
                    }, (x_) => x_.set(wt, wt.add(1)).set(rk, rkRow!));
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
                u.write(ATT.mem, ATT.at(qBase), ATT.word(attLanes));
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
            o.write(X.mem, X.at(i), X.word(residLanes));
            ssV.set(o, tk, ssNext);
            o.if(i.eq(md.dim / P - 1), next, (el) => el.set(i, i.add(1)));
          },
        ],
        [
          opCode('SILU'),
          (o) => {
            o.write(H1.mem, H1.at(i), H1.word(siluLanes));
            o.set(xamax, siluAmax);
            o.if(i.eq(ceilDiv(md.hiddenDim, P) - 1), next, (el) => el.set(i, i.add(1)));
          },
        ],
        [
          opCode('END'),
          (o) => {
            // the block's last token is tk: the next block / decode step starts one position after it
            o.set(state, IDLE).set(pc, 0).set(layer, 0).set(pos, tpos.add(1));
            o.set(slotCur, ringNext(tslot));
            if (T > 1) o.set(tk, 0).set(wt, 0).set(tslot, ringNext(tslot));
            phases.forEach((p_, j) => o.set(p_, p_.add(phaseStep(j))));
          },
        ],
      ], (o) => next(o)),
    );
  }, 'control');
}
