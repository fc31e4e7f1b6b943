/**
 * argmax (ties to the lowest index) and score = winning logit minus the best other one, saturated to scoreBits
 * (golden.ts `decide`). Two register stages.
 */
import { Module, lit, mux, type Expr } from '../../hdl';

export function decideModule(classes: number, logitBits: number, scoreBits: number, classBits: number, name: string): Module {
  const m = new Module(name, { doc: `argmax + score over ${classes} signed ${logitBits}-bit logits` });
  const inValid = m.input('logits_valid', 1);
  const inData = m.input('logits', classes * logitBits);
  const outValid = m.output('res_valid', 1);
  const outCls = m.output('res_cls', classBits);
  const outScore = m.output('res_score', scoreBits);
  const lg = (x: Expr, o: number): Expr => x.slice((o + 1) * logitBits - 1, o * logitBits).asSigned();

  // stage 1: winner
  let best: Expr = lg(inData, 0);
  let idx: Expr = lit(0, classBits);
  for (let o = 1; o < classes; o++) {
    const better = lg(inData, o).gt(best);
    idx = m.let(`idx_${o}`, mux(better, lit(o, classBits), idx));
    best = m.let(`best_${o}`, mux(better, lg(inData, o), best));
  }
  const v1 = m.reg('v1', 1, { init: 0 });
  const cls1 = m.reg('cls1', classBits);
  const best1 = m.reg('best1', logitBits, { signed: true });
  const lg1 = m.reg('lg1', classes * logitBits);
  m.sync((b) => {
    b.set(v1, inValid);
    b.if(inValid, (t) => t.set(cls1, idx).set(best1, best).set(lg1, inData));
  }, 'winner');

  // stage 2: runner-up and margin
  const min = lit(-(2n ** BigInt(logitBits - 1)), logitBits, true);
  let second: Expr = min;
  for (let o = 0; o < classes; o++) {
    const cand = mux(cls1.eq(o), min, lg(lg1, o));
    second = m.let(`second_${o}`, mux(cand.gt(second), cand, second));
  }
  const W = logitBits + 1;
  const diff = m.let('margin', best1.sext(W).sub(second.sext(W)));
  const hiS = 2n ** BigInt(scoreBits) - 1n;
  const maxDiff = 2n ** BigInt(logitBits) - 1n;
  let score: Expr;
  if (hiS >= maxDiff) score = diff.asUnsigned().slice(W - 2, 0).zext(scoreBits);
  else score = mux(diff.gt(lit(hiS, W, true)), lit(hiS, scoreBits), diff.asUnsigned().slice(scoreBits - 1, 0));
  const v2 = m.reg('v2', 1, { init: 0 });
  const cls2 = m.reg('cls2', classBits);
  const score2 = m.reg('score2', scoreBits);
  m.sync((b) => {
    b.set(v2, v1);
    b.if(v1, (t) => t.set(cls2, cls1).set(score2, score));
  }, 'margin');
  m.assign(outValid, v2);
  m.assign(outCls, cls2);
  m.assign(outScore, score2);
  return m;
}
