/**
 * The engine's ops, one function per op code: each returns the body the controller runs while that op is current
 * (its phases and counters, its memory writes) and calls `next` when the op is done. control.ts runs them all from
 * one sequential process; control-groups.ts runs the GEMV op from its GEMV queue and the others from its vector
 * queue, so the bodies are written once.
 */
import { lit, mux, type Block, type Expr } from '../../hdl';
import { MATS, addrBits, ceilDiv } from './hw-config';
import type { attentionPath, kvWritePath } from './attention';
import type { EngineCore } from './core';
import type { gemvPath, ropePath } from './gemv-path';
import { catLanes, type VecMem } from './units';
import { opCode } from './schedule';
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

export type OpBody = (o: Block) => void;
type Next = (b: Block) => void;

export function embedOp(core: EngineCore, parts: EngineParts, next: Next): OpBody {
  const { md, P, ph, i, auxFire, auxLane, cMul, cExp, X, ssV, vTok } = core;
  const { embLanes } = parts.emb;
  const { ssNext } = parts.red;
  return (o) => {
    o.if(ph.eq(0).and(auxFire), (u) => u.set(cMul, auxLane(0).slice(15, 0)).set(cExp, auxLane(0).slice(31, 16).asSigned()).set(ph, 1));
    o.if(ph.eq(1).and(auxFire), (u) => {
      u.write(X.mem, X.at(i), X.word(embLanes));
      ssV.set(u, vTok, ssNext);
      u.if(i.eq(md.dim / P - 1), next, (el) => el.set(i, i.add(1)));
    });
  };
}

/** NORM: the first token of a block (of each group) reads the exponent and weights from aux; the others reuse them. */
export function normOp(core: EngineCore, parts: EngineParts, next: Next): OpBody {
  const { e, md, P, ph, i, auxFire, auxLane, cExp, firstTok, normT, normS1, GM, N, xamax } = core;
  const { tVal, s1Val, normLanes } = parts.norm;
  const { normAmax } = parts.red;
  return (o) => {
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
  };
}

/** QUANT streaming its codes straight into the GEMV unit (the one-controller engine). */
export function quantOp(core: EngineCore, parts: EngineParts, next: Next): OpBody {
  const { e, ph, i, k, vTok, actR, actS, sW, actMantV, actExpV, actExpW, xAsm, xamax, firstTok } = core;
  const { qFrac, qSteps, qsc, xAsmNext } = parts.quant;
  const { gJobReady, gXReady, xWordDone } = parts.gemv;
  return (o) => {
    // |max| was accumulated by the producer; scale, then issue the GEMV job (this QUANT carries its mat)
    o.if(ph.eq(0), (u) => {
      u.set(actR, qsc.r).set(actS, qsc.s.resize(sW));
      actMantV.set(u, vTok, qsc.mant);
      actExpV.set(u, vTok, mux(qsc.zero, lit(0, actExpW, true), qsc.sh.resize(actExpW).sub(lit(e.aBits - 1, actExpW, true)).sub(qFrac)));
      // the block's first token issues the job (all tokens' x follow, token-major)
      u.if(gJobReady.or(firstTok.not()), (v) => v.set(ph, 1).set(k, 0).set(i, 0).set(xamax, 0));
    });
    // code pass: each assembled word goes straight into the GEMV unit's x buffer
    o.if(ph.eq(1).and(xWordDone.not().or(gXReady)), (u) => {
      u.set(xAsm, xAsmNext);
      u.if(xWordDone, (v) => v.set(k, 0), (el) => el.set(k, k.add(1)));
      u.if(i.eq(qSteps.sub(1)), next, (el) => el.set(i, i.add(1)));
    });
  };
}

/**
 * The GEMV writer: each y word of the unit, chunk by chunk, requantised (and rotated for wq / wk) into the
 * destination vector of block token `writerTok` (a 4-bit matrix's plane 0 only into LOG). `core` is the view of
 * whichever process runs GEMV ops: its counters, op decode and constants.
 */
export function gemvOp(core: EngineCore, parts: EngineParts, next: Next, writerTok: Expr): OpBody {
  const { T, ph, i, k, reuseX, auxFire, auxLane, cMul, cExp, wt, t0 } = core;
  const { gJobReady } = parts.gemv;
  const write = gemvWrite(core, parts, next, writerTok);
  return (o) => {
    // the job was issued by the QUANT before (x streamed) or is issued here with the reuse bit
    o.if(ph.eq(0).and(auxFire), (u) => {
      u.set(cMul, auxLane(0).slice(15, 0)).set(cExp, auxLane(0).slice(31, 16).asSigned()).set(ph, mux(reuseX, lit(1, 3), lit(3, 3)));
      if (T > 1) u.set(wt, t0);
    });
    o.if(ph.eq(1).and(gJobReady), (u) => u.set(ph, 3).set(i, 0).set(k, 0));
    write(o);
  };
}

/** The GEMV op's writer phase (ph 3): the unit's y words into the destination, then `next` after the last row block. */
export function gemvWrite(core: EngineCore, parts: EngineParts, next: Next, writerTok: Expr): OpBody {
  const { hd, P, T, ph, i, k, mat, more, wt, t0, nTok, Q, K, V, Y, H1, H3, LOG } = core;
  const { gY, gYFire, nRowBlocks, rowOk, dstAddr, lastChunk, chunkGo, yBuf, yHeld, linLanes, logLanes } = parts.gemv;
  const { ropeLanes, rk, rkRow, kkW } = parts.rope;
  return (o) => {
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
              x.if(mat.eq(MATS.indexOf(mt as (typeof MATS)[number])), (x_) => x_.write(vm.mem, vm === LOG ? vm.at(dstAddr) : vm.at(dstAddr, writerTok), vm.word(lanesE)));
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
  };
}

export function kvwOp(core: EngineCore, parts: EngineParts, next: Next): OpBody {
  const { md, P, G, gph, NS, ph, i, g, kh, qa, amax, amax2, kc, vc } = core;
  const { kAmaxNext, vAmaxNext, kScale, vScale, kvSW, kR, kS, kM, kE, vR, vS, vM, vE, kAsm, vAsm, kAsmNext, vAsmNext, kExpNext, vExpNext, kvWAddr, kvWBank } = parts.kvw;
  return (o) => {
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
  };
}

export function attnOp(core: EngineCore, parts: EngineParts, next: Next): OpBody {
  const { cfg, e, md, G, hd, gph, P, tb, ph, i, g, sl, h, kh, hk, qa, amax, xamax, ATT, scMem } = core;
  const { rowsSl } = parts.kvw;
  const { qq, qAmaxA, qScaleA, qSW, qR, qS, qE, invW, qmInv, qCodesA, qcRegs, maxS, sumE, accW, rReg, psReg, lanesA, rowMax, scoreRow, eSum, pvSum, rVal, psVal, accRegs, qBase, attLanes, attAmax } = parts.attn;
  const lastSlot = sl.eq(rowsSl - 1);
  return (o) => {
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
      // the sum of exp(score - max) over two rows per cycle (0 for invisible slots)
      [4, (u) => {
        u.set(sumE, sumE.add(eSum));
        u.if(sl.eq(cfg.expPassCycles - 1), (v) => v.set(sl, 0).set(ph, 5), (el) => el.set(sl, sl.add(1)));
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
  };
}

export function residOp(core: EngineCore, parts: EngineParts, next: Next): OpBody {
  const { md, P, i, X, ssV, vTok } = core;
  const { residLanes } = parts.rs;
  const { ssNext } = parts.red;
  return (o) => {
    o.write(X.mem, X.at(i), X.word(residLanes));
    ssV.set(o, vTok, ssNext);
    o.if(i.eq(md.dim / P - 1), next, (el) => el.set(i, i.add(1)));
  };
}

export function siluOp(core: EngineCore, parts: EngineParts, next: Next): OpBody {
  const { md, P, i, H1, xamax } = core;
  const { siluLanes } = parts.rs;
  const { siluAmax } = parts.red;
  return (o) => {
    o.write(H1.mem, H1.at(i), H1.word(siluLanes));
    o.set(xamax, siluAmax);
    o.if(i.eq(ceilDiv(md.hiddenDim, P) - 1), next, (el) => el.set(i, i.add(1)));
  };
}

/**
 * The op cases of a controller's switch, in op-code order: every op but END, with the controller's QUANT and (the
 * one-queue engine only) GEMV bodies.
 */
export function opCases(core: EngineCore, parts: EngineParts, next: Next, own: { quant: OpBody; gemv?: OpBody }): Array<[number, OpBody]> {
  return [
    [opCode('EMBED'), embedOp(core, parts, next)],
    [opCode('NORM'), normOp(core, parts, next)],
    [opCode('QUANT'), own.quant],
    ...(own.gemv ? [[opCode('GEMV'), own.gemv] as [number, OpBody]] : []),
    [opCode('KVW'), kvwOp(core, parts, next)],
    [opCode('ATTN'), attnOp(core, parts, next)],
    [opCode('RESID'), residOp(core, parts, next)],
    [opCode('SILU'), siluOp(core, parts, next)],
  ];
}
