/**
 * Streaming dense layer (golden.ts `dense`, logits): every input beat multiplies its n pixels x C channels into
 * all class accumulators at once, with the weights of the rotating head entry (one entry per input beat of a
 * frame, so the bank turns exactly once per frame). After the frame's last beat the accumulators are rounded
 * and saturated into the logits.
 */
import { Module, cat, lit, mux, type Expr } from '../../hdl';
import { dotProducts } from '../../lib/dsp-pack';
import { byteChain } from '../../lib/chain';
import { bitsFor } from '../../util/errors';
import type { QDenseLayer } from '../golden';
import type { ArithPlan, DensePlan } from './plan';
import { denseBiasBytes, denseEntryBytes } from './weights';

export function denseModule(p: DensePlan, l: QDenseLayer, logitBits: number, arith: ArithPlan, name: string): { module: Module; latency: number } {
  const { n, channels: C, bits } = p.in;
  const K = p.classes;
  const A = p.accBits;
  const m = new Module(name, { doc: `dense ${l.inputs}->${K} over ${p.entries} beats of ${n} px x ${C} ch, shift ${l.shift}` });
  const inValid = m.input('in_valid', 1);
  const inData = m.input('in_data', n * C * bits);
  const ldEn = m.input('ld_en', 1);
  const ldIn = m.input('ld_in', 8);
  const outValid = m.output('logits_valid', 1);
  const outData = m.output('logits', K * logitBits);

  const eb = bitsFor(p.entries - 1);
  const e = m.reg('entry', eb, { init: 0 });
  const first = m.let('first', e.eq(0));
  const last = m.let('last', e.eq(p.entries - 1));
  m.sync((b) => b.if(inValid, (t) => t.set(e, mux(last, lit(0, eb), e.add(1)))), 'entries');

  const biasLen = K * p.biasBytes;
  const init = [...denseBiasBytes(p, l)];
  for (let q = 0; q < p.entries; q++) init.push(...denseEntryBytes(p, l, q));
  const total = init.length;
  const bank = byteChain(m, 'w', init, ldEn, ldIn, {
    en: inValid,
    from: (pos) => (pos < biasLen ? pos : biasLen + ((pos - biasLen + p.entryBytes) % (total - biasLen))),
  });

  const w = (lane: number, c: number, o: number): Expr => bank.regs[biasLen + (lane * C + c) * K + o]!.slice(p.weightBits - 1, 0).asSigned();
  const xs: Expr[] = [];
  for (let lane = 0; lane < n; lane++) for (let c = 0; c < C; c++) xs.push(inData.slice((lane * C + c + 1) * bits - 1, (lane * C + c) * bits));
  const ws = Array.from({ length: K }, (_, o) => xs.map((_, j) => w(Math.floor(j / C), j % C, o)));
  const d = dotProducts(m, { prefix: 'd', xs, ws, accBits: A, levelsPerStage: arith.treeLevelsPerStage, packing: arith.packing });
  if (d.multipliers !== p.dsps) throw new Error(`dense ${name}: built ${d.multipliers} multipliers, the plan says ${p.dsps}`);
  const latency = d.latency;
  const sums = d.sums;
  let v: Expr = inValid;
  let fst: Expr = first;
  let lst: Expr = last;
  for (let s = 0; s < latency; s++) {
    const vr = m.reg(`v_s${s}`, 1, { init: 0 });
    const fr = m.reg(`first_s${s}`, 1);
    const lr = m.reg(`last_s${s}`, 1);
    m.sync((b) => b.set(vr, v).set(fr, fst).set(lr, lst));
    v = vr;
    fst = fr;
    lst = lr;
  }

  // accumulate: the first beat of a frame starts from bias + rounding constant
  const rnd = lit(l.shift > 0 ? 1n << BigInt(l.shift - 1) : 0n, A, true);
  const acc = Array.from({ length: K }, (_, o) => m.reg(`acc_${o}`, A, { signed: true }));
  const bias = (o: number): Expr => cat(...bank.regs.slice(o * p.biasBytes, (o + 1) * p.biasBytes).reverse()).slice(A - 1, 0).asSigned();
  const done = m.reg('done', 1, { init: 0 });
  m.sync((b) => {
    b.if(v, (t) => acc.forEach((a, o) => t.set(a, mux(fst, bias(o).add(rnd), a).add(sums[o]!))));
    b.set(done, v.and(lst));
  }, 'accumulate');

  // logits: arithmetic shift, signed saturation
  const hi = 2n ** BigInt(logitBits - 1) - 1n;
  const logits = acc.map((a, o) => {
    const sh = m.let(`sh_${o}`, a.shr(l.shift));
    if (logitBits >= A) return sh.sext(logitBits);
    const sat = mux(sh.gt(lit(hi, A, true)), lit(hi, A, true), mux(sh.lt(lit(-hi - 1n, A, true)), lit(-hi - 1n, A, true), sh));
    return m.let(`lg_${o}`, sat.slice(logitBits - 1, 0));
  });
  const lv = m.reg('lv', 1, { init: 0 });
  const ld = m.reg('ld', K * logitBits);
  m.sync((b) => {
    b.set(lv, done);
    b.if(done, (t) => t.set(ld, cat(...logits.slice().reverse().map((x) => x.asUnsigned()))));
  }, 'logits');
  m.assign(outValid, lv);
  m.assign(outData, ld);
  return { module: m, latency: latency + 2 };
}
