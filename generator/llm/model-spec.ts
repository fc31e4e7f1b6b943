import { ConfigError, requireInt } from '../util/errors';
import type { LlamaDims } from './checkpoint';

/**
 * The single source of truth for the LLM decode engine: model shape, quantisation scheme, Λ-attention window and
 * every fixed-point width and table size. The quantizer, the integer golden decoder, the tables and (later) the RTL
 * engine all derive from an EngineConfig. Formats are described in docs/formats.md ("LLM quantisation and golden decoder").
 */
export interface EngineParams {
  /** Bits of the linear-layer weight codes (q, k, v, o, w1, w2, w3). Levels are odd: 2q-(2^b-1). */
  wBits: 2 | 4 | 8;
  /**
   * Linear-layer weight sparsity: 'dense', or '2:4' (two of every four weights along a row are pruned to exactly 0;
   * formats: docs/formats.md "2:4 sparse W2"). The embedding and classifier stay dense.
   */
  wSparsity: 'dense' | '2:4';
  /**
   * Mixed precision: linear matrices stored with 4-bit codes in a W2 model, as `"<layer>.<mat>"` (e.g. `"0.wq"`),
   * sorted. The engine runs each as two 2-bit digit planes through the W2 GEMV (docs/llm-engine.md#mixed-precision).
   */
  w4Matrices: readonly string[];
  /** Weights per scale along the input dimension; rows are zero-padded to a multiple. */
  wGroup: number;
  /** Width of the unsigned per-group scale code. */
  scaleBits: number;
  /** Width of the per-matrix multiplier mantissa (real weight = scale * level * mul * 2^-exp). */
  mulBits: number;
  /** Bits of the embedding / classifier codes (one tied table when the checkpoint ties them). */
  clsBits: 2 | 4 | 8;
  /** Activation code width (per-token dynamic scale, symmetric, saturating). */
  aBits: number;
  /** Mantissa width of the dynamic per-token activation scale. */
  actMantBits: number;
  /** KV cache code width (symmetric). */
  kvBits: 4 | 8;
  /** Channels per KV scale within one head (per-token groups for both K and V). */
  kvGroup: number;
  /** Mantissa width of a KV group scale. */
  kvMantBits: number;
  /** Λ-attention: sink positions pinned in the cache. */
  sinks: number;
  /** Λ-attention: most recent positions kept (ring buffer); includes the current token. */
  window: number;
  /** Residual stream: signed width and fraction bits. */
  resBits: number;
  resFrac: number;
  /** Linear-layer (GEMV) outputs, q/k/v, attention output and FFN hidden values: signed width and fraction bits. */
  linBits: number;
  linFrac: number;
  /** RMSNorm: fraction bits of x*rsqrt (intermediate) and of the normalised output. */
  normMidFrac: number;
  normOutFrac: number;
  /** RMSNorm weight (times sqrt(dim)) mantissa width; the exponent is per vector. */
  normWBits: number;
  /** rsqrt LUT: index bits per octave pair (table has 3*2^bits entries) and output fraction bits. */
  rsqrtIndexBits: number;
  rsqrtFrac: number;
  /** Reciprocal LUT for mantissas m in [2^(recipBits-1), 2^recipBits]: entry = round(2^recipFrac / m). */
  recipBits: number;
  recipFrac: number;
  /** RoPE: 32-bit phase accumulator (turns), cos LUT with 2^ropeLutBits entries of ropeFrac fraction bits. */
  ropeLutBits: number;
  ropeFrac: number;
  /** Attention score fraction bits and the 1/sqrt(head_dim) constant's fraction bits. */
  scoreFrac: number;
  invSqrtFrac: number;
  /** Softmax: log2(e) constant fraction bits, 2^-f LUT index bits and output fraction bits. */
  log2eFrac: number;
  expLutBits: number;
  expFrac: number;
  /** Attention probabilities (fraction bits) and dequantised V (width, fraction bits). */
  probFrac: number;
  vBits: number;
  vFrac: number;
  /** SiLU: sigmoid LUT step 2^-sigStepFrac over [-2^sigRangeLog2, 2^sigRangeLog2), entries with sigFrac bits. */
  sigStepFrac: number;
  sigRangeLog2: number;
  sigFrac: number;
  /** Logits: fraction bits (signed, 32-bit saturating). */
  logitFrac: number;
}

export interface ModelShape {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  kvDim: number;
  vocabSize: number;
  seqLen: number;
  /** RoPE frequency base and RMSNorm epsilon when a model file sets values other than llama2.c's 10000 / 1e-5. */
  ropeTheta?: number;
  rmsEps?: number;
}

export interface EngineConfig extends EngineParams {
  readonly model: Readonly<ModelShape>;
  /** Cache entries per layer and kv head: sinks + window. */
  readonly cacheSlots: number;
  /** Right shift applied to residual values before squaring in RMSNorm, so the sum fits ssBits. */
  readonly sqShift: number;
  /** Width of the unsigned RMSNorm sum-of-squares accumulator. */
  readonly ssBits: number;
  /** eps * dim in sum-of-squares units (eps = model.rmsEps, default 1e-5). */
  readonly epsSs: number;
  readonly kvGroupsPerHead: number;
  readonly aMax: number;
  readonly kvMax: number;
  readonly logitBits: number;
}

export const RMS_EPS = 1e-5;
const SS_BITS = 48; // one DSP48 accumulator

export const ENGINE_DEFAULTS: EngineParams = {
  wBits: 2,
  wSparsity: 'dense',
  w4Matrices: [],
  wGroup: 32,
  scaleBits: 8,
  mulBits: 8,
  clsBits: 8,
  aBits: 8,
  actMantBits: 8,
  kvBits: 4,
  kvGroup: 8,
  kvMantBits: 8,
  sinks: 4,
  window: 124,
  resBits: 24,
  resFrac: 12,
  linBits: 24,
  linFrac: 12,
  normMidFrac: 20,
  normOutFrac: 12,
  normWBits: 16,
  rsqrtIndexBits: 8,
  rsqrtFrac: 16,
  recipBits: 10,
  recipFrac: 25,
  ropeLutBits: 12,
  ropeFrac: 14,
  scoreFrac: 12,
  invSqrtFrac: 16,
  log2eFrac: 16,
  expLutBits: 8,
  expFrac: 16,
  probFrac: 16,
  vBits: 24,
  vFrac: 16,
  sigStepFrac: 6,
  sigRangeLog2: 4,
  sigFrac: 16,
  logitFrac: 12,
};

/** Named quantisation schemes for ablation; fixed-point settings stay at the defaults. */
export const SCHEMES = {
  W2A8KV4: { wBits: 2, kvBits: 4 },
  W4A8KV4: { wBits: 4, kvBits: 4 },
  W8A8KV8: { wBits: 8, kvBits: 8 },
} as const satisfies Record<string, Partial<EngineParams>>;
export type SchemeName = keyof typeof SCHEMES;

export function shapeOf(d: LlamaDims): ModelShape {
  const { dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, kvDim, vocabSize, seqLen, ropeTheta, rmsEps } = d;
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, kvDim, vocabSize, seqLen, ...(ropeTheta !== undefined && { ropeTheta }), ...(rmsEps !== undefined && { rmsEps }) };
}

const MAX_EXACT = 2 ** 53;

export function engineConfig(model: ModelShape, params: Partial<EngineParams> = {}): EngineConfig {
  const p: EngineParams = { ...ENGINE_DEFAULTS, ...params };
  for (const k of ['wBits', 'clsBits'] as const)
    if (![2, 4, 8].includes(p[k])) throw new ConfigError(k, 'must be 2, 4 or 8', p[k]);
  if (![4, 8].includes(p.kvBits)) throw new ConfigError('kvBits', 'must be 4 or 8', p.kvBits);
  requireInt('wGroup', p.wGroup, 1, 1 << 16);
  checkW4Matrices(p, model);
  if (p.wSparsity !== 'dense' && p.wSparsity !== '2:4') throw new ConfigError('wSparsity', "must be 'dense' or '2:4'", p.wSparsity);
  if (p.wSparsity === '2:4' && p.wGroup % 4) throw new ConfigError('wGroup', 'must be a multiple of 4 with 2:4 sparsity (whole quads per scale group)', p.wGroup);
  requireInt('scaleBits', p.scaleBits, 1, 16);
  requireInt('mulBits', p.mulBits, 1, 16);
  requireInt('aBits', p.aBits, 2, 8);
  requireInt('actMantBits', p.actMantBits, 2, p.recipBits);
  requireInt('kvMantBits', p.kvMantBits, 2, p.recipBits);
  requireInt('sinks', p.sinks, 0, 1 << 16);
  requireInt('window', p.window, 0, 1 << 16);
  if (p.sinks + p.window === 0)
    throw new ConfigError('sinks+window', 'the KV cache must hold at least one entry (sinks + window >= 1)', p.sinks + p.window);
  if (p.window < 1)
    throw new ConfigError('window', 'must be >= 1: the current token is written into the window before it attends', p.window);
  requireInt('kvGroup', p.kvGroup, 1, model.headDim);
  if (model.headDim % p.kvGroup !== 0)
    throw new ConfigError('kvGroup', `must divide head_dim=${model.headDim}`, p.kvGroup);
  requireInt('resBits', p.resBits, 8, 32);
  requireInt('resFrac', p.resFrac, 0, p.resBits - 2);
  requireInt('linBits', p.linBits, 8, 32);
  requireInt('linFrac', p.linFrac, 0, p.linBits - 2);
  requireInt('normMidFrac', p.normMidFrac, 0, 24);
  requireInt('normOutFrac', p.normOutFrac, 0, 24);
  requireInt('normWBits', p.normWBits, 4, 18);
  requireInt('rsqrtIndexBits', p.rsqrtIndexBits, 1, 14);
  requireInt('rsqrtFrac', p.rsqrtFrac, 4, 20);
  requireInt('recipBits', p.recipBits, 2, 14);
  requireInt('recipFrac', p.recipFrac, p.recipBits + 4, 30);
  requireInt('ropeLutBits', p.ropeLutBits, 4, 16);
  requireInt('ropeFrac', p.ropeFrac, 4, 16);
  requireInt('scoreFrac', p.scoreFrac, 0, 20);
  requireInt('invSqrtFrac', p.invSqrtFrac, 4, 20);
  requireInt('log2eFrac', p.log2eFrac, 4, 20);
  requireInt('expLutBits', p.expLutBits, 1, 14);
  requireInt('expFrac', p.expFrac, 4, 20);
  requireInt('probFrac', p.probFrac, 4, 20);
  requireInt('vBits', p.vBits, 8, 32);
  requireInt('vFrac', p.vFrac, 0, p.vBits - 2);
  requireInt('sigStepFrac', p.sigStepFrac, 0, 12);
  requireInt('sigRangeLog2', p.sigRangeLog2, 1, 6);
  requireInt('sigFrac', p.sigFrac, 4, 20);
  requireInt('logitFrac', p.logitFrac, 0, 24);
  for (const [k, v] of Object.entries(model)) requireInt(`model.${k}`, v as number, 1);

  const cacheSlots = p.sinks + p.window;
  const sqShift = Math.max(0, Math.ceil((2 * (p.resBits - 1) + Math.ceil(Math.log2(model.dim)) - SS_BITS) / 2));
  const epsSs = Math.max(1, Math.round((model.rmsEps ?? RMS_EPS) * model.dim * 2 ** (2 * (p.resFrac - sqShift))));
  const aMax = 2 ** (p.aBits - 1) - 1;
  const kvMax = 2 ** (p.kvBits - 1) - 1;
  const cfg: EngineConfig = {
    ...p,
    model: Object.freeze({ ...model }),
    cacheSlots,
    sqShift,
    ssBits: SS_BITS,
    epsSs,
    kvGroupsPerHead: model.headDim / p.kvGroup,
    aMax,
    kvMax,
    logitBits: 32,
  };
  checkExactness(cfg);
  return Object.freeze(cfg);
}

/** The linear matrices of a layer, in checkpoint order. */
export const LINEAR_MATS = ['wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3'] as const;
export type LinearMat = (typeof LINEAR_MATS)[number];

/** [rows, cols] of a linear matrix. */
export function linearDims(m: ModelShape, mat: LinearMat): [number, number] {
  if (mat === 'wk' || mat === 'wv') return [m.kvDim, m.dim];
  if (mat === 'w1' || mat === 'w3') return [m.hiddenDim, m.dim];
  if (mat === 'w2') return [m.dim, m.hiddenDim];
  return [m.dim, m.dim];
}

/** Code width of one linear matrix: 4 when it is listed in w4Matrices, otherwise wBits. */
export function matrixBits(c: Pick<EngineParams, 'wBits' | 'w4Matrices'>, layer: number, mat: LinearMat): number {
  return c.w4Matrices.includes(`${layer}.${mat}`) ? 4 : c.wBits;
}

/**
 * Expand a mixed-precision spec into the sorted w4Matrices list: comma-separated `<layer>.<mat>` where either side may
 * be `*` (`0.*` = every matrix of layer 0, `*.wq` = wq of every layer); empty = none.
 */
export function expandW4Spec(spec: string, nLayers: number): string[] {
  const out = new Set<string>();
  for (const raw of spec.split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = /^(\*|\d+)\.(\*|wq|wk|wv|wo|w1|w2|w3)$/.exec(raw);
    if (!m) throw new ConfigError('w4Matrices', `'${raw}' is not <layer>.<matrix> (layer a number or *, matrix one of ${LINEAR_MATS.join(' ')} or *)`, spec);
    const layers = m[1] === '*' ? Array.from({ length: nLayers }, (_, l) => l) : [Number(m[1])];
    for (const l of layers) {
      if (l >= nLayers) throw new ConfigError('w4Matrices', `layer ${l} does not exist (the model has ${nLayers})`, spec);
      for (const mat of m[2] === '*' ? LINEAR_MATS : [m[2] as LinearMat]) out.add(`${l}.${mat}`);
    }
  }
  return sortW4([...out]);
}

const sortW4 = (a: readonly string[]) =>
  [...a].sort((x, y) => {
    const [lx, mx] = x.split('.');
    const [ly, my] = y.split('.');
    return Number(lx) - Number(ly) || LINEAR_MATS.indexOf(mx as LinearMat) - LINEAR_MATS.indexOf(my as LinearMat);
  });

function checkW4Matrices(p: EngineParams, model: ModelShape): void {
  const list = p.w4Matrices;
  if (!Array.isArray(list)) throw new ConfigError('w4Matrices', 'must be a list of "<layer>.<mat>" names', list);
  if (!list.length) return;
  if (p.wBits !== 2) throw new ConfigError('w4Matrices', `4-bit matrices are a W2 model's exceptions; wBits is ${p.wBits}`, list.join(','));
  if (p.wSparsity !== 'dense') throw new ConfigError('w4Matrices', 'mixed precision is implemented for dense weights only (not with 2:4)', list.join(','));
  for (const n of list) {
    const [l, mat] = n.split('.');
    if (!/^\d+$/.test(l ?? '') || Number(l) >= model.nLayers || !LINEAR_MATS.includes(mat as LinearMat))
      throw new ConfigError('w4Matrices', `'${n}' is not <layer>.<matrix> of this model (layers 0-${model.nLayers - 1}, matrices ${LINEAR_MATS.join(' ')})`, list.join(','));
  }
  const sorted = sortW4([...new Set(list)]);
  if (sorted.join(',') !== list.join(',')) throw new ConfigError('w4Matrices', 'must be sorted and without repeats (use expandW4Spec)', list.join(','));
}

/** Worst-case magnitudes of the widest products/sums; they must stay exact (< 2^53) and hence well defined. */
function checkExactness(c: EngineConfig): void {
  const m = c.model;
  const need = (what: string, param: string, bound: number) => {
    if (bound >= MAX_EXACT) throw new ConfigError(param, `${what} can reach 2^${Math.log2(bound).toFixed(1)}, beyond the exact 2^53 range`, c[param as keyof EngineParams]);
  };
  const maxLevel = (b: number) => 2 ** b - 1;
  // The linear layers read up to max(dim, hidden) columns; the classifier reads dim columns.
  const padOf = (cols: number) => Math.ceil(cols / c.wGroup) * c.wGroup;
  const linBitsMax = Math.max(c.wBits, c.w4Matrices.length ? 4 : 0);
  for (const [bits, param, cols] of [[linBitsMax, 'wBits', Math.max(m.dim, m.hiddenDim)], [c.clsBits, 'clsBits', m.dim]] as const) {
    const acc = maxLevel(bits) * (c.aMax + 1) * (2 ** c.scaleBits - 1) * padOf(cols);
    need('GEMV accumulator times the combined (mul * activation mantissa) multiplier', param, acc * 2 ** (c.mulBits + c.actMantBits + 1));
  }
  need('RMSNorm x * rsqrt product', 'resBits', 2 ** (c.resBits - 1) * 2 ** (c.rsqrtFrac + 1));
  // |x_i| <= sqrt(sum x^2), so x*rsqrt is at most 1 (plus table rounding) before the weight multiply.
  need('RMSNorm (x*rsqrt) * weight product', 'normMidFrac', 2 ** (c.normMidFrac + 1) * 2 ** c.normWBits);
  need('SiLU x * sigmoid product', 'sigFrac', 2 ** (c.linBits - 1 + c.sigFrac + 1));
  need('SiLU * gate product', 'linBits', 2 ** (2 * (c.linBits - 1)));
  need('RoPE product sum', 'linBits', 2 ** (c.linBits + c.ropeFrac + 1));
  need('attention score term', 'invSqrtFrac', c.aMax * c.kvMax * c.kvGroup * 2 ** (c.kvMantBits + c.actMantBits + 2 + c.invSqrtFrac));
  need('attention value sum', 'vBits', 2 ** (c.vBits - 1 + c.probFrac + 1));
}

/** Human one-line summary (CLI and bench headers). */
export function describeEngine(c: EngineConfig): string {
  return `W${c.wBits}A${c.aBits}KV${c.kvBits}${c.wSparsity === '2:4' ? ' 2:4' : ''}${c.w4Matrices.length ? ` +W4[${c.w4Matrices.join(',')}]` : ''} group=${c.wGroup} S=${c.sinks} W=${c.window} cls=${c.clsBits}b`;
}
