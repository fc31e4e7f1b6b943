import type { EngineConfig } from '../model-spec';
import { bitLength } from './fixed';

/**
 * Every lookup table and constant of the golden decoder, generated from the engine config (floats are used here,
 * at config time only). The decoder, the tests and the future RTL ROM initialisers all read these arrays.
 */
export interface EngineTables {
  /** rsqrt mantissa for u in [1,4): entry i = round(2^rsqrtFrac / sqrt(1 + (i+0.5)/2^rsqrtIndexBits)), 3*2^bits entries. */
  rsqrt: Uint32Array;
  /** Reciprocal for m = 2^(recipBits-1) + i, i in [0, 2^(recipBits-1)]: round(2^recipFrac / m). */
  recip: Uint32Array;
  /** cos(2*pi*i/N) * 2^ropeFrac, N = 2^ropeLutBits; sin reads index (i - N/4) mod N. */
  ropeCos: Int32Array;
  /** Per rotation pair j < head_dim/2: phase increment round(2^32 * theta^(-2j/head_dim) / 2pi) in turns (theta = 10000 unless the model sets it). */
  ropeFreq: Uint32Array;
  /** 2^(-i/2^expLutBits) * 2^expFrac for i in [0, 2^expLutBits] (last entry = half). */
  exp2: Uint32Array;
  /** sigmoid(u * 2^-sigStepFrac) * 2^sigFrac for u in [-2^(r+s), 2^(r+s)), stored at u + 2^(r+s). */
  sigmoid: Uint32Array;
  /** round(2^invSqrtFrac / sqrt(head_dim)). */
  invSqrtHead: number;
  /** round(log2(e) * 2^log2eFrac). */
  log2e: number;
}

export function buildTables(c: EngineConfig): EngineTables {
  const L = c.rsqrtIndexBits;
  const rsqrt = new Uint32Array(3 << L);
  for (let i = 0; i < rsqrt.length; i++) rsqrt[i] = Math.round(2 ** c.rsqrtFrac / Math.sqrt(1 + (i + 0.5) / 2 ** L));
  const half = 2 ** (c.recipBits - 1);
  const recip = new Uint32Array(half + 1);
  for (let i = 0; i <= half; i++) recip[i] = Math.round(2 ** c.recipFrac / (half + i));
  const N = 2 ** c.ropeLutBits;
  const ropeCos = new Int32Array(N);
  for (let i = 0; i < N; i++) ropeCos[i] = Math.round(2 ** c.ropeFrac * Math.cos((2 * Math.PI * i) / N));
  const hd = c.model.headDim;
  const ropeFreq = new Uint32Array(hd / 2);
  const theta = c.model.ropeTheta ?? 10000;
  for (let j = 0; j < hd / 2; j++) ropeFreq[j] = Math.round((2 ** 32 * theta ** (-(2 * j) / hd)) / (2 * Math.PI)) >>> 0;
  const E = 2 ** c.expLutBits;
  const exp2 = new Uint32Array(E + 1);
  for (let i = 0; i <= E; i++) exp2[i] = Math.round(2 ** c.expFrac * 2 ** (-i / E));
  const S = 2 ** (c.sigRangeLog2 + c.sigStepFrac);
  const sigmoid = new Uint32Array(2 * S);
  for (let i = 0; i < 2 * S; i++) sigmoid[i] = Math.round(2 ** c.sigFrac / (1 + Math.exp(-(i - S) / 2 ** c.sigStepFrac)));
  return {
    rsqrt,
    recip,
    ropeCos,
    ropeFreq,
    exp2,
    sigmoid,
    invSqrtHead: Math.round(2 ** c.invSqrtFrac / Math.sqrt(hd)),
    log2e: Math.round(Math.LOG2E * 2 ** c.log2eFrac),
  };
}

/**
 * rsqrt of an unsigned integer v >= 1: returns mant and e2 (even) with
 * 1/sqrt(v) ~= mant * 2^-rsqrtFrac * 2^(-e2/2). e2 = bitLength(v)-1 rounded down to even, so u = v/2^e2 is in [1,4);
 * index = floor(u * 2^L) - 2^L (truncation; the table holds interval midpoints).
 */
export function rsqrtLookup(c: EngineConfig, t: EngineTables, v: number): { mant: number; e2: number } {
  const e2 = (bitLength(v) - 1) & ~1;
  const L = c.rsqrtIndexBits;
  const scaled = e2 >= L ? Math.floor(v / 2 ** (e2 - L)) : v * 2 ** (L - e2);
  return { mant: t.rsqrt[scaled - 2 ** L]!, e2 };
}

/** Reciprocal of a mantissa m with at most recipBits bits and its top bit at recipBits-1 or m = 2^recipBits. */
export function recipLookup(c: EngineConfig, t: EngineTables, m: number): number {
  return t.recip[m - 2 ** (c.recipBits - 1)]!;
}

/** cos and sin (ropeFrac fraction bits) at a 32-bit phase in turns; index = round(phase / 2^(32-L)) mod 2^L. */
export function ropeCosSin(c: EngineConfig, t: EngineTables, phase: number): [number, number] {
  const L = c.ropeLutBits;
  const N = 2 ** L;
  const idx = Math.floor((phase + 2 ** (31 - L)) / 2 ** (32 - L)) % N;
  return [t.ropeCos[idx]!, t.ropeCos[(idx - N / 4 + N) % N]!];
}

/** RoPE phase of pair j at position pos: (pos * freq[j]) mod 2^32, as a 32-bit phase accumulator would give. */
export function ropePhase(t: EngineTables, pos: number, j: number): number {
  return Math.imul(pos >>> 0, t.ropeFreq[j]!) >>> 0;
}

/**
 * exp(-d) for d >= 0 with scoreFrac fraction bits, result with expFrac fraction bits:
 * z = round(d * log2e / 2^log2eFrac) (scoreFrac bits); n = z >> scoreFrac; i = round(frac(z) * 2^expLutBits / 2^scoreFrac)
 * (i may equal 2^expLutBits, the table's last entry); result = round(exp2[i] / 2^n), 0 once n > expFrac.
 */
export function expNeg(c: EngineConfig, t: EngineTables, d: number): number {
  const dClamped = Math.min(d, (c.expFrac + 2) * 2 ** c.scoreFrac); // exp(-(expFrac+2)) < 2^-(expFrac+1): rounds to 0
  const z = Math.floor((dClamped * t.log2e + 2 ** (c.log2eFrac - 1)) / 2 ** c.log2eFrac);
  const n = Math.floor(z / 2 ** c.scoreFrac);
  if (n > c.expFrac) return 0;
  const fr = z - n * 2 ** c.scoreFrac;
  const sh = c.scoreFrac - c.expLutBits;
  const i = sh >= 0 ? Math.floor((fr + (sh > 0 ? 2 ** (sh - 1) : 0)) / 2 ** sh) : fr * 2 ** -sh;
  const e = t.exp2[i]!;
  return n === 0 ? e : Math.floor((e + 2 ** (n - 1)) / 2 ** n);
}

/** sigmoid(x) for x with linFrac fraction bits, result with sigFrac bits: index = clamp(round(x / 2^(linFrac-sigStepFrac)) + 2^(r+s)). */
export function sigmoidLookup(c: EngineConfig, t: EngineTables, x: number): number {
  const S = 2 ** (c.sigRangeLog2 + c.sigStepFrac);
  const sh = c.linFrac - c.sigStepFrac;
  const u = sh > 0 ? Math.floor((x + 2 ** (sh - 1)) / 2 ** sh) : x * 2 ** -sh;
  const i = Math.min(2 * S - 1, Math.max(0, u + S));
  return t.sigmoid[i]!;
}
