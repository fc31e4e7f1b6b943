// Combinational pair packing (lib/dsp-pack.ts): products of a shared operand two per multiplier, and sums of pair
// products split once, evaluated on the IR over the full range of narrow codes and at the extremes of the sums.
import { describe, expect, it } from 'vitest';
import { evalExpr, Module, sumTree, toSigned, type Expr, type Signal } from '../../../generator/hdl';
import { pairedProducts, pairHighField, pairOperand, splitPairSum } from '../../../generator/lib/dsp-pack';
import { Rng } from '../../../generator/util/rng';

/** Evaluate expressions of a module's inputs (its lets are assigns, created after what they read). */
function evaluator(m: Module) {
  return (inputs: Map<Signal, bigint>, es: Expr[]): number[] => {
    const env = new Map(inputs);
    for (const a of m.assigns) env.set(a.target, evalExpr(a.value, env));
    return es.map((e) => Number(e.signed ? toSigned(evalExpr(e, env), e.width) : evalExpr(e, env)));
  };
}
const enc = (v: number, w: number) => BigInt(v < 0 ? v + 2 ** w : v);

describe('pair packing', () => {
  it('pairedProducts equals shared * value for every pair of 4-bit codes and extreme and random 9-bit operands', () => {
    const m = new Module('pp');
    const sh = m.input('sh', 9, { signed: true });
    const vs = [0, 1, 2].map((i) => m.input(`v${i}`, 4, { signed: true }));
    const ps = pairedProducts(m, 'p', sh, vs); // a pair and a last odd value
    expect(ps.map((p) => p.width)).toEqual([13, 13, 13]);
    const ev = evaluator(m);
    const rng = new Rng(7);
    for (const s of [-256, -255, -1, 0, 1, 255, ...Array.from({ length: 6 }, () => rng.int(-256, 255))])
      for (let a = -8; a < 8; a++)
        for (let b = -8; b < 8; b++) {
          const c = (a + b) & 7;
          const got = ev(new Map([[sh, enc(s, 9)], [vs[0]!, enc(a, 4)], [vs[1]!, enc(b, 4)], [vs[2]!, enc(c - 8, 4)]]), ps);
          expect(got).toEqual([s * a + 0, s * b + 0, s * (c - 8) + 0]);
        }
  });

  it('a sum of pair products splits into both dot products at the extremes of their range', () => {
    const n = 128;
    const m = new Module('ps');
    const q = Array.from({ length: n }, (_, t) => m.input(`q${t}`, 8, { signed: true }));
    const ka = Array.from({ length: n }, (_, t) => m.input(`a${t}`, 4, { signed: true }));
    const kb = Array.from({ length: n }, (_, t) => m.input(`b${t}`, 4, { signed: true }));
    const S = 19;
    const T = sumTree(q.map((x, t) => x.mul(pairOperand(pairHighField(kb[t]!, ka[t]!), ka[t]!, S)).resize(2 * S + 1)), 2 * S + 1);
    const [lo, hi] = splitPairSum(T, S);
    const ev = evaluator(m);
    const rng = new Rng(9);
    const cases: Array<[number[], number[], number[]]> = [
      [Array(n).fill(-127), Array(n).fill(-8), Array(n).fill(-8)], // both sums at their largest
      [Array(n).fill(127), Array(n).fill(-8), Array(n).fill(7)], // low most negative, high most positive
      [Array(n).fill(-127), Array(n).fill(7), Array(n).fill(-8)],
      ...Array.from({ length: 20 }, () => [0, 1, 2].map((k) => Array.from({ length: n }, () => (k === 0 ? rng.int(-127, 127) : rng.int(-8, 7)))) as [number[], number[], number[]]),
    ];
    for (const [qs, as, bs] of cases) {
      const env = new Map<Signal, bigint>();
      for (let t = 0; t < n; t++) env.set(q[t]!, enc(qs[t]!, 8)).set(ka[t]!, enc(as[t]!, 4)).set(kb[t]!, enc(bs[t]!, 4));
      const dot = (ks: number[]) => qs.reduce((s, x, t) => s + x * ks[t]!, 0);
      expect(ev(env, [lo, hi])).toEqual([dot(as), dot(bs)]);
    }
  });
});
