/**
 * Row-synchronous convolution engine (valid, stride 1, ReLU, round half up, saturate; golden.ts `conv`).
 *
 *  line buffer   the row being received shifts in n pixels per beat (`nr`); when it completes, the k-1 stored rows
 *                move up one (`rb`) and, from input row k-1 on, the k newest rows are copied into the window `win`
 *  compute       for `steps` steps of `lanes` output pixels: `fold` cycles each computing outC/fold channels
 *                (the weight bank rotates by one channel group per cycle), then the window shifts by `lanes`;
 *                channel pairs share one multiplier per window pixel (arith.packing), products and every adder
 *                level of the trees are registered (arith.treeLevelsPerStage)
 *  output        one beat of `lanes` pixels x outC channels per step, after the adder-tree pipeline
 * The engine finishes a row in `busy` <= in.rowPeriod cycles, so a new row can never arrive while it is busy;
 * if one does (a broken plan), the sticky `overrun` output goes high.
 */
import { Module, cat, lit, mux, type Expr, type Signal } from '../../hdl';
import { dotProducts } from '../../lib/dsp-pack';
import { byteChain } from '../../lib/chain';
import { bitsFor } from '../../util/errors';
import type { QConvLayer } from '../golden';
import type { ArithPlan, ConvPlan } from './plan';
import { convChannelBytes } from './weights';

export interface ConvEngine {
  module: Module;
  /** Cycles from the start edge to the first out_valid. */
  latency: number;
}

export function convModule(p: ConvPlan, l: QConvLayer, arith: ArithPlan, name: string): ConvEngine {
  const { k, inC, outC, lanes: L, fold: F, group: G, steps, windowW, rowPad } = p;
  const n = p.in.n;
  const inBits = p.in.bits;
  const outBits = p.out.bits;
  const cw = inC * inBits;
  const m = new Module(name, {
    doc: `conv ${k}x${k} ${inC}->${outC} on ${p.in.rows}x${p.in.validW} (${n} px/beat): ${L} lanes x ${G} channels/cycle, fold ${F}, ${steps} steps/row, shift ${l.shift}`,
  });
  const inValid = m.input('in_valid', 1);
  const inData = m.input('in_data', n * cw);
  const outValid = m.output('out_valid', 1);
  const outData = m.output('out_data', L * outC * outBits);
  const ldEn = m.input('ld_en', 1);
  const ldIn = m.input('ld_in', 8);
  const ldOut = m.output('ld_out', 8);
  const overrun = m.output('overrun', 1);

  // ---- line buffer ---------------------------------------------------------------------------
  const bb = bitsFor(p.in.beatsPerRow - 1);
  const rbBits = bitsFor(p.in.rows - 1);
  const bIn = m.reg('beat_in', bb, { init: 0 });
  const rIn = m.reg('row_in', rbBits, { init: 0 });
  const nr = Array.from({ length: rowPad }, (_, c) => m.reg(`nr_${c}`, cw));
  const rb = Array.from({ length: k - 1 }, (_, i) => Array.from({ length: rowPad }, (_, c) => m.reg(`rb${i}_${c}`, cw)));
  const px = (j: number): Expr => inData.slice((j + 1) * cw - 1, j * cw);
  const nrNext = nr.map((r, c) => (c < rowPad - n ? nr[c + n]! : px(c - (rowPad - n))));
  const rowDone = m.let('row_done', inValid.and(bIn.eq(p.in.beatsPerRow - 1)));
  const start = m.let('start', k === 1 ? rowDone : rowDone.and(rIn.ge(k - 1)));
  m.sync((b) =>
    b.if(inValid, (t) => {
      nr.forEach((r, c) => t.set(r, nrNext[c]!));
      t.set(bIn, mux(rowDone, lit(0, bb), bIn.add(1)));
      t.if(rowDone, (u) => {
        u.set(rIn, mux(rIn.eq(p.in.rows - 1), lit(0, rbBits), rIn.add(1)));
        for (let i = 0; i < k - 1; i++) for (let c = 0; c < rowPad; c++) u.set(rb[i]![c]!, i < k - 2 ? rb[i + 1]![c]! : nrNext[c]!);
      });
    }),
  'line_buffer');

  // ---- control -------------------------------------------------------------------------------
  const sb = bitsFor(steps - 1);
  const fb = bitsFor(F - 1);
  const busy = m.reg('busy', 1, { init: 0 });
  const step = m.reg('step', sb, { init: 0 });
  const f = m.reg('fold', fb, { init: 0 });
  const stepEnd = m.let('step_end', busy.and(f.eq(F - 1)));
  const lastCycle = m.let('last_cycle', stepEnd.and(step.eq(steps - 1)));
  const overrunR = m.reg('overrun_r', 1, { init: 0 });
  m.assign(overrun, overrunR);
  m.sync((b) => {
    b.if(
      start,
      (t) => t.set(busy, 1).set(step, 0).set(f, 0),
      (e) =>
        e.if(busy, (t) => {
          t.if(f.eq(F - 1), (u) => {
            u.set(f, 0);
            u.if(step.eq(steps - 1), (v) => v.set(busy, 0), (v) => v.set(step, step.add(1)));
          }, (u) => u.set(f, f.add(1)));
        }),
    );
    b.if(start.and(busy).and(lastCycle.not()), (t) => t.set(overrunR, 1));
  }, 'control');

  // ---- window --------------------------------------------------------------------------------
  const win = Array.from({ length: k }, (_, i) => Array.from({ length: windowW }, (_, c) => m.reg(`win${i}_${c}`, cw)));
  const zero = lit(0, cw);
  m.sync((b) =>
    b.if(
      start,
      (t) => {
        for (let i = 0; i < k; i++)
          for (let c = 0; c < windowW; c++) t.set(win[i]![c]!, c >= rowPad ? zero : i < k - 1 ? rb[i]![c]! : nrNext[c]!);
      },
      (e) =>
        e.if(stepEnd, (t) => {
          for (let i = 0; i < k; i++) for (let c = 0; c < windowW; c++) t.set(win[i]![c]!, c + L < windowW ? win[i]![c + L]! : zero);
        }),
    ),
  'window');

  // ---- weights: channel bytes; the head G channels are the ones computed this cycle -------------
  const cb = p.channelBytes;
  const init: number[] = [];
  for (let o = 0; o < outC; o++) init.push(...convChannelBytes(p, l, o));
  const bank = byteChain(
    m,
    'w',
    init,
    ldEn,
    ldIn,
    F > 1 ? { en: busy, from: (q) => (q + G * cb) % (outC * cb) } : undefined,
  );
  m.assign(ldOut, bank.tail);

  // ---- dot products (lib/dsp-pack.ts): channel pairs share each window pixel in one DSP ---------------
  const A = p.accBits;
  const fan = k * k * inC;
  const prodBits = inBits + 1 + p.weightBits;
  if (prodBits > A) throw new Error(`conv ${name}: product ${prodBits} bits exceeds accumulator ${A}`);
  const weight = (g: number, j: number): Expr => bank.regs[g * cb + j]!.slice(p.weightBits - 1, 0).asSigned();
  const bias = (g: number): Expr => {
    const bytes = bank.regs.slice(g * cb + fan, (g + 1) * cb);
    return cat(...bytes.slice().reverse()).slice(A - 1, 0).asSigned();
  };
  const rnd = l.shift > 0 ? lit(1n << BigInt(l.shift - 1), A, true) : undefined;
  const sums: Expr[][] = [];
  let latency = 0;
  let dsps = 0;
  for (let ln = 0; ln < L; ln++) {
    const xs: Expr[] = [];
    for (let ky = 0; ky < k; ky++)
      for (let kx = 0; kx < k; kx++)
        for (let i = 0; i < inC; i++) xs.push(win[ky]![ln + kx]!.slice((i + 1) * inBits - 1, i * inBits));
    const ws = Array.from({ length: G }, (_, g) => Array.from({ length: fan }, (_, j) => weight(g, j)));
    const extras = Array.from({ length: G }, (_, g) => (rnd ? [bias(g), rnd] : [bias(g)]));
    const d = dotProducts(m, { prefix: `d${ln}`, xs, ws, extras, accBits: A, levelsPerStage: arith.treeLevelsPerStage, packing: arith.packing });
    latency = d.latency;
    dsps += d.multipliers;
    sums.push(d.sums);
  }
  if (dsps !== p.dsps) throw new Error(`conv ${name}: built ${dsps} multipliers, the plan says ${p.dsps}`);

  // valid / fold tags travel with the tree
  let v: Expr = busy;
  let fTag: Expr = f;
  for (let s = 0; s < latency; s++) {
    const vr = m.reg(`v_s${s}`, 1, { init: 0 });
    const fr = m.reg(`f_s${s}`, fb);
    m.sync((b) => b.set(vr, v).set(fr, fTag));
    v = vr;
    fTag = fr;
  }

  // ---- round, ReLU, saturate; assemble the fold groups into one beat --------------------------
  const hi = 2 ** outBits - 1;
  const act = (s: Expr, tag: string): Signal => {
    const sh = m.let(`sh_${tag}`, s.shr(l.shift));
    const neg = sh.bit(A - 1);
    const over = hi <= 2 ** (A - 1) - 1 ? sh.gt(lit(hi, A, true)) : lit(0, 1);
    const low = outBits <= A - 1 ? sh.slice(outBits - 1, 0) : sh.slice(A - 2, 0).zext(outBits);
    return m.let(`a_${tag}`, mux(neg, lit(0, outBits), mux(over, lit(hi, outBits), low)));
  };
  const acts = sums.map((row, ln) => row.map((s, g) => act(s, `${ln}_${g}`)));
  const outV = m.reg('out_v', 1, { init: 0 });
  const outR = Array.from({ length: L }, (_, ln) => Array.from({ length: outC }, (_, c) => m.reg(`o${ln}_${c}`, outBits)));
  m.sync((b) => {
    b.set(outV, F === 1 ? v : v.and(fTag.eq(F - 1)));
    b.if(v, (t) => {
      for (let fi = 0; fi < F; fi++) {
        const write = (u: typeof t) => {
          for (let ln = 0; ln < L; ln++) for (let g = 0; g < G; g++) u.set(outR[ln]![fi * G + g]!, acts[ln]![g]!);
        };
        if (F === 1) write(t);
        else t.if(fTag.eq(fi), write);
      }
    });
  }, 'output');
  m.assign(outValid, outV);
  const words: Expr[] = [];
  for (let ln = L - 1; ln >= 0; ln--) for (let c = outC - 1; c >= 0; c--) words.push(outR[ln]![c]!);
  m.assign(outData, cat(...words));
  return { module: m, latency: latency + 2 };
}
