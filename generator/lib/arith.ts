/**
 * Reusable fixed-point building blocks for IR modules: saturation, constant and dynamic (barrel) shifts with the
 * golden decoder's rounding (`shr`: add half, arithmetic shift right; non-positive amounts shift left exactly),
 * leading-one detection, absolute value. Every helper names its intermediate stages as wires of the given module
 * so the printed Verilog stays linear in size (the printer inlines expressions).
 */
import { Expr, HdlError, lit, mux, type Module, type Signal } from '../hdl';
import { bitsFor } from '../util/errors';

export class Arith {
  constructor(
    readonly m: Module,
    readonly prefix: string,
  ) {}

  /** A named wire holding e. */
  wire(tag: string, e: Expr): Signal {
    const s = this.m.temp(`${this.prefix}_${tag}`, e.width, { signed: e.signed });
    this.m.assign(s, e);
    return s;
  }

  /** Clamp a signed value to the signed range of `bits` bits; result is signed `bits` wide. */
  sat(e: Expr, bits: number): Expr {
    if (!e.signed) e = e.zext(e.width + 1).asSigned();
    if (e.width <= bits) return e.sext(bits);
    const hi = (1n << BigInt(bits - 1)) - 1n;
    const v = this.wire('sat', e);
    const hiC = lit(hi, e.width, true);
    const loC = lit(-hi - 1n, e.width, true);
    return this.wire('satr', mux(v.gt(hiC), hiC, mux(v.lt(loC), loC, v)).resize(bits));
  }

  /** Clamp a signed value to [-lim, lim]; result signed `bits` wide (lim must fit). */
  satSym(e: Expr, lim: number, bits: number): Expr {
    const w = Math.max(e.width, bits);
    const v = this.wire('ssym', e.resize(w));
    const hiC = lit(lim, w, true);
    const loC = lit(-lim, w, true);
    return this.wire('ssymr', mux(v.gt(hiC), hiC, mux(v.lt(loC), loC, v)).resize(bits));
  }

  /** Golden `shr(v, s)` by a constant s (signed result, exact: widened as needed). */
  shrC(v: Expr, s: number): Expr {
    if (!v.signed) throw new HdlError('shrC needs a signed value');
    if (s <= 0) return s === 0 ? v : v.sext(v.width - s).shl(-s);
    // floor((v + 2^(s-1)) / 2^s) == ((v >>> (s-1)) + 1) >>> 1
    const w = v.width + 1;
    const t = s - 1 >= w ? lit(0, w, true) : v.sext(w).shr(s - 1);
    const r = t.add(lit(1, w, true));
    return this.wire('shrc', r.shr(1));
  }

  /** Arithmetic (signed) or logical (unsigned) right shift by an unsigned dynamic amount; amounts >= width fill. */
  shrDyn(v: Expr, amt: Expr): Expr {
    let x: Expr = v;
    for (let k = 0; k < amt.width; k++) {
      const d = 2 ** k;
      const fill = v.signed ? mux(x.bit(x.width - 1), lit(-1, x.width, true), lit(0, x.width, true)) : lit(0, x.width);
      const shifted = d >= x.width ? fill : x.shr(d);
      x = this.wire(`sr${k}`, mux(amt.bit(k), shifted, x));
    }
    return x;
  }

  /** Left shift by an unsigned dynamic amount, keeping the width (caller widens first). */
  shlDyn(v: Expr, amt: Expr): Expr {
    let x: Expr = v;
    for (let k = 0; k < amt.width; k++) {
      const d = 2 ** k;
      const shifted = d >= x.width ? lit(0, x.width, x.signed) : x.shl(d);
      x = this.wire(`sl${k}`, mux(amt.bit(k), shifted, x));
    }
    return x;
  }

  /**
   * Golden `shr(v, s)` for a signed dynamic amount s known to lie in [lo, hi]: s > 0 rounds half up, s <= 0 shifts
   * left exactly. The result is signed and wide enough to be exact: v.width + max(0, -lo) + 1 bits.
   */
  shrDynRound(v: Expr, s: Expr, lo: number, hi: number): Expr {
    if (!v.signed || !s.signed) throw new HdlError('shrDynRound needs a signed value and a signed amount');
    const L = Math.max(0, -lo);
    const wx = v.width + L + 1;
    const vx = this.wire('sdv', v.sext(wx));
    const sw = Math.max(s.width, bitsFor(Math.max(Math.abs(lo), Math.abs(hi)) + 1) + 1);
    const sx = this.wire('sds', s.resize(sw));
    let right: Expr | undefined;
    if (hi >= 1) {
      const maxR = Math.min(hi - 1, wx - 1);
      const rb = bitsFor(maxR);
      const sm1 = sx.sub(lit(1, sw, true));
      const clampHi = lit(maxR, sw, true);
      const amtS = mux(sm1.lt(lit(0, sw, true)), lit(0, sw, true), mux(sm1.gt(clampHi), clampHi, sm1));
      const amt = this.wire('sdra', amtS.asUnsigned().slice(rb - 1, 0));
      const t = this.shrDyn(vx, amt);
      right = this.wire('sdr', t.add(lit(1, wx, true)).shr(1));
    }
    let left: Expr | undefined;
    if (lo <= 0 && L > 0) {
      const lb = bitsFor(L);
      const neg = sx.neg();
      const clampHi = lit(L, sw, true);
      const amtS = mux(neg.lt(lit(0, sw, true)), lit(0, sw, true), mux(neg.gt(clampHi), clampHi, neg));
      const amt = this.wire('sdla', amtS.asUnsigned().slice(lb - 1, 0));
      left = this.shlDyn(vx, amt);
    } else if (lo <= 0) left = vx;
    if (right && left) return this.wire('sdo', mux(sx.ge(lit(1, sw, true)), right, left));
    return (right ?? left)!;
  }

  /** Number of significant bits of an unsigned value (0 for 0); unsigned bitsFor(width) wide. */
  bitLength(v: Expr): Expr {
    if (v.signed) throw new HdlError('bitLength needs an unsigned value');
    const w = bitsFor(v.width);
    let bl: Expr = lit(0, w);
    for (let i = 0; i < v.width; i++) bl = mux(v.bit(i), lit(i + 1, w), bl);
    return this.wire('bl', bl);
  }

  /** |v| of a signed value as an unsigned value of the same width. */
  abs(v: Expr): Expr {
    if (!v.signed) return v;
    return this.wire('abs', mux(v.bit(v.width - 1), v.neg(), v).asUnsigned());
  }

  /** Unsigned maximum. */
  umax(a: Expr, b: Expr): Expr {
    return mux(a.gt(b), a, b);
  }
}

/** Signed constant helper. */
export const sconst = (v: number | bigint, w: number): Expr => lit(v, w, true);
