/**
 * Two products that share an activation in one DSP48E2 multiplier (the INT8 trick of AMD WP486), written once
 * as a TS model (`packedOperand`, `unpackLo`, `unpackHi`, `packedDot`) and once as IR (`dotProducts`), so Yosys
 * `synth_xilinx` maps one DSP48E2 per pair of weights.
 *
 * A DSP48E2 multiplies a 27-bit (pre-adder) operand by an 18-bit one. With the activation x (unsigned, zero
 * extended to a signed xBits operand) on B and the two weights packed on A,
 *     P = x * (wHi * 2^S + wLo) = x*wHi * 2^S + x*wLo,
 * the low S bits of P hold x*wLo and the bits above hold x*wHi, if S is at least the product width.
 *
 *  wp486   the operand is the pre-adder sum wHi * 2^S + wLo (WP486). The low field read as a signed S-bit value is
 *          x*wLo exactly; the high field floor(P / 2^S) is x*wHi - s, where s = P[S-1] is the sign of x*wLo
 *          (the lower product's sign borrows from the upper field). A dot product of n pairs therefore sums the
 *          high fields and adds the popcount of the n borrowed sign bits once (the WP486 correction).
 *  offset  the low weight enters in offset binary, wLo + 2^(wBits-1) >= 0 (its sign bit inverted): the operand is
 *          the concatenation {wHi, 0.., ~wLo[top], wLo[rest]}, no adder. The low field x*(wLo + 2^(wBits-1)) is
 *          non-negative, so nothing borrows from the high field (floor(P / 2^S) = x*wHi exactly), and a dot
 *          product subtracts 2^(wBits-1) * sum(x) from the low sum once; sum(x) is shared by every pair that reads
 *          the same activations (all output channels of a conv lane).
 * Both are exact for every input; tests/generator/lib/dsp-pack.test.ts checks them over the full int8 range.
 */
import { HdlError, cat, lit, type Expr, type Module } from '../hdl';
import { delay, pipelinedSum, register } from './addtree';

export type DspPacking = 'none' | 'wp486' | 'offset';
export const DSP_PACKINGS: readonly DspPacking[] = ['none', 'wp486', 'offset'];

/** DSP48E2 multiplier ports: A (through the 27-bit pre-adder) x B (18 bits), both signed. */
export const DSP48E2_A_BITS = 27;
export const DSP48E2_B_BITS = 18;
/** WP486's field offset for int8 products. */
export const WP486_SHIFT = 18;

export interface PackSpec {
  packing: Exclude<DspPacking, 'none'>;
  /** Unsigned activation bits (the operand is zero extended to actBits + 1 signed bits). */
  actBits: number;
  weightBits: number;
  /** Bit offset of the high product in P. */
  shift: number;
  /** Signed width of the packed weight operand (shift + weightBits, + 1 for the wp486 pre-adder sum). */
  operandBits: number;
  /** Signed width of one product (actBits + 1 + weightBits). */
  prodBits: number;
}

/** The packing of two actBits x weightBits products into one DSP48E2, or undefined when they do not fit one. */
export function packSpec(packing: DspPacking, actBits: number, weightBits: number): PackSpec | undefined {
  if (packing === 'none') return undefined;
  const prodBits = actBits + 1 + weightBits;
  const shift = Math.max(WP486_SHIFT, prodBits);
  // wp486: wHi * 2^S + wLo reaches -2^(S+w-1) - 2^(w-1), one bit more than the field layout (27 for int8)
  const operandBits = shift + weightBits + (packing === 'wp486' ? 1 : 0);
  if (actBits + 1 > DSP48E2_B_BITS || operandBits > DSP48E2_A_BITS) return undefined;
  return { packing, actBits, weightBits, shift, operandBits, prodBits };
}

// ---- TS model (exact integers; P < 2^53 for every spec packSpec accepts) -------------------------------

/** The packed weight operand (a signed integer of operandBits bits). */
export function packedOperand(s: PackSpec, wLo: number, wHi: number): number {
  const half = 2 ** (s.weightBits - 1);
  return s.packing === 'wp486' ? wHi * 2 ** s.shift + wLo : wHi * 2 ** s.shift + (wLo + half);
}

/** What the DSP computes: x times the packed operand. */
export function packedProduct(s: PackSpec, x: number, wLo: number, wHi: number): number {
  return x * packedOperand(s, wLo, wHi);
}

const mod = (v: number, m: number) => ((v % m) + m) % m;

/** Low field of P: signed (wp486) or unsigned (offset) S-bit value. */
export function unpackLo(s: PackSpec, p: number): number {
  const m = 2 ** s.shift;
  const u = mod(p, m);
  return s.packing === 'wp486' && u >= m / 2 ? u - m : u;
}

/** High field of P: floor(P / 2^S) (wp486: x*wHi minus the borrowed sign; offset: x*wHi). */
export function unpackHi(s: PackSpec, p: number): number {
  return Math.floor(p / 2 ** s.shift);
}

/** The borrowed sign bit P[S-1] (wp486). */
export function borrowBit(s: PackSpec, p: number): number {
  return mod(p, 2 ** s.shift) >= 2 ** (s.shift - 1) ? 1 : 0;
}

/** Both dot products sum(x*wLo), sum(x*wHi) recovered from the packed products, with the packing's correction. */
export function packedDot(s: PackSpec, xs: readonly number[], wLo: readonly number[], wHi: readonly number[]): [number, number] {
  let lo = 0;
  let hi = 0;
  let corr = 0;
  xs.forEach((x, j) => {
    const p = packedProduct(s, x, wLo[j]!, wHi[j]!);
    lo += unpackLo(s, p);
    hi += unpackHi(s, p);
    corr += s.packing === 'wp486' ? borrowBit(s, p) : x;
  });
  return s.packing === 'wp486' ? [lo, hi + corr] : [lo - 2 ** (s.weightBits - 1) * corr, hi];
}

// ---- IR ------------------------------------------------------------------------------------------------

export interface DotSpec {
  /** Name prefix of every signal built. */
  prefix: string;
  /** Activations: unsigned, all of one width (they are zero extended to a signed operand). */
  xs: readonly Expr[];
  /** Weights [output][j]: signed, all of one width; output o computes sum_j xs[j] * ws[o][j]. */
  ws: readonly (readonly Expr[])[];
  /** Extra terms per output (bias, rounding constant), signed, <= accBits wide, stable while computing. */
  extras?: readonly (readonly Expr[])[];
  /** Result width (the exact sum must fit; intermediate adders wrap modulo 2^accBits). */
  accBits: number;
  /** Adder levels between tree registers. */
  levelsPerStage: number;
  packing: DspPacking;
}

export interface Dots {
  /** One registered signed accBits sum per output. */
  sums: Expr[];
  /** Cycles from xs/ws to sums (same for every output). */
  latency: number;
  /** Multipliers built (one DSP48E2 each): pairs of outputs share one per activation. */
  multipliers: number;
}

/** Cycles dotProducts takes for `terms` leaves per output (products + extras); see dotProducts. */
export function dotLatency(treeLatency: number): number {
  return 1 + treeLatency + 1;
}

/**
 * Dot products of shared activations with several weight rows. Outputs are paired (0,1), (2,3), ... and each pair
 * uses one multiplier per activation when `packing` and the widths allow (packSpec); a last odd output and
 * unpackable widths use plain products. Pipeline: products registered (the DSP's M/P register), adder trees with a
 * register every `levelsPerStage` levels, then one registered stage that adds the packing correction and the
 * extras' alignment, so every output has the same latency.
 */
export function dotProducts(m: Module, d: DotSpec): Dots {
  const { xs, ws, accBits: A, levelsPerStage: lps, prefix } = d;
  if (!xs.length || !ws.length) throw new HdlError(`${m.name}.${prefix}: empty dot product`);
  const xBits = xs[0]!.width;
  const wBits = ws[0]![0]!.width;
  for (const x of xs) if (x.width !== xBits || x.signed) throw new HdlError(`${m.name}.${prefix}: activations must be unsigned ${xBits} bits`);
  for (const row of ws) {
    if (row.length !== xs.length) throw new HdlError(`${m.name}.${prefix}: weight row of ${row.length} for ${xs.length} activations`);
    for (const w of row) if (w.width !== wBits || !w.signed) throw new HdlError(`${m.name}.${prefix}: weights must be signed ${wBits} bits`);
  }
  const spec = packSpec(d.packing, xBits, wBits);
  const xOp = xs.map((x) => x.zext(xBits + 1).asSigned());
  const extras = ws.map((_, o) => (d.extras?.[o] ?? []).map((e, i) => (e.kind === 'const' ? e : register(m, `${prefix}_x${o}_${i}`, e))));
  const terms: Expr[][] = ws.map((_, o) => [...extras[o]!]);
  /** Corrections per output, with the cycle (relative to xs) their value belongs to. */
  const late: Array<{ e: Expr; at: number; sub: boolean } | undefined> = ws.map(() => undefined);
  // offset packing: 2^(wBits-1) * sum(x), built once for every pair
  const sx = spec?.packing === 'offset' && ws.length > 1 ? pipelinedSum(m, `${prefix}_sx`, xOp, lps, A) : undefined;
  let multipliers = 0;
  for (let o = 0; o < ws.length; o += 2) {
    if (!spec || o + 1 >= ws.length) {
      for (let q = o; q < Math.min(o + 2, ws.length); q++)
        xs.forEach((_, j) => terms[q]!.push(register(m, `${prefix}_p${q}_${j}`, xOp[j]!.mul(ws[q]![j]!))));
      multipliers += xs.length * (Math.min(o + 2, ws.length) - o);
      continue;
    }
    const s = spec;
    const borrow: Expr[] = [];
    xs.forEach((_, j) => {
      const wLo = ws[o]![j]!;
      const wHi = ws[o + 1]![j]!;
      const operand =
        s.packing === 'wp486'
          ? wHi.sext(s.operandBits).shl(s.shift).add(wLo.sext(s.operandBits))
          : cat(wHi, lit(0, s.shift - wBits), wLo.bit(wBits - 1).not(), wLo.slice(wBits - 2, 0)).asSigned();
      const p = register(m, `${prefix}_pp${o}_${j}`, xOp[j]!.mul(operand));
      if (s.packing === 'wp486') {
        terms[o]!.push(p.slice(s.prodBits - 1, 0).asSigned());
        borrow.push(p.bit(s.shift - 1).zext(2).asSigned());
      } else terms[o]!.push(p.slice(s.shift - 1, 0).zext(s.shift + 1).asSigned());
      terms[o + 1]!.push(p.slice(p.width - 1, s.shift).asSigned());
    });
    multipliers += xs.length;
    if (s.packing === 'wp486') {
      const pc = pipelinedSum(m, `${prefix}_bc${o + 1}`, borrow, lps, A);
      late[o + 1] = { e: pc.sum, at: 1 + pc.latency, sub: false };
    } else late[o] = { e: sx!.sum.shl(wBits - 1), at: sx!.latency, sub: true };
  }
  // trees: all outputs have the same leaf count, hence the same latency
  const built = terms.map((t, o) => pipelinedSum(m, `${prefix}_t${o}`, t, lps, A));
  const at = 1 + built[0]!.latency;
  const sums = built.map((t, o) => {
    const c = late[o];
    let e: Expr = t.sum;
    if (c) {
      if (c.at > at) throw new HdlError(`${m.name}.${prefix}: correction later than its tree`);
      const ce = delay(m, `${prefix}_c${o}`, c.e.resize(A), at - c.at);
      e = c.sub ? e.sub(ce) : e.add(ce);
    }
    return register(m, `${prefix}_s${o}`, e);
  });
  return { sums, latency: at + 1, multipliers };
}

/** Multipliers dotProducts builds for `outputs` rows over `n` activations. */
export function dotMultipliers(packing: DspPacking, actBits: number, weightBits: number, outputs: number, n: number): number {
  return (packSpec(packing, actBits, weightBits) ? Math.ceil(outputs / 2) : outputs) * n;
}

// ---- packed sums (combinational): many pair products summed in the packed form, split once ---------------

/** Whether a pair operand (a value of `hiBits` above a `shift`-bit low field, plus its borrow bit) fits the A port. */
export const pairFitsDsp = (shift: number, hiBits: number): boolean => shift + hiBits + 1 <= DSP48E2_A_BITS;

/**
 * The high field of a wired pair operand: hi - [lo < 0] (one bit wider than hi), the borrow lo's sign takes from the
 * field above, so hi * 2^S + lo is the concatenation {hiField, lo sign-extended to S bits} with no adder across it.
 */
export function pairHighField(hi: Expr, lo: Expr): Expr {
  const w = hi.width + 1;
  return hi.sext(w).sub(lo.bit(lo.width - 1).zext(w).asSigned());
}

/** The operand hi * 2^shift + lo as a wire concatenation of pairHighField(hi, lo) and lo (signed). */
export function pairOperand(hiField: Expr, lo: Expr, shift: number): Expr {
  if (lo.width > shift) throw new HdlError(`pair operand: a ${lo.width}-bit low value does not fit a ${shift}-bit field`);
  return cat(hiField, lo.sext(shift)).asSigned();
}

/**
 * A sum of pair products T = H * 2^shift + L, split into [L, H] (L read as a signed shift-bit value, exact when
 * |L| < 2^(shift-1); H = (T - L) / 2^shift, adding back the borrow of a negative L).
 */
export function splitPairSum(T: Expr, shift: number): [Expr, Expr] {
  const lo = T.slice(shift - 1, 0).asSigned();
  const hi = T.slice(T.width - 1, shift).asSigned().add(T.bit(shift - 1).zext(T.width - shift).asSigned());
  return [lo, hi];
}

/**
 * Products of one shared operand with many narrow signed values, two values per multiplier (one DSP48E2 for each
 * pair): shared * (v_b * 2^S + v_a) split into its two products, S = the product width. A last odd value, or
 * values too wide to pair in the DSP's 27-bit port, take a plain product. Each product is shared.width +
 * value width bits, signed, exactly as shared * value.
 */
export function pairedProducts(m: Module, name: string, shared: Expr, values: readonly Expr[]): Expr[] {
  const vBits = values[0]!.width;
  const S = shared.width + vBits;
  const pairable = pairFitsDsp(S, vBits);
  const out: Expr[] = [];
  for (let t = 0; t < values.length; t++) {
    const a = values[t]!;
    const b = values[t + 1];
    if (!pairable || !b) {
      out.push(m.let(`${name}${t}`, a.mul(shared)));
      continue;
    }
    const p = m.let(`${name}_pair${t}`, pairOperand(pairHighField(b, a), a, S).mul(shared));
    const [lo, hi] = splitPairSum(p, S);
    out.push(m.let(`${name}${t}`, lo.resize(S)), m.let(`${name}${t + 1}`, hi.resize(S)));
    t++;
  }
  return out;
}
