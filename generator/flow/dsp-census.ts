/**
 * DSP48E2 census: how many DSP slices Yosys `synth_xilinx -family xcup` maps a design's multipliers to, counted
 * from the IR in milliseconds instead of a Yosys run (the 7B engine top is beyond Yosys/WebAssembly's memory;
 * docs/llm-engine.md#synthesis). It applies Yosys' own rule, techmap `mul2dsp.v` with the UltraScale+ limits
 * (synth_xilinx: A <= 27, B <= 18, A_MAXWIDTH_PARTIAL 18, A and B >= 2 bits, product >= 9 bits, signed only):
 *  - operands as Yosys sees them after `wreduce`: extensions that repeat the multiply's own signedness are
 *    dropped, a zero-extended operand of a signed multiply keeps one 0 bit, a constant takes its minimal width
 *    without its trailing zeros (a shift of the product), so a power-of-two constant is no multiply at all;
 *  - an unsigned multiply gets one more bit per operand (signed-only DSPs);
 *  - the wider operand goes on A; above 27 bits A is split into 17-bit partial products (18 with the sign bit),
 *    above 18 bits B likewise; each partial product is one DSP48E2.
 * Identical sub-expressions are one multiplier (the printer names each once; Yosys' opt_merge shares them).
 * Checked against Yosys shape by shape (tests/generator/flow/dsp-census.test.ts); by hand on the GEMV unit (equal) and
 * the sim-small engine top (117 against Yosys' 115: products whose unused high bits Yosys trims).
 */
import { Binary, Cast, Const, Expr, Extend } from '../hdl/expr';
import { ExternModule, Module } from '../hdl/module';
import { distinctExprs } from '../hdl/checks';

const A_MAX = 27;
const B_MAX = 18;
const PARTIAL = 18;
const SIGN_HEADROOM = 1;

/** Bits of a constant as wreduce leaves it (two's complement when the multiply is signed). */
function constBits(c: Const, signed: boolean): number {
  let v = c.signed && c.bits >> BigInt(c.width - 1) ? c.bits - (1n << BigInt(c.width)) : c.bits;
  // trailing zeros become a shift of the product
  while (v !== 0n && (v & 1n) === 0n) v >>= 1n;
  const mag = v < 0n ? -v - 1n : v;
  const bits = mag === 0n ? 1 : mag.toString(2).length;
  return signed ? bits + 1 : bits;
}

/** An operand's width after wreduce, and whether it is a constant power of two (then the product is a shift). */
function operand(e: Expr, signed: boolean): { width: number; pow2: boolean } {
  let x = e;
  for (;;) {
    if (x instanceof Cast) x = x.a;
    else if (x instanceof Extend && x.signExtend === signed) x = x.a;
    else if (x instanceof Extend) return { width: x.a.width + 1, pow2: false };
    else break;
  }
  if (x instanceof Const) {
    const v = x.bits;
    return { width: constBits(x, signed), pow2: v > 0n && (v & (v - 1n)) === 0n };
  }
  return { width: x.width, pow2: false };
}

/** DSP48E2s for one A x B multiply with a Y-bit product (mul2dsp's recursion; operands already signed). */
export function dspsFor(aw: number, bw: number, yw: number): number {
  if (aw < bw) [aw, bw] = [bw, aw];
  if (bw < 2 || yw < 9) return 0;
  if (aw > A_MAX) {
    const step = PARTIAL - SIGN_HEADROOM;
    const n = Math.floor((aw - A_MAX + PARTIAL - SIGN_HEADROOM - 1) / step);
    const last = aw - n * step;
    return n * dspsFor(PARTIAL, bw, Math.min(yw, bw + PARTIAL)) + dspsFor(last, bw, bw + last);
  }
  if (bw > B_MAX) {
    const step = B_MAX - SIGN_HEADROOM;
    const n = Math.floor((bw - B_MAX + B_MAX - SIGN_HEADROOM - 1) / step);
    const last = bw - n * step;
    return n * dspsFor(aw, B_MAX, Math.min(yw, aw + B_MAX)) + dspsFor(aw, last, aw + last);
  }
  return 1;
}

export interface DspCensus {
  /** Multipliers in the design (each instance of a module counted). */
  multipliers: number;
  /** DSP48E2 slices they map to. */
  dsp: number;
  /** By shape "AxB" (operand bits after wreduce, signed): [count, DSPs each], largest total first. */
  shapes: Array<{ shape: string; count: number; dspEach: number }>;
}

/** The census of a module and every module it instantiates, except extern cells and modules named in `skip`. */
export function dspCensus(top: Module, skip: ReadonlySet<string> = new Set()): DspCensus {
  const shapes = new Map<string, { count: number; dspEach: number }>();
  let multipliers = 0;
  let dsp = 0;
  const own = new Map<Module, Array<{ shape: string; dspEach: number }>>();
  const ownOf = (m: Module) => {
    let list = own.get(m);
    if (list) return list;
    list = [];
    for (const e of distinctExprs(m)) {
      if (!(e instanceof Binary) || e.op !== '*') continue;
      const a = operand(e.a, e.signed);
      const b = operand(e.b, e.signed);
      if (a.pow2 || b.pow2) continue;
      const [aw, bw] = e.signed ? [a.width, b.width] : [a.width + 1, b.width + 1];
      list.push({ shape: `${Math.max(aw, bw)}x${Math.min(aw, bw)}`, dspEach: dspsFor(aw, bw, Math.min(e.width, a.width + b.width)) });
    }
    own.set(m, list);
    return list;
  };
  const walk = (m: Module, times: number): void => {
    for (const { shape, dspEach } of ownOf(m)) {
      const s = shapes.get(shape) ?? { count: 0, dspEach };
      s.count += times;
      shapes.set(shape, s);
      multipliers += times;
      dsp += dspEach * times;
    }
    for (const i of m.instances) if (!(i.of instanceof ExternModule) && !skip.has(i.of.name)) walk(i.of, times);
  };
  walk(top, 1);
  return {
    multipliers,
    dsp,
    shapes: [...shapes].map(([shape, s]) => ({ shape, ...s })).sort((x, y) => y.count * y.dspEach - x.count * x.dspEach),
  };
}
