/**
 * The engine's controller: the vector memories' read-address muxes, the stream handshakes of the current op, the
 * perf counters, and the one sequential process that steps through the schedule ROM and runs every op's phases.
 */
import type { Block } from '../../hdl';
import { IDLE, RUN, type EngineCore } from './core';
import { gemvOp, opCases, quantOp, type EngineParts } from './ops';
import { opCode } from './schedule';

export type { EngineParts } from './ops';

export function engineControl(core: EngineCore, parts: EngineParts): void {
  const { m, md, sch, idBits, tok, aux, perf, ringNext } = core;
  const { state, pc, layer, pos, slotCur, ph, i, k, g, sl, h, kh, hk, opc, layerEnd, running, is, at } = core;
  const { T, tkb, nTok, tk, wt, tslot, tpos, seg, firstTok } = core;
  const { X, N, Q, K, V, ATT, Y, H1, H3, LOG, GM, xamax } = core;
  const { phases, rk, rkRow, phaseStep } = parts.rope;
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
        ...opCases(core, parts, next, { quant: quantOp(core, parts, next), gemv: gemvOp(core, parts, next, core.wt) }),
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
