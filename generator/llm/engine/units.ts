/**
 * Datapath pieces of the decode engine shared by several ops: element-wide vector memories with one async read
 * port, ROMs printed from the golden decoder's tables, and the dynamic-scale quantiser (golden quantizeDynamic)
 * split into its scale part (once per vector/group, from |max|) and its per-element code part.
 */
import { cat, lit, mux, type Block, type Expr, type Memory, type Module, type Signal } from '../../hdl';
import { Arith } from '../../lib/arith';
import { bitsFor } from '../../util/errors';
import type { EngineConfig } from '../model-spec';
import { addrBits, type QuantSite } from './hw-config';

/** Signed view of an unsigned value (one more bit). */
export const asS = (e: Expr): Expr => (e.signed ? e : e.zext(e.width + 1).asSigned());

/**
 * A vector of n elements stored P per word; read combinationally at `raddr` (driven by the controller). With
 * `tokens` > 1 (prefill) it holds one vector per token of the block: token t's region starts at t * 2^aw, and
 * every address is taken in the region of a token (`tok`, by default the controller's current token).
 */
export class VecMem {
  readonly mem: Memory;
  readonly raddr: Signal;
  readonly rdata: Signal;
  /** Address bits within one token's vector. */
  readonly aw: number;
  /** Address bits of the whole memory (token region above aw). */
  readonly faw: number;
  readonly reads: Array<[Expr, Expr]> = [];
  constructor(
    readonly m: Module,
    readonly name: string,
    readonly depth: number,
    readonly P: number,
    readonly elemBits: number,
    readonly tokens = 1,
    readonly tok?: Expr,
  ) {
    this.aw = addrBits(depth);
    this.faw = tokens > 1 ? this.aw + tok!.width : this.aw;
    this.mem = m.memory(`${name}_mem`, P * elemBits, tokens > 1 ? tokens * 2 ** this.aw : depth);
    this.raddr = m.wire(`${name}_raddr`, this.faw, { init: 0 });
    this.rdata = m.let(`${name}_rdata`, this.mem.read(this.raddr));
  }
  /** Full address of word a of token t's vector. */
  at(a: Expr, t: Expr | undefined = this.tok): Expr {
    const fa = a.width >= this.aw ? a.slice(this.aw - 1, 0) : a.zext(this.aw);
    return this.tokens > 1 ? cat(t!, fa) : fa;
  }
  /** Element k of the word being read, signed. */
  lane(k: number): Expr {
    return this.rdata.slice(this.elemBits * k + this.elemBits - 1, this.elemBits * k).asSigned();
  }
  /** Read this address when cond holds (first matching condition wins). */
  readAt(cond: Expr, addr: Expr, tok: Expr | undefined = this.tok): void {
    this.reads.push([cond, this.at(addr, tok)]);
  }
  /** Pack P signed lanes into a word (lane 0 in the low bits). */
  word(lanes: Expr[]): Expr {
    const parts = lanes.map((l) => l.resize(this.elemBits).asUnsigned());
    return parts.length === 1 ? parts[0]! : catLanes(parts);
  }
  /** Print the read-address mux; call once after every readAt. */
  finish(): void {
    const m = this.m;
    const fit = (a: Expr) => a;
    m.comb((b) => {
      const chain = (k: number, blk: typeof b) => {
        if (k >= this.reads.length) return;
        const [c, a] = this.reads[k]!;
        blk.if(c, (t) => t.set(this.raddr, fit(a)), (e) => chain(k + 1, e));
      };
      chain(0, b);
    });
  }
}

/** Concatenate lanes, lane 0 least significant. */
export function catLanes(parts: Expr[]): Expr {
  return cat(...[...parts].reverse());
}

/** A read-only table (asynchronous reads; each read is one more read port). */
export function rom(m: Module, name: string, width: number, values: ArrayLike<number>): Memory {
  return m.memory(name, width, values.length, Array.from(values, (v) => BigInt(v)));
}

/** Scale of a dynamically quantised vector/group, registered by the caller. */
export interface QScaleHw {
  /** Reciprocal of the mantissa (recipFrac bits). */
  r: Expr;
  /** Right shift of the code computation. */
  s: Expr;
  /** Mantissa (0 when amax = 0). */
  mant: Expr;
  /** Scale shift sh (exp = sh - (bits-1) - frac). */
  sh: Expr;
  zero: Expr;
}

/**
 * Golden quantizeDynamic, scale part: from amax (unsigned, site.srcBits wide) to (R, s, mant, exp).
 * amax = 0 gives mant 0 and exp 0 (codes are 0 then because every input is 0).
 */
export function qscaleHw(A: Arith, e: EngineConfig, recip: Memory, amax: Expr, site: QuantSite): QScaleHw {
  const M = site.mantBits;
  const Wa = amax.width;
  const bl = A.bitLength(amax);
  const shW = bitsFor(Wa + M + 2) + 1;
  const sh0 = A.wire('qsh0', bl.zext(shW).asSigned().sub(lit(M, shW, true)));
  // m0 = floor(amax / 2^sh0) (sh0 >= 0) or amax * 2^-sh0 (sh0 < 0): always M bits with the top bit set.
  const neg = sh0.bit(shW - 1);
  const rAmt = A.wire('qra', mux(neg, lit(0, shW), sh0.asUnsigned()).slice(bitsFor(Math.max(1, Wa)) - 1, 0));
  const lAmt = A.wire('qla', mux(neg, sh0.neg().asUnsigned(), lit(0, shW)).slice(bitsFor(M) - 1, 0));
  const right = A.shrDyn(amax, rAmt);
  const left = A.shlDyn(amax.zext(Wa + M), lAmt);
  const m0 = A.wire('qm0', mux(neg, left.slice(M - 1, 0), right.resize(M)));
  const m1 = A.wire('qm1', m0.zext(M + 1).add(lit(1, M + 1)));
  const wrap = A.wire('qwrap', m1.bit(M));
  const mant = A.wire('qmant', mux(wrap, lit(1 << (M - 1), M), m1.slice(M - 1, 0)));
  const sh = A.wire('qsh', mux(wrap, sh0.add(lit(1, shW, true)), sh0));
  const rb = e.recipBits;
  const idx = A.wire('qridx', mant.sub(lit(1 << (M - 1), M)).zext(rb).shl(rb - M));
  const r = A.wire('qr', recip.read(idx));
  const sW = Math.max(shW, bitsFor(Math.max(Math.abs(site.s.lo), Math.abs(site.s.hi))) + 2);
  const base = e.recipFrac - (rb - M) - (site.bits - 1);
  const s = A.wire('qs', sh.resize(sW).add(lit(base, sW, true)));
  const zero = A.wire('qzero', amax.eq(lit(0, Wa)));
  return { r, s, mant: A.wire('qmz', mux(zero, lit(0, M), mant)), sh, zero };
}

/** Golden quantizeDynamic, code part: satSym(shr(y * R, s), 2^(bits-1)-1) as a signed `bits`-wide code. */
export function qcodeHw(A: Arith, y: Expr, r: Expr, s: Expr, site: QuantSite): Expr {
  const prod = A.wire('qprod', y.mul(asS(r)).resize(y.width + r.width + 1));
  const sh = A.shrDynRound(prod, s, site.s.lo, site.s.hi);
  return A.satSym(sh, 2 ** (site.bits - 1) - 1, site.bits);
}

/** bits wide enough for a signed range. */
export const rangeBits = (lo: number, hi: number): number => bitsFor(Math.max(Math.abs(lo), Math.abs(hi))) + 1;

/**
 * A value kept per token of a prefill block (Σx² between the op that writes x and the next NORM, the A8 scale
 * between a QUANT and the GEMV writer): a register when the engine holds one token, else a memory indexed by token.
 */
export class TokVal {
  private readonly reg?: Signal;
  private readonly mem?: Memory;
  constructor(m: Module, name: string, readonly width: number, readonly signed: boolean, tokens: number) {
    if (tokens > 1) this.mem = m.memory(`${name}_tok`, width, tokens);
    else this.reg = m.reg(name, width, { signed });
  }
  read(t: Expr): Expr {
    if (this.reg) return this.reg;
    const v = this.mem!.read(t);
    return this.signed ? v.asSigned() : v;
  }
  set(b: Block, t: Expr, v: Expr): void {
    if (this.reg) b.set(this.reg, v);
    else b.write(this.mem!, t, v.resize(this.width).asUnsigned());
  }
}
