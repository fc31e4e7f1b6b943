/**
 * Time-multiplexed ("serial") cell classifier for small FPGAs (iCE40UP5K class): one multiply-accumulate per
 * cycle under a small controller, weights in block RAM, feature maps in single-port RAM (SPRAM on the iCE40).
 * Same ports, stream words, weight-load bytes (packWeights at ppc 1), event record and trigger as the streaming
 * design (top.ts), so a host cannot tell them apart except by speed; bit-exact with golden.ts.
 *
 *  LOAD   px_ready = 1: the frame's pixels go into activation memory 0 (HWC, one byte each).
 *  passes one per conv layer (the max-pool after it fused in) and one for the dense layer. Per output value:
 *         fan MAC cycles (weight x activation) then biasBytes cycles that add the bias bytes read from the same
 *         weight memory, i.e. the weight address walks the chain layout of weights.ts. A pooled conv output is the
 *         max over its size x size conv outputs (each ReLU'd and saturated first); conv outputs the pool drops are
 *         never computed. Pass p reads activation memory p % 2 and writes memory (p + 1) % 2, so every memory has
 *         one port (read or write in any one cycle). The dense pass shifts its K logits into a register.
 *  then   argmax/score (decide.ts) and the unchanged trigger unit (trigger.ts); back to LOAD.
 * Pipeline: issue (addresses) -> RAM read -> product / bias term -> accumulate -> requantise, pool max, write.
 * The accumulator is max(accBits) wide and wraps: every layer's exact result fits its own accBits, so the low
 * bits are exact (bias bytes above the width are dropped modulo 2^width).
 *
 * Weights: the weight RAM's power-up contents are the generated model; `rst` does not restore them (RAM), unlike
 * the streaming design. `wload` is accepted only in LOAD; beats write the chain tail first (a pointer that counts
 * down from chainBytes - 1 and wraps), so a whole packWeights() load gives exactly the streaming chain's contents.
 */
import { Module, lit, mux, select, type Expr, type Signal } from '../../hdl';
import { SPRAM_SUFFIX } from '../../flow/synth';
import { ConfigError, bitsFor } from '../../util/errors';
import type { QuantizedCellnet } from '../golden';
import { backEndWires, decisionAndTrigger, replayTag, sorterPorts } from './decision-path';
import { frontRegisters } from './front-regs';
import { presenceGate } from './presence';
import type { CellnetHw, ConvPlan, DensePlan } from './plan';
import { chainBytes, checkQuantized } from './weights';

/** One pass of the engine: a conv layer (+ fused max-pool) or the dense layer seen as a whole-input conv. */
export interface SerialPass {
  kind: 'conv' | 'dense';
  layer: number;
  inW: number;
  inC: number;
  k: number;
  /** Pool size fused after the conv (1: none). */
  pool: number;
  /** Output grid after the pool, and channels (classes for dense). */
  outH: number;
  outW: number;
  outC: number;
  fan: number;
  biasBytes: number;
  /** Chain positions: first MAC weight of output channel 0, and the bias of channel 0. */
  w0: number;
  b0: number;
  /** Weight address step between MACs, after the last MAC of a kernel row, and between output channels (MAC start, bias start). */
  wStep: number;
  wRowJump: number;
  oStepW: number;
  oStepB: number;
  shift: number;
  accBits: number;
  outBits: number;
  /** Activation memories read and written (dense writes the logits register). */
  inMem: number;
  outMem: number;
  /** Issue cycles: outputs * pool^2 * (fan + biasBytes). */
  cycles: number;
}

export interface SerialPlan {
  passes: SerialPass[];
  /** Words of activation memories 0 and 1 (8-bit or wider values, one per word). */
  memDepth: [number, number];
  actBits: number;
  accBits: number;
  /** Pipeline drain between passes. */
  drain: number;
  /** Cycles from the frame's last pixel to logits_valid, without the decide and trigger stages. */
  computeCycles: number;
  weightBytes: number;
}

export const SERIAL_DRAIN = 6;

export function serialPlan(hw: CellnetHw): SerialPlan {
  if (hw.ppc !== 1) throw new ConfigError('ppc', 'must be 1 for the serial (time-multiplexed) engine: it takes one pixel per beat', hw.ppc);
  const passes: SerialPass[] = [];
  let pos = 0;
  let mem = 0;
  const depth: [number, number] = [hw.input.rows * hw.input.validW * hw.input.channels, 1];
  let actBits = hw.input.bits;
  const st = hw.stages;
  for (let i = 0; i < st.length; i++) {
    const p = st[i]!;
    if (p.kind === 'maxpool') throw new ConfigError(`layers[${p.index}]`, 'the serial engine fuses a max-pool into the conv before it; a pool must follow a conv', 'maxpool');
    if (p.kind === 'conv') {
      const c: ConvPlan = p;
      const next = st[i + 1];
      const pool = next?.kind === 'maxpool' ? next.size : 1;
      if (next?.kind === 'maxpool') i++;
      const outH = Math.floor(c.outH / pool);
      const outW = Math.floor(c.outW / pool);
      const fan = c.k * c.k * c.inC;
      const cb = c.channelBytes;
      passes.push({
        kind: 'conv', layer: c.index, inW: c.in.validW, inC: c.inC, k: c.k, pool, outH, outW, outC: c.outC, fan, biasBytes: c.biasBytes,
        w0: pos, b0: pos + fan, wStep: 1, wRowJump: 1, oStepW: cb, oStepB: cb, shift: 0, accBits: c.accBits, outBits: c.out.bits,
        inMem: mem, outMem: 1 - mem, cycles: outH * outW * c.outC * pool * pool * cb,
      });
      pos += c.outC * cb;
      mem = 1 - mem;
      depth[mem] = Math.max(depth[mem], outH * outW * c.outC);
      actBits = Math.max(actBits, c.out.bits);
    } else {
      const d: DensePlan = p;
      const s = d.in;
      const fan = s.rows * s.validW * s.channels;
      const K = d.classes;
      // chain layout (weights.ts): input row y holds beatsPerRow * n pixel slots (junk lanes past validW)
      const rowPad = s.n * s.beatsPerRow;
      passes.push({
        kind: 'dense', layer: d.index, inW: s.validW, inC: s.channels, k: s.validW, pool: 1, outH: 1, outW: 1, outC: K, fan, biasBytes: d.biasBytes,
        w0: pos + K * d.biasBytes, b0: pos, wStep: K, wRowJump: K + (rowPad - s.validW) * s.channels * K, oStepW: 1, oStepB: d.biasBytes, shift: 0, accBits: d.accBits, outBits: hw.cfg.logitBits,
        inMem: mem, outMem: -1, cycles: K * (fan + d.biasBytes),
      });
      pos += K * d.biasBytes + d.entries * d.entryBytes;
    }
  }
  if (pos !== hw.chainBytes) throw new Error(`cellnet serial: chain walk ends at ${pos}, plan has ${hw.chainBytes} bytes`);
  if (passes[passes.length - 1]?.kind !== 'dense') throw new Error('cellnet serial: plan has no dense layer');
  const computeCycles = passes.reduce((n, p) => n + p.cycles + SERIAL_DRAIN, 0);
  return { passes, memDepth: depth, actBits, accBits: Math.max(...passes.map((p) => p.accBits)), drain: SERIAL_DRAIN, computeCycles, weightBytes: hw.chainBytes };
}

export function cellnetSerialModule(hw: CellnetHw, q: QuantizedCellnet, name = 'cellnet_serial'): Module {
  checkQuantized(hw, q);
  const sp = serialPlan(hw);
  const passes = sp.passes.map((p) => {
    const l = q.layers[p.layer]!;
    if (l.kind === 'maxpool') throw new Error('unreachable');
    return { ...p, shift: l.shift };
  });
  const cfg = hw.cfg;
  const NP = passes.length;
  const m = new Module(name, {
    doc:
      `cell sorter, time-multiplexed: ${cfg.inputSize}x${cfg.inputSize} uint8, ${hw.classes} classes, 1 MAC/cycle, ` +
      `${sp.computeCycles} cycles per frame after its last pixel, ${hw.chainBytes} weight bytes in RAM`,
  });
  const px = m.streamIn('px', 8, { last: true });
  const wload = m.streamIn('wload', 8);
  const ports = sorterPorts(m, hw);
  const overrun = m.output('overrun', 1);
  const frameError = m.output('frame_error', 1);
  m.assign(overrun, lit(0, 1)); // backpressure (px_ready) replaces the streaming design's timing self-check

  // ---- state ------------------------------------------------------------------------------------
  const LOAD = 0, RUN = 1, DRAIN = 2;
  const state = m.reg('state', 2, { init: LOAD });
  const pb = bitsFor(NP - 1);
  const pass = m.reg('pass', pb, { init: 0 });
  const inLoad = m.let('in_load', state.eq(LOAD));
  m.assign(px.ready, inLoad);
  m.assign(wload.ready, inLoad);
  const pxFire = m.let('px_fire', px.valid.and(inLoad));

  // ---- framing check (as top.ts) ----------------------------------------------------------------
  const fb = bitsFor(hw.frameBeats - 1);
  const beat = m.reg('px_beat', fb, { init: 0 });
  const endOfFrame = m.let('end_of_frame', beat.eq(hw.frameBeats - 1));
  const ferr = m.reg('frame_error_r', 1, { init: 0 });
  m.sync((b) =>
    b.if(pxFire, (t) => {
      t.set(beat, mux(endOfFrame, lit(0, fb), beat.add(1)));
      t.if(px.last!.ne(endOfFrame), (u) => u.set(ferr, 1));
    }),
  'framing');
  m.assign(frameError, ferr);

  // ---- weight RAM (chain layout, generated model as power-up contents) --------------------------
  const WB = hw.chainBytes;
  const wab = bitsFor(WB - 1);
  const wmem = m.memory('wmem', 8, WB, chainBytes(hw, q));
  const ldPtr = m.reg('ld_ptr', wab, { init: WB - 1 });
  const ldFire = m.let('ld_fire', wload.valid.and(inLoad));
  m.sync((b) =>
    b.if(ldFire, (t) => {
      t.write(wmem, ldPtr, wload.data);
      t.set(ldPtr, mux(ldPtr.eq(0), lit(WB - 1, wab), ldPtr.sub(1)));
    }),
  'wload');

  // ---- per-pass constants -------------------------------------------------------------------------
  const xab = bitsFor(Math.max(...sp.memDepth));
  const K = (tag: string, vals: number[], w: number): Signal => m.let(`k_${tag}`, select(pass, vals.map((v) => lit(((v % 2 ** w) + 2 ** w) % 2 ** w, w))));
  const maxS = Math.max(...passes.map((p) => p.fan + p.biasBytes));
  const sb = bitsFor(maxS - 1);
  const kFanLast = K('fan_last', passes.map((p) => p.fan - 1), sb);
  const kSLast = K('s_last', passes.map((p) => p.fan + p.biasBytes - 1), sb);
  const rb = bitsFor(Math.max(...passes.map((p) => p.k * p.inC)) - 1);
  const kRowLast = K('row_last', passes.map((p) => p.k * p.inC - 1), rb);
  const kRowJump = K('row_jump', passes.map((p) => (p.inW - p.k) * p.inC + 1), xab);
  const poolB = bitsFor(Math.max(...passes.map((p) => p.pool)) - 1);
  const kPoolLast = K('pool_last', passes.map((p) => p.pool - 1), poolB);
  const ob = bitsFor(Math.max(...passes.map((p) => p.outC)) - 1);
  const kOLast = K('o_last', passes.map((p) => p.outC - 1), ob);
  const gb = bitsFor(Math.max(...passes.map((p) => Math.max(p.outW, p.outH))) - 1);
  const kOxLast = K('ox_last', passes.map((p) => p.outW - 1), gb);
  const kOyLast = K('oy_last', passes.map((p) => p.outH - 1), gb);
  const kInC = K('in_c', passes.map((p) => p.inC), xab);
  const kSubDy = K('sub_dy', passes.map((p) => (p.inW - (p.pool - 1)) * p.inC), xab);
  const kPbDx = K('pb_dx', passes.map((p) => p.pool * p.inC), xab);
  const kPbDy = K('pb_dy', passes.map((p) => (p.pool * p.inW - (p.outW - 1) * p.pool) * p.inC), xab);
  const kW0 = K('w0', passes.map((p) => p.w0), wab);
  const kB0 = K('b0', passes.map((p) => p.b0), wab);
  const kWStep = K('w_step', passes.map((p) => p.wStep), wab);
  const kWRowJump = K('w_row_jump', passes.map((p) => p.wRowJump), wab);
  const kOStepW = K('o_step_w', passes.map((p) => p.oStepW), wab);
  const kOStepB = K('o_step_b', passes.map((p) => p.oStepB), wab);
  const bbits = bitsFor(Math.max(...passes.map((p) => p.biasBytes)) - 1);
  const kBLast = K('b_last', passes.map((p) => p.biasBytes - 1), bbits);
  const isDense = m.let('is_dense', pass.eq(NP - 1));

  // ---- issue: counters and addresses ----------------------------------------------------------------
  const issuing = m.let('issuing', state.eq(RUN));
  const s = m.reg('s', sb, { init: 0 });
  const r = m.reg('r', rb, { init: 0 });
  const bi = m.reg('bi', bbits, { init: 0 });
  const dx = m.reg('dx', poolB, { init: 0 });
  const dy = m.reg('dy', poolB, { init: 0 });
  const o = m.reg('o', ob, { init: 0 });
  const ox = m.reg('ox', gb, { init: 0 });
  const oy = m.reg('oy', gb, { init: 0 });
  const wa = m.reg('wa', wab, { init: 0 });
  const ws = m.reg('ws', wab, { init: 0 });
  const bs = m.reg('bs', wab, { init: 0 });
  const xa = m.reg('xa', xab, { init: 0 });
  const pbr = m.reg('pb', xab, { init: 0 });
  const pb00 = m.reg('pb00', xab, { init: 0 });
  const mac = m.let('mac', s.le(kFanLast));
  const sLast = m.let('s_last', s.eq(kSLast));
  const dxLast = m.let('dx_last', dx.eq(kPoolLast));
  const subLast = m.let('sub_last', dxLast.and(dy.eq(kPoolLast)));
  const subFirst = m.let('sub_first', dx.eq(0).and(dy.eq(0)));
  const oLast = m.let('o_last', o.eq(kOLast));
  const oxLast = m.let('ox_last', ox.eq(kOxLast));
  const oyLast = m.let('oy_last', oy.eq(kOyLast));
  const passDone = m.let('pass_done', sLast.and(subLast).and(oLast).and(oxLast).and(oyLast));
  const wsNext = m.let('ws_next', mux(oLast, kW0, ws.add(kOStepW)));
  const bsNext = m.let('bs_next', mux(oLast, kB0, bs.add(kOStepB)));
  const pbNext = m.let(
    'pb_next',
    mux(subLast.not(), mux(dxLast.not(), pbr.add(kInC), pbr.add(kSubDy)), mux(oLast.not(), pb00, pb00.add(mux(oxLast, kPbDy, kPbDx)))),
  );
  const drainCnt = m.reg('drain', bitsFor(SERIAL_DRAIN), { init: 0 });
  const startPass = (t: Parameters<Parameters<Module['sync']>[0]>[0], p: Expr) => {
    // p: the pass about to start; its constants are not live yet, so load them from tables indexed by p
    const tab = (vals: number[], w: number) => select(p, vals.map((v) => lit(v, w)));
    t.set(s, 0).set(r, 0).set(bi, 0).set(dx, 0).set(dy, 0).set(o, 0).set(ox, 0).set(oy, 0);
    t.set(wa, tab(passes.map((q2) => q2.w0), wab)).set(ws, tab(passes.map((q2) => q2.w0), wab)).set(bs, tab(passes.map((q2) => q2.b0), wab));
    t.set(xa, 0).set(pbr, 0).set(pb00, 0);
  };
  m.sync((b) => {
    b.switch(state, [
      [LOAD, (t) => t.if(pxFire.and(endOfFrame), (u) => {
        u.set(state, RUN).set(pass, 0);
        startPass(u, lit(0, pb));
      })],
      [RUN, (t) => {
        t.set(s, mux(sLast, lit(0, sb), s.add(1)));
        t.if(mac, (u) => {
          u.set(r, mux(r.eq(kRowLast), lit(0, rb), r.add(1)));
          u.set(xa, mux(r.eq(kRowLast), xa.add(kRowJump), xa.add(1)));
        }, (u) => u.set(bi, bi.add(1)));
        t.if(mac, (u) => u.set(wa, mux(s.eq(kFanLast), bs, wa.add(mux(r.eq(kRowLast), kWRowJump, kWStep)))), (u) => u.set(wa, wa.add(1)));
        t.if(sLast, (u) => {
          u.set(bi, 0).set(r, 0);
          u.set(xa, pbNext).set(pbr, pbNext);
          u.if(subLast.not(), (v) => {
            v.set(dx, mux(dxLast, lit(0, poolB), dx.add(1)));
            v.if(dxLast, (w) => w.set(dy, dy.add(1)));
            v.set(wa, ws);
          }, (v) => {
            v.set(dx, 0).set(dy, 0);
            v.set(ws, wsNext).set(bs, bsNext).set(wa, wsNext);
            v.set(o, mux(oLast, lit(0, ob), o.add(1)));
            v.if(oLast, (w) => {
              w.set(pb00, pbNext);
              w.set(ox, mux(oxLast, lit(0, gb), ox.add(1)));
              w.if(oxLast, (z) => z.set(oy, mux(oyLast, lit(0, gb), oy.add(1))));
            });
          });
          u.if(passDone, (v) => v.set(state, DRAIN).set(drainCnt, 0));
        });
      }],
      [DRAIN, (t) => {
        t.set(drainCnt, drainCnt.add(1));
        t.if(drainCnt.eq(SERIAL_DRAIN - 1), (u) => {
          u.if(isDense, (v) => v.set(state, LOAD), (v) => {
            v.set(state, RUN).set(pass, pass.add(1));
            startPass(v, pass.add(1));
          });
        });
      }],
    ]);
  }, 'issue');

  // ---- pipeline tags: stage 1 (RAM read), 2 (term), 3 (accumulate) ---------------------------------
  const tag = (nm: string, src: Expr, stages: number, init = true): Signal[] => {
    const out: Signal[] = [];
    let prev: Expr = src;
    for (let i = 1; i <= stages; i++) {
      const rg = m.reg(`${nm}_${i}`, src.width, init ? { init: 0 } : {});
      m.sync((b) => b.set(rg, prev));
      out.push(rg);
      prev = rg;
    }
    return out;
  };
  const v = tag('v', issuing, 2);
  const macT = tag('mac', mac, 1, false);
  const firstT = tag('first', s.eq(0), 2, false);
  const lastT = tag('last', issuing.and(sLast), 3);
  const biT = tag('bi', bi, 1, false);
  const topT = tag('btop', bi.eq(kBLast), 1, false);
  const subFirstT = tag('subf', subFirst, 3, false);
  const subLastT = tag('subl', subLast, 3, false);
  const doneT = tag('done', issuing.and(passDone), 3);

  // ---- activation memories (single port each) ------------------------------------------------------
  const AB = sp.actBits;
  // `_spram`: mapped to iCE40 SPRAM by the flow (generator/flow/synth.ts SPRAM_SUFFIX); block RAM elsewhere
  const mems = sp.memDepth.map((d, i) => m.memory(`amem${i}${SPRAM_SUFFIX}`, AB, d));
  const mab = sp.memDepth.map((d) => bitsFor(d - 1));
  const rd = mems.map((_, i) => m.reg(`amem${i}_rd`, AB));
  const inMemIs = (i: number) => m.let(`in_mem${i}`, select(pass, passes.map((p) => lit(p.inMem === i ? 1 : 0, 1))));
  const readsM = [inMemIs(0), inMemIs(1)];
  const oa = m.reg('oa', xab, { init: 0 });
  const wrEn = m.wire('wr_en', 1);
  const wrData = m.wire('wr_data', AB);
  const pxLoadBeat = beat.resize(xab);
  mems.forEach((mem, i) => {
    const aw = mab[i]!;
    const writeHere = i === 0 ? pxFire.or(wrEn.and(readsM[0]!.not()).and(isDense.not())) : wrEn.and(readsM[1]!.not()).and(isDense.not());
    const we = m.let(`amem${i}_we`, writeHere);
    const addrFull = i === 0 ? mux(inLoad, pxLoadBeat, mux(readsM[0]!, xa, oa)) : mux(readsM[1]!, xa, oa);
    const addr = m.let(`amem${i}_addr`, addrFull.slice(aw - 1, 0));
    const data = i === 0 ? mux(inLoad, px.data.resize(AB), wrData) : wrData;
    m.sync((b) => b.if(we, (t) => t.write(mem, addr, data), (t) => t.set(rd[i]!, mem.read(addr))), `amem${i}_port`);
  });
  const xd = m.let('xd', mux(readsM[0]!, rd[0]!, rd[1]!));
  const wd = m.reg('wd', 8);
  m.sync((b) => b.set(wd, wmem.read(wa)), 'wmem_read');

  // ---- stage 2: product or bias term ---------------------------------------------------------------
  const AW = sp.accBits;
  const prod = m.let('prod', wd.asSigned().mul(xd.zext(AB + 1).asSigned()));
  const byteTerm = (i: number) => {
    const top = topT[0]!;
    const ext = mux(top, wd.asSigned().sext(AW), wd.zext(AW).asSigned());
    return 8 * i >= AW ? lit(0, AW, true) : ext.shl(8 * i);
  };
  const biasTerm = m.let('bias_term', select(biT[0]!, Array.from({ length: 2 ** bbits }, (_, i) => byteTerm(Math.min(i, 2 ** bbits - 1)))));
  const term = m.reg('term', AW, { signed: true });
  m.sync((b) => b.set(term, mux(macT[0]!, prod.resize(AW), biasTerm)), 'term');

  // ---- stage 3: accumulate --------------------------------------------------------------------------
  const acc = m.reg('acc', AW, { signed: true });
  const rnd = select(pass, passes.map((p) => lit(p.shift > 0 ? 1n << BigInt(p.shift - 1) : 0n, AW, true)));
  m.sync((b) => b.if(v[1]!, (t) => t.set(acc, mux(firstT[1]!, rnd, acc).add(term))), 'accumulate');

  // ---- stage 4: requantise, pool, write (acc holds a finished sum when last_3) -----------------------
  const fin = lastT[2]!;
  const sh = m.let('acc_sh', select(pass, passes.map((p) => acc.shr(p.shift))));
  // ReLU + saturation to the pass's own outBits (actBits may differ per layer; the RAMs are the widest)
  const relu = (bits: number) => mux(sh.bit(AW - 1), lit(0, AB), mux(sh.gt(lit(2 ** bits - 1, AW, true)), lit(2 ** bits - 1, AB), sh.asUnsigned().slice(AB - 1, 0)));
  const outBits = passes.map((p) => (p.kind === 'conv' ? p.outBits : AB));
  const actSat = m.let('act_sat', outBits.every((bb) => bb === AB) ? relu(AB) : select(pass, outBits.map(relu)));
  const best = m.reg('best', AB);
  const mx = m.let('pool_max', mux(subFirstT[2]!.or(actSat.gt(best)), actSat, best));
  m.assign(wrEn, fin.and(subLastT[2]!));
  m.assign(wrData, mx);
  m.sync((b) => {
    b.if(fin, (t) => t.set(best, mx));
    b.if(state.eq(LOAD), (t) => t.set(oa, 0));
    b.if(wrEn.and(isDense.not()), (t) => t.set(oa, oa.add(1)));
    b.if(state.eq(DRAIN).and(drainCnt.eq(SERIAL_DRAIN - 1)), (t) => t.set(oa, 0));
  }, 'pool_write');

  // dense: logits shift in (class 0 first, ends at the bottom)
  const LB = cfg.logitBits;
  const KC = hw.classes;
  const hiL = 2n ** BigInt(LB - 1) - 1n;
  const logitV = LB >= AW ? sh.sext(LB) : m.let('logit_sat', mux(sh.gt(lit(hiL, AW, true)), lit(hiL, AW, true), mux(sh.lt(lit(-hiL - 1n, AW, true)), lit(-hiL - 1n, AW, true), sh)).slice(LB - 1, 0));
  const logits = m.reg('logits_r', KC * LB);
  const logitsValid = m.reg('logits_valid', 1, { init: 0 });
  m.sync((b) => {
    b.set(logitsValid, fin.and(isDense).and(doneT[2]!));
    b.if(fin.and(isDense), (t) => t.set(logits, KC === 1 ? logitV.asUnsigned() : logitV.asUnsigned().zext(KC * LB).shl((KC - 1) * LB).or(logits.shr(LB))));
  }, 'logits');

  // ---- replay tags, presence gate, decision and trigger (decision-path.ts; no camera port here) ------
  const w = backEndWires(m, hw);
  const regs = frontRegisters(m, hw, ports.cfgIn.valid, ports.cfgIn.data);
  const gate = presenceGate(m, hw, pxFire, px.data, regs.background, regs.presence);
  const frameTag = replayTag(m, hw, pxFire, endOfFrame, w.ts);
  // px is taken only in LOAD, so at most one frame waits for its decision: the smallest tag FIFO is enough
  // (each tag entry is ~50 flip-flops, and the UP5K's cells are the tight resource).
  const oneFrame = { ...hw, camera: { ...hw.camera, tagDepth: 2 } };
  decisionAndTrigger(m, oneFrame, name, ports, w, logitsValid, logits, frameTag, gate.empty);
  return m;
}
