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

/**
 * The quarter-wave of a full-circle cosine table t (N entries, t[i] ~ cos(2 pi i / N)): its first N/4 + 1 entries,
 * when every other entry follows from them exactly (t[i] = t[N/4 - r] negated or not, by quadrant), else undefined.
 * Each read port of a ROM is a decoder of the whole table, so a quarter of the table is about a quarter of the LUTs.
 */
export function quarterWave(t: ArrayLike<number>): number[] | undefined {
  const N = t.length;
  if (N < 8 || N & (N - 1)) return undefined;
  const Q = N / 4;
  const quarter = Array.from({ length: Q + 1 }, (_, i) => t[i]!);
  if (quarter.some((v) => v < 0)) return undefined;
  for (let i = 0; i < N; i++) if (quarterWaveAt(quarter, N, i) !== t[i]) return undefined;
  return quarter;
}

/** Entry i of the full table from its quarter-wave (the TS model of quarterWaveRead). */
export function quarterWaveAt(quarter: readonly number[], N: number, i: number): number {
  const Q = N / 4;
  const q = Math.floor(i / Q);
  const r = i % Q;
  const v = quarter[q % 2 ? Q - r : r]!;
  return q === 1 || q === 2 ? 0 - v : v;
}

/**
 * Read entry idx (log2 N bits) of the full cosine table from its quarter-wave ROM (N/4 + 1 entries): the quadrant
 * mirrors the index and negates the entry. Signed, `width` bits.
 */
export function quarterWaveRead(quarterRom: Memory, idx: Expr, width: number): Expr {
  const L = idx.width;
  const q1 = idx.bit(L - 1);
  const q0 = idx.bit(L - 2);
  const r = idx.slice(L - 3, 0).zext(L - 1);
  const j = mux(q0, lit(2 ** (L - 2), L - 1).sub(r), r);
  const v = quarterRom.read(j).resize(width).asSigned();
  return mux(q1.xor(q0), v.neg(), v);
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
