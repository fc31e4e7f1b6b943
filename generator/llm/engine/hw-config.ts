/**
 * The decode engine's one typed config: an EngineConfig (model shape + number formats, the golden decoder's
 * specification) plus the hardware parameters below. Everything the RTL, the packer, the driver and the bench need
 * (widths, depths, shift ranges, the GEMV unit config, the on-chip memory total) is derived here.
 */
import { ConfigError, bitsFor, clog2, requireInt } from '../../util/errors';
import { LINEAR_MATS, engineConfig, linearDims, matrixBits, type EngineConfig, type EngineParams, type ModelShape } from '../model-spec';
import { gemvConfig, sparseSimd, type GemvConfig, type SparseUse } from '../gemv/config';

export interface LlmHwParams {
  /** GEMV output rows in parallel. */
  lanes: number;
  /** GEMV weights per lane per cycle (the weight port is 2*lanes*simd bits). */
  simd: number;
  /** Elements per cycle of the vector (special-function) and attention datapaths; even, divides lanes, simd and kvGroup. */
  vpar: number;
  /** KV-cache slots the attention unit processes per cycle (a power of two; the cache is banked by slot). */
  slotPar: number;
  /**
   * Depth in weight words of the prefetch FIFOs between the w / s ports and the GEMV unit (0 = none; a power of two).
   * They let the memory keep streaming while the vector unit works, when the GEMV array is faster than the memory.
   */
  wFifo: number;
  /**
   * With 2:4 weights (engine wSparsity '2:4'): 'area' keeps `simd` columns per cycle with half the products,
   * 'throughput' moves 2*simd columns per cycle with the dense array's products (gemv/config.ts SparseUse).
   */
  sparseUse: SparseUse;
  /**
   * Prompt tokens the engine takes in one prefill block (1 = decode only). Each weight word is applied to every
   * token of the block (per-token accumulators in the GEMV unit), so the on-chip vector buffers hold one set per token.
   */
  prefillBlock: number;
  /**
   * The DSP half of the prefill array (gemv/dsp-half.ts): a DSP48E2 per kept weight of the GEMV word (lanes x simd
   * dense, lanes x simd/2 with 2:4) takes two more tokens of each held word per cycle beside the LUT lanes' one, so a
   * block's GEMV passes take ceil(n / 3) cycles per word instead of n. Needs prefillBlock >= 2; decode is unchanged.
   */
  prefillDsp: boolean;
  /**
   * Prefill groups in flight (1 or 2). With 2 a block carries up to 2 x prefillBlock tokens as two groups, and the
   * controller runs two issue queues (control-groups.ts): the GEMV queue serves one group's weight pass while the
   * vector queue runs the other group's norm / attention / SiLU work, so the array stops waiting for the vector unit.
   * Each group's weights are streamed once per pass (twice per block). Decode is a one-group block.
   */
  prefillGroups: number;
  /** On-chip memory budget in bits (vectors, KV cache, staging, tables); the config refuses models that need more. */
  onChipBudgetBits: number;
  /** Supported range of the per-matrix weight exponent (real weight = scale*level*mul*2^-exp); the packer checks models. */
  wExpMin: number;
  wExpMax: number;
  /** Supported range of the RMSNorm weight exponent. */
  normExpMin: number;
  normExpMax: number;
}

/** Simulation-only model of the external weight memory (the driver applies it; not part of the hardware). */
export interface MemoryModel {
  /** Cycles from a token's start until the first weight word arrives. */
  latency: number;
  /** Probability that the memory withholds a word in a given cycle (0 = full port rate). */
  stall: number;
  /** Bandwidth of the memory in bytes per cycle for the w and s streams together (undefined = the port's width). */
  bytesPerCycle?: number;
}

export interface LlmPreset {
  description: string;
  hw: LlmHwParams;
  engine: Partial<EngineParams>;
  memory: MemoryModel;
}

const HW_DEFAULTS: Omit<LlmHwParams, 'lanes' | 'simd' | 'vpar' | 'onChipBudgetBits'> = {
  slotPar: 1,
  wFifo: 0,
  sparseUse: 'area',
  prefillBlock: 1,
  prefillDsp: false,
  prefillGroups: 1,
  wExpMin: -8,
  wExpMax: 40,
  normExpMin: -8,
  normExpMax: 24,
};

/** U280: BRAM 2,016 x 36 Kbit + URAM 960 x 288 Kbit. UP5K: SPRAM 4 x 256 Kbit + EBR 30 x 4 Kbit. */
export const U280_BLOCKS = { uram: 960, bram: 2016 } as const;
export const U280_ONCHIP_BITS = U280_BLOCKS.bram * 36864 + U280_BLOCKS.uram * 294912;
export const UP5K_ONCHIP_BITS = 4 * 262144 + 30 * 4096;

export const LLM_PRESETS: Record<'u280' | 'tiny' | 'sim-small', LlmPreset> = {
  u280: {
    description: 'Alveo U280: 8,192 W2 MACs per cycle (16,384-bit weight port), HBM modelled at 460 GB/s = 2,044 B/cycle at 225 MHz',
    hw: { ...HW_DEFAULTS, lanes: 128, simd: 64, vpar: 64, slotPar: 8, wFifo: 2048, onChipBudgetBits: U280_ONCHIP_BITS },
    engine: { wGroup: 64, kvGroup: 128, sinks: 4, window: 124 },
    memory: { latency: 64, stall: 0, bytesPerCycle: 460e9 / 225e6 },
  },
  tiny: {
    description: 'iCE40UP5K class: 32-bit weight port fed from SPRAM, 2-wide vector unit',
    hw: { ...HW_DEFAULTS, lanes: 2, simd: 8, vpar: 2, onChipBudgetBits: UP5K_ONCHIP_BITS },
    engine: { wGroup: 32, sinks: 4, window: 28 },
    memory: { latency: 2, stall: 0 },
  },
  'sim-small': {
    description: 'fast Verilator tests: 64-bit weight port, small window so the ring wraps early',
    hw: { ...HW_DEFAULTS, lanes: 4, simd: 8, vpar: 4, onChipBudgetBits: 2 ** 40 },
    engine: { wGroup: 32, sinks: 2, window: 10 },
    memory: { latency: 8, stall: 0 },
  },
};
export type LlmPresetName = keyof typeof LLM_PRESETS;

export function presetNamed(name: string): LlmPreset {
  const p = (LLM_PRESETS as Record<string, LlmPreset>)[name];
  if (!p) throw new ConfigError('preset', `must be one of ${Object.keys(LLM_PRESETS).join(', ')}`, name);
  return p;
}

/** The shape of stories260K (the default model of the `llm` design and of the presets' synthesis reports). */
export const STORIES260K_SHAPE: ModelShape = { dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, headDim: 8, kvDim: 32, vocabSize: 512, seqLen: 512 };

/** Matrices in schedule order of their GEMV instructions; index = the 'mat' field of an instruction. */
export const MATS = ['wq', 'wk', 'wv', 'wo', 'w1', 'w3', 'w2', 'cls'] as const;
export type MatName = (typeof MATS)[number];

/** [rows, cols] of the matrix a GEMV op reads: a linear matrix, or the classifier (vocab x dim). */
export const matDims = (m: ModelShape, mat: MatName): [number, number] => (mat === 'cls' ? [m.vocabSize, m.dim] : linearDims(m, mat));

/**
 * Words of the two-group engine's x code buffer (control-groups.ts): every block token's column steps, plus the
 * DSP half's K - 1 tokens of slack past the end for a partial step.
 */
export const codeBufferWords = (gemv: GemvConfig, blockTokens: number): number => (blockTokens + gemv.tokensPerStep - 1) * gemv.maxColSteps;

export interface Range {
  lo: number;
  hi: number;
}

export interface QuantSite {
  /** Width of the signed source values (the |max| is this wide unsigned). */
  srcBits: number;
  bits: number;
  mantBits: number;
  /** Right-shift amount range of the code computation. */
  s: Range;
  /** Stored exponent range. */
  exp: Range;
  expBits: number;
}

export interface LlmEngineConfig {
  readonly engine: EngineConfig;
  readonly hw: Readonly<LlmHwParams>;
  readonly gemv: GemvConfig;
  readonly P: number;
  /** Planes of 2-bit digits the classifier/embedding codes split into (clsBits / 2). */
  readonly clsPlanes: number;
  /**
   * Classifier GEMV passes: one per plane (dense), two per plane on a 2:4 unit, which runs the dense classifier as
   * the sum of two fixed-pattern halves (positions 0,1 and 2,3 of every quad).
   */
  readonly clsPasses: number;
  /**
   * Most 2-bit digit planes of any linear matrix: 1 (W2), 2 when a matrix is 4-bit (w4Matrices, or wBits 4). A 4-bit
   * matrix runs as two GEMV passes accumulated in the LOG memory like the classifier's planes (docs/llm-engine.md#mixed-precision).
   */
  readonly linPlanes: number;
  /** Element widths. */
  readonly nBits: number;
  readonly linBits: number;
  readonly resBits: number;
  readonly logAccBits: number;
  /** Vector lengths rounded up so every reader/writer stays inside the memories. */
  readonly depth: Record<'x' | 'n' | 'q' | 'kv' | 'att' | 'y' | 'h' | 'log', number>;
  readonly kvWordBits: number;
  /** Rows of slotPar slots (the attention loop count). */
  readonly slotRows: number;
  /** Cycles of the softmax's exp pass per head: it sums two rows of slots per cycle (one when there is one row). */
  readonly expPassCycles: number;
  /** Depth of the scale prefetch FIFO (0 when hw.wFifo = 0). */
  readonly sFifo: number;
  /** Words per KV bank (slotPar banks each for K and V). */
  readonly kvCacheWords: number;
  readonly qSites: Record<'act' | 'kv' | 'q', QuantSite>;
  readonly actExp: Range;
  readonly requantShift: Range;
  readonly scoreShift: Range;
  readonly vShift: Range;
  readonly sumBits: number;
  readonly recipSh: Range;
  readonly probShift: Range;
  readonly embShift: Range;
  readonly normS1: Range;
  readonly normS2: Range;
  readonly onChipBits: number;
  /** Bits of one token's vector buffers (x, n, q, k, v, att, y, h1, h3); prefill holds one set per token in flight. */
  readonly vectorBits: number;
  /** Weight port bits (codes) and scale port bits, per cycle. */
  readonly wPortBits: number;
  readonly sPortBits: number;
  readonly auxLaneBits: number;
  readonly auxBits: number;
  readonly tokBits: number;
  /** Bits of the tok beat's block field (tokens - 1, above the restart bit); 0 for a decode-only engine. */
  readonly tokCountBits: number;
  /** Most tokens of one tok beat's block: prefillBlock x prefillGroups. */
  readonly blockTokens: number;
  /** Bits the prefill block adds on chip (per-token vectors beyond the first, GEMV x and accumulators, kept norm weights). */
  readonly prefillBits: number;
  readonly logitsBits: number;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
const roundUp = (a: number, b: number) => ceilDiv(a, b) * b;
const sBitsFor = (r: Range) => bitsFor(Math.max(Math.abs(r.lo), Math.abs(r.hi))) + 1;

export function llmEngineConfig(model: ModelShape, hwIn: Partial<LlmHwParams> & Pick<LlmHwParams, 'lanes' | 'simd' | 'vpar'>, engineParams: Partial<EngineParams> = {}): LlmEngineConfig {
  const hw: LlmHwParams = { ...HW_DEFAULTS, onChipBudgetBits: 2 ** 40, ...hwIn };
  const e = engineConfig(model, engineParams);
  const m = e.model;
  requireInt('lanes', hw.lanes, 1, 4096);
  requireInt('simd', hw.simd, 1, 4096);
  requireInt('vpar', hw.vpar, 2, 256);
  requireInt('slotPar', hw.slotPar, 1, 256);
  if (hw.slotPar & (hw.slotPar - 1)) throw new ConfigError('slotPar', 'must be a power of two (the KV cache is banked by slot)', hw.slotPar);
  requireInt('wFifo', hw.wFifo, 0, 1 << 16);
  requireInt('prefillBlock', hw.prefillBlock, 1, 1024);
  requireInt('prefillGroups', hw.prefillGroups, 1, 2);
  if (hw.prefillGroups > 1 && hw.prefillBlock < 2)
    throw new ConfigError('prefillGroups', 'two groups in flight overlap the vector work of prefill blocks: set prefillBlock >= 2', hw.prefillGroups);
  if (hw.prefillDsp && hw.prefillBlock < 2) throw new ConfigError('prefillDsp', 'the DSP half works on prefill blocks: set prefillBlock >= 2', hw.prefillDsp);
  if (hw.wFifo && (hw.wFifo < 2 || hw.wFifo & (hw.wFifo - 1))) throw new ConfigError('wFifo', 'must be 0 or a power of two >= 2', hw.wFifo);
  if (hw.vpar % 2) throw new ConfigError('vpar', 'must be even (RoPE rotates adjacent pairs in one cycle)', hw.vpar);
  if (e.wBits !== 2 && e.wBits !== 4) throw new ConfigError('wBits', 'the engine runs 2-bit linear layers, and 4-bit ones as two 2-bit digit planes; use wBits 2 or 4', e.wBits);
  if (e.wBits === 4 && e.wSparsity !== 'dense') throw new ConfigError('wSparsity', "4-bit linear layers run as digit planes of dense weights only; use wSparsity 'dense' or wBits 2", e.wSparsity);
  if (e.aBits !== 8) throw new ConfigError('aBits', 'the GEMV unit takes int8 activations', e.aBits);
  if (e.clsBits % 2) throw new ConfigError('clsBits', 'must be even', e.clsBits);
  if (hw.lanes % hw.vpar) throw new ConfigError('vpar', `must divide lanes (${hw.lanes})`, hw.vpar);
  if (hw.simd % hw.vpar) throw new ConfigError('vpar', `must divide simd (${hw.simd})`, hw.vpar);
  if (e.kvGroup % hw.vpar) throw new ConfigError('vpar', `must divide kvGroup (${e.kvGroup})`, hw.vpar);
  if (m.nHeads % m.nKvHeads) throw new ConfigError('model.nKvHeads', `must divide nHeads (${m.nHeads})`, m.nKvHeads);
  if (m.headDim % 2) throw new ConfigError('model.headDim', 'must be even', m.headDim);
  if (m.dim !== m.nHeads * m.headDim) throw new ConfigError('model.dim', 'must equal nHeads * headDim', m.dim);
  if (hw.wExpMin > hw.wExpMax) throw new ConfigError('wExpMin', 'must be <= wExpMax', hw.wExpMin);
  const P = hw.vpar;
  const gemv = gemvConfig({
    lanes: hw.lanes,
    simd: e.wSparsity === '2:4' ? sparseSimd(hw.simd, hw.sparseUse) : hw.simd,
    sparse: e.wSparsity === '2:4',
    group: e.wGroup,
    scaleBits: e.scaleBits,
    accBits: 32,
    outBits: 32,
    outShift: 0,
    maxCols: Math.max(m.dim, m.hiddenDim),
    maxRows: Math.max(m.dim, m.hiddenDim, m.vocabSize, m.kvDim),
    xReuse: true,
    tokens: hw.prefillBlock,
    ...(hw.prefillDsp && { dspTokens: 2 }),
    ...(hw.prefillGroups > 1 && { xExternal: true }),
  });
  if (hw.prefillGroups > 1 && gemv.scalePortBits < 32)
    throw new ConfigError('prefillGroups', `two groups take each GEMV's 32-bit constant from the scale stream, whose ${gemv.scalePortBits}-bit words are too narrow (raise lanes or scaleBits)`, hw.prefillGroups);
  const M = e.actMantBits;
  const nBits = e.normMidFrac + e.normWBits + 2;
  const site = (srcBits: number, bits: number, mantBits: number, fracLo: number, fracHi: number): QuantSite => {
    const shLo = 1 - mantBits;
    const shHi = srcBits - mantBits + 1;
    const base = e.recipFrac - (e.recipBits - mantBits) - (bits - 1);
    const s = { lo: base + shLo, hi: base + shHi };
    const exp = { lo: shLo - (bits - 1) - fracHi, hi: shHi - (bits - 1) - fracLo };
    return { srcBits, bits, mantBits, s, exp, expBits: sBitsFor(exp) };
  };
  const qAct = site(Math.max(nBits, e.linBits), e.aBits, M, Math.min(e.normOutFrac, e.linFrac), Math.max(e.normOutFrac, e.linFrac));
  const qKv = site(e.linBits, e.kvBits, e.kvMantBits, e.linFrac, e.linFrac);
  const qQ = site(e.linBits, e.aBits, M, e.linFrac, e.linFrac);
  const outFracLo = Math.min(e.linFrac, e.logitFrac);
  const outFracHi = Math.max(e.linFrac, e.logitFrac);
  const requantShift = { lo: hw.wExpMin - qAct.exp.hi - outFracHi, hi: hw.wExpMax - qAct.exp.lo - outFracLo };
  const scoreShift = { lo: e.invSqrtFrac - qKv.exp.hi - qQ.exp.hi - e.scoreFrac, hi: e.invSqrtFrac - qKv.exp.lo - qQ.exp.lo - e.scoreFrac };
  const vShift = { lo: -(qKv.exp.hi + e.vFrac), hi: -(qKv.exp.lo + e.vFrac) };
  const sumBits = e.expFrac + 1 + bitsFor(e.cacheSlots);
  const recipSh = { lo: e.expFrac + 1 - e.recipBits, hi: sumBits - e.recipBits };
  const probShift = { lo: e.recipFrac + recipSh.lo - e.probFrac, hi: e.recipFrac + recipSh.hi - e.probFrac };
  const embShift = { lo: hw.wExpMin - e.resFrac, hi: hw.wExpMax - e.resFrac };
  const normS1 = { lo: e.sqShift + e.rsqrtFrac - e.normMidFrac, hi: e.sqShift + e.rsqrtFrac + Math.floor((e.ssBits - 1) / 2) - e.normMidFrac };
  const normS2 = { lo: e.normMidFrac + hw.normExpMin - e.normOutFrac, hi: e.normMidFrac + hw.normExpMax - e.normOutFrac };
  if (normS2.lo < 0)
    throw new ConfigError('normExpMin', `must be >= normOutFrac - normMidFrac (${e.normOutFrac - e.normMidFrac}) so RMSNorm outputs stay ${nBits} bits`, hw.normExpMin);

  const clsPlanes = e.clsBits / 2;
  let linPlanes = 1;
  for (let l = 0; l < m.nLayers; l++) for (const mt of LINEAR_MATS) linPlanes = Math.max(linPlanes, matrixBits(e, l, mt) / 2);
  if (linPlanes > 1 && hw.prefillBlock > 1)
    throw new ConfigError(
      'prefillBlock',
      `4-bit linear matrices (${e.w4Matrices.length ? `w4Matrices ${e.w4Matrices.join(',')}` : 'wBits 4'}) run as two digit-plane passes accumulated in one token's LOG memory, ` +
        'which prefill blocks do not have: set prefillBlock 1 (decode only) or make every linear matrix 2-bit',
      hw.prefillBlock,
    );
  const sFifo = hw.wFifo ? 2 ** Math.max(1, Math.ceil(Math.log2(hw.wFifo / gemv.stepsPerGroup))) : 0;
  const lanesPad = (n: number) => Math.max(roundUp(n, hw.lanes), roundUp(n, e.wGroup));
  const d = (n: number) => ceilDiv(lanesPad(n), P);
  // with 4-bit linear matrices the LOG memory also holds a plane's partial rows of the largest linear matrix
  const logRows = linPlanes > 1 ? Math.max(m.vocabSize, m.dim, m.kvDim, m.hiddenDim) : m.vocabSize;
  const depth = { x: d(m.dim), n: d(m.dim), q: d(m.dim), kv: d(m.kvDim), att: d(m.dim), y: d(m.dim), h: d(m.hiddenDim), log: d(logRows) };
  const kvWordBits = e.kvGroup * e.kvBits + e.kvMantBits + qKv.expBits;
  const slotRows = ceilDiv(e.cacheSlots, hw.slotPar);
  /** Words per bank (hw.slotPar banks for K and for V). */
  const kvCacheWords = m.nLayers * m.nKvHeads * slotRows * e.kvGroupsPerHead;
  const clsPasses = e.wSparsity === '2:4' ? 2 * clsPlanes : clsPlanes;
  const logAccBits = 32 + 2 * (Math.max(clsPlanes, linPlanes) - 1) + 2;
  const lin = e.linBits;
  const vectorBits = P * (depth.x * e.resBits + depth.n * nBits + (depth.q + 2 * depth.kv + depth.att + depth.y + 2 * depth.h) * lin);
  // prefill: every token of the block has its own vectors (regions of 2^addrBits words), the GEMV unit its x and
  // per-token group / row accumulators, and NORM keeps its weights for the block's later tokens
  const T = hw.prefillBlock;
  const Gp = hw.prefillGroups;
  const pow2Vec = P * (2 ** addrBits(depth.x) * e.resBits + 2 ** addrBits(depth.n) * nBits +
    (2 ** addrBits(depth.q) + 2 * 2 ** addrBits(depth.kv) + 2 ** addrBits(depth.att) + 2 ** addrBits(depth.y) + 2 * 2 ** addrBits(depth.h)) * lin);
  // (with the DSP half the x buffer and accumulators round up to whole steps of 3 tokens, plus 2 held y words)
  const K = gemv.tokensPerStep;
  // (two groups: vectors for both groups' tokens; the unit reads x from the vector queue's code buffer of both
  // groups, plus K - 1 tokens of slack for a partial DSP step, instead of its own buffer)
  const xBits = (t: number) => (Gp > 1 ? codeBufferWords(gemv, t * Gp) : (ceilDiv(t, K) * K - 1) * gemv.maxColSteps) * gemv.xPortBits;
  const prefillPer = (t: number) => (t > 1 ? t * Gp * pow2Vec - vectorBits + xBits(t) +
    ceilDiv(t, K) * K * gemv.lanes * (gemv.groupSumBits + gemv.accBits) + (K - 1) * gemv.yPortBits + depth.x * P * e.normWBits : 0);
  const prefillBits = prefillPer(T);
  const onChipBits =
    vectorBits + prefillBits +
    (clsPlanes > 1 || linPlanes > 1 ? P * depth.log * logAccBits : 0) +
    2 * hw.slotPar * kvCacheWords * kvWordBits +
    hw.wFifo * gemv.weightPortBits + sFifo * gemv.scalePortBits +
    slotRows * hw.slotPar * 34 +
    // lookup tables (ROMs)
    2 ** e.ropeLutBits * (e.ropeFrac + 2) +
    2 ** (e.sigRangeLog2 + e.sigStepFrac + 1) * (e.sigFrac + 1) +
    3 * 2 ** e.rsqrtIndexBits * (e.rsqrtFrac + 1) +
    (2 ** (e.recipBits - 1) + 1) * (e.recipFrac - e.recipBits + 2) +
    (2 ** e.expLutBits + 1) * (e.expFrac + 1);
  if (onChipBits > hw.onChipBudgetBits && onChipBits - prefillBits <= hw.onChipBudgetBits) {
    let fit = T;
    while (fit > 1 && onChipBits - prefillBits + prefillPer(fit) > hw.onChipBudgetBits) fit--;
    throw new ConfigError(
      'prefillBlock',
      `a block of ${T} tokens needs ${(prefillBits / 8192).toFixed(1)} KiB of per-token vector buffers on top of the decode engine's ` +
        `${((onChipBits - prefillBits) / 8192).toFixed(1)} KiB, over the preset's ${(hw.onChipBudgetBits / 8192).toFixed(1)} KiB; shrink prefillBlock to ${fit} or less`,
      T,
    );
  }
  if (onChipBits > hw.onChipBudgetBits)
    throw new ConfigError(
      'model',
      `needs ${(onChipBits / 8192).toFixed(1)} KiB of on-chip buffers (activations + ${((2 * hw.slotPar * kvCacheWords * kvWordBits) / 8192).toFixed(1)} KiB KV cache), ` +
        `the preset's budget is ${(hw.onChipBudgetBits / 8192).toFixed(1)} KiB; shrink window/sinks or use a larger preset`,
      `${m.nLayers} layers, dim ${m.dim}, hidden ${m.hiddenDim}, S+W ${e.cacheSlots}`,
    );
  const auxLaneBits = 32;
  if (e.clsBits + e.scaleBits > auxLaneBits) throw new ConfigError('scaleBits', 'embedding code + scale must fit a 32-bit aux lane', e.scaleBits);
  return Object.freeze({
    engine: e,
    hw: Object.freeze(hw),
    gemv,
    P,
    clsPlanes,
    clsPasses,
    linPlanes,
    nBits,
    linBits: lin,
    resBits: e.resBits,
    logAccBits,
    depth,
    kvWordBits,
    slotRows,
    expPassCycles: ceilDiv(slotRows, 2),
    sFifo,
    kvCacheWords,
    qSites: { act: qAct, kv: qKv, q: qQ },
    actExp: qAct.exp,
    requantShift,
    scoreShift,
    vShift,
    sumBits,
    recipSh,
    probShift,
    embShift,
    normS1,
    normS2,
    onChipBits,
    vectorBits,
    wPortBits: gemv.weightPortBits,
    sPortBits: gemv.scalePortBits,
    auxLaneBits,
    auxBits: auxLaneBits * P,
    tokBits: 1 + bitsFor(m.vocabSize - 1) + (T > 1 ? bitsFor(T * Gp - 1) : 0),
    tokCountBits: T > 1 ? bitsFor(T * Gp - 1) : 0,
    blockTokens: T * Gp,
    prefillBits,
    logitsBits: 32 * P,
  });
}

/** Config from a named preset, with optional overrides of any hardware or engine parameter. */
export function llmPresetConfig(
  preset: LlmPresetName | string,
  model: ModelShape,
  overrides: { hw?: Partial<LlmHwParams>; engine?: Partial<EngineParams> } = {},
): LlmEngineConfig {
  const p = presetNamed(preset);
  const engine = { ...p.engine, ...overrides.engine };
  const hw = { ...p.hw, ...overrides.hw };
  // A preset's kvGroup / vpar aimed at head_dim-128 models shrink to fit smaller heads (explicit overrides do not).
  if (overrides.engine?.kvGroup === undefined && engine.kvGroup !== undefined && model.headDim % engine.kvGroup)
    engine.kvGroup = gcd(engine.kvGroup, model.headDim);
  const kvg = engine.kvGroup ?? engineConfig(model, engine).kvGroup;
  if (overrides.hw?.vpar === undefined) while (hw.vpar > 2 && kvg % hw.vpar && hw.vpar % 2 === 0) hw.vpar /= 2;
  return llmEngineConfig(model, hw, engine);
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

export const addrBits = (depth: number): number => Math.max(1, clog2(depth));
export { ceilDiv, roundUp, sBitsFor };
