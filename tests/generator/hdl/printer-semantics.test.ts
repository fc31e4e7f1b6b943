import { describe, expect, it } from 'vitest';
import { Module, cat, evalExpr, lit, mux, printDesign, type Expr, type Signal } from '../../../generator/hdl';
import { Rng } from '../../../generator/util/rng';
import { buildSim } from '../../../sim';
import { lintVerilog } from '../../../sim/lint';
import { runIcarus } from '../../../sim/testbench';

/**
 * The printer must make simulators compute exactly what the IR means. Random expression trees over random-width,
 * random-signedness inputs are printed, simulated in Verilator and Icarus, and compared with the IR interpreter.
 */

function fit(x: Expr, w: number, signed: boolean): Expr {
  let e = x.width > w ? x.slice(w - 1, 0) : x.width < w ? x.resize(w) : x;
  e = signed ? e.asSigned() : e.asUnsigned();
  return e;
}

function gen(rng: Rng, leaves: Signal[], w: number, s: boolean, depth: number): Expr {
  const sub = (ww: number, ss: boolean) => gen(rng, leaves, ww, ss, depth - 1);
  if (depth === 0 || rng.next() < 0.15) {
    if (rng.next() < 0.2) return fit(lit(BigInt(rng.int(0, 2 ** Math.min(w, 30) - 1)), w), w, s);
    return fit(rng.pick(leaves), w, s);
  }
  switch (rng.int(0, 11)) {
    case 0: return sub(w, s).add(sub(w, s));
    case 1: return sub(w, s).sub(sub(w, s));
    case 2: return rng.pick(['and', 'or', 'xor'] as const) === 'and' ? sub(w, s).and(sub(w, s)) : sub(w, s).xor(sub(w, s)).or(sub(w, s));
    case 3: {
      if (w < 2) return sub(w, s).not();
      const wa = rng.int(1, w - 1);
      return sub(wa, s).mul(sub(w - wa, s));
    }
    case 4: {
      const k = rng.int(1, 24);
      const ss = rng.next() < 0.5;
      const a = sub(k, ss);
      const b = sub(k, ss);
      const c = [a.lt(b), a.le(b), a.gt(b), a.ge(b), a.eq(b), a.ne(b)][rng.int(0, 5)]!;
      return fit(c, w, s);
    }
    case 5: return rng.next() < 0.5 ? sub(w, s).not() : sub(w, s).neg();
    case 6: {
      const a = sub(rng.int(1, 20), rng.next() < 0.5);
      return fit([a.any(), a.all(), a.parity()][rng.int(0, 2)]!, w, s);
    }
    case 7: {
      const k = rng.int(0, w - 1);
      return rng.next() < 0.5 ? sub(w, s).shl(k) : sub(w, s).shr(k);
    }
    case 8: {
      const extra = rng.int(1, 8);
      const lo = rng.int(0, extra);
      return fit(sub(w + extra, rng.next() < 0.5).slice(lo + w - 1, lo), w, s);
    }
    case 9: {
      if (w < 2) return sub(w, s);
      const w1 = rng.int(1, w - 1);
      return fit(cat(sub(w1, rng.next() < 0.5), sub(w - w1, rng.next() < 0.5)), w, s);
    }
    case 10: return mux(sub(1, false), sub(w, s), sub(w, s));
    default: {
      const k = rng.int(1, w);
      const inner = sub(k, rng.next() < 0.5);
      return fit(rng.next() < 0.5 ? inner.sext(w) : inner.zext(w), w, s);
    }
  }
}

function randomDesign(seed: number) {
  const rng = new Rng(seed);
  const m = new Module(`fuzz${seed}`);
  const widths = Array.from({ length: 5 }, () => rng.int(1, 40));
  const inBits = widths.reduce((a, b) => a + b, 0);
  const input = m.streamIn('in', inBits);
  const leaves: Signal[] = [];
  let off = 0;
  widths.forEach((w, i) => {
    const s = rng.next() < 0.5;
    const slice = input.data.slice(off + w - 1, off);
    leaves.push(m.let(`a${i}`, s ? slice.asSigned() : slice));
    off += w;
  });
  const exprs = Array.from({ length: 8 }, () => gen(rng, leaves, rng.int(1, 64), rng.next() < 0.5, 4));
  const outs = exprs.map((e, i) => m.let(`e${i}`, e));
  const outBits = outs.reduce((a, o) => a + o.width, 0);
  const output = m.streamOut('out', outBits);
  const valid = m.reg('out_v', 1, { init: 0 });
  const data = m.reg('out_d', outBits);
  m.assign(input.ready, valid.not().or(output.ready));
  m.sync((b) => b.if(input.ready, (t) => t.set(valid, input.valid).set(data, cat(...[...outs].reverse().map((o) => o.asUnsigned())))));
  m.assign(output.valid, valid);
  m.assign(output.data, data);
  const vectors = Array.from({ length: 64 }, () => {
    let v = 0n;
    for (let b = 0; b < inBits; b += 30) v |= BigInt(rng.int(0, 2 ** 30 - 1)) << BigInt(b);
    return v & ((1n << BigInt(inBits)) - 1n);
  });
  // the IR interpreter's answer for every vector
  const expected = vectors.map((v) => {
    const env = new Map<Signal, bigint>();
    let o = 0;
    widths.forEach((w, i) => {
      env.set(leaves[i]!, (v >> BigInt(o)) & ((1n << BigInt(w)) - 1n));
      o += w;
    });
    let word = 0n;
    let shift = 0n;
    for (const e of exprs) {
      word |= evalExpr(e, env) << shift;
      shift += BigInt(e.width);
    }
    return word;
  });
  return { m, vectors, expected };
}

describe('printed Verilog means what the IR means', () => {
  for (const seed of [1, 2, 3]) {
    it(`random expression design ${seed}: lint clean, Verilator and Icarus equal the IR interpreter`, async () => {
      const { m, vectors, expected } = randomDesign(seed);
      const d = printDesign(m);
      expect((await lintVerilog(d.files, d.top, { throwOnWarning: false })).messages).toEqual([]);
      const sim = await buildSim({ iface: m.interface(), files: d.files });
      const v = await sim.run({ inputs: { in: vectors }, outputs: { out: vectors.length }, seed, stall: { default: 0.3 } });
      expect(v.outputs.out!.data).toEqual(expected);
      const ivl = await runIcarus(m, { inputs: { in: vectors }, outputs: { out: vectors.length }, stall: 0.3, seed });
      expect(ivl.outputs.out).toEqual(expected);
    });
  }
});
