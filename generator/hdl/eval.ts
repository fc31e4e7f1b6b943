/**
 * A reference interpreter for IR expressions: the meaning of every operator, independent of the printer.
 * Values are bit patterns (0 <= v < 2^width); signed operands are interpreted in two's complement.
 * Tests compare it with what Verilog simulators compute from the printed design.
 */
import { Binary, Cast, Concat, Const, Expr, Extend, HdlError, Mux, Shift, Slice, Unary } from './expr';
import { Signal } from './module';

const mask = (w: number) => (1n << BigInt(w)) - 1n;
export const toSigned = (v: bigint, w: number): bigint => (v >> BigInt(w - 1) ? v - (1n << BigInt(w)) : v);
const valueOf = (v: bigint, e: Expr): bigint => (e.signed ? toSigned(v, e.width) : v);

export function evalExpr(e: Expr, env: ReadonlyMap<Signal, bigint>): bigint {
  const ev = (x: Expr) => evalExpr(x, env);
  if (e instanceof Const) return e.bits;
  if (e instanceof Signal) {
    const v = env.get(e);
    if (v === undefined) throw new HdlError(`eval: no value for ${e.describe()}`);
    return v & mask(e.width);
  }
  if (e instanceof Binary) {
    const a = valueOf(ev(e.a), e.a);
    const b = valueOf(ev(e.b), e.b);
    const bool = (c: boolean) => (c ? 1n : 0n);
    switch (e.op) {
      case '+': return (a + b) & mask(e.width);
      case '-': return (a - b) & mask(e.width);
      case '*': return (a * b) & mask(e.width);
      case '&': return (a & b) & mask(e.width);
      case '|': return (a | b) & mask(e.width);
      case '^': return (a ^ b) & mask(e.width);
      case '==': return bool(a === b);
      case '!=': return bool(a !== b);
      case '<': return bool(a < b);
      case '<=': return bool(a <= b);
      case '>': return bool(a > b);
      case '>=': return bool(a >= b);
    }
  }
  if (e instanceof Unary) {
    const v = ev(e.a);
    switch (e.op) {
      case '~': return ~v & mask(e.width);
      case '-': return -v & mask(e.width);
      case 'reduce|': return v !== 0n ? 1n : 0n;
      case 'reduce&': return v === mask(e.a.width) ? 1n : 0n;
      case 'reduce^': {
        let p = 0n;
        for (let x = v; x; x >>= 1n) p ^= x & 1n;
        return p;
      }
    }
  }
  if (e instanceof Shift) {
    const v = ev(e.a);
    if (e.op === '<<') return (v << BigInt(e.amount)) & mask(e.width);
    return (valueOf(v, e.a) >> BigInt(e.amount)) & mask(e.width);
  }
  if (e instanceof Slice) return (ev(e.a) >> BigInt(e.lo)) & mask(e.width);
  if (e instanceof Concat) return e.parts.reduce((acc, p) => (acc << BigInt(p.width)) | ev(p), 0n);
  if (e instanceof Mux) return ev(e.cond) ? ev(e.then) : ev(e.otherwise);
  if (e instanceof Extend) {
    const v = ev(e.a);
    return (e.signExtend ? toSigned(v, e.a.width) : v) & mask(e.width);
  }
  if (e instanceof Cast) return ev(e.a);
  throw new HdlError(`eval: unsupported expression kind ${e.kind}`);
}
