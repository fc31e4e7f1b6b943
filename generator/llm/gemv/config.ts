import { ConfigError, bitsFor, clog2, requireInt } from '../../util/errors';

/**
 * The one source of truth for a GEMV unit. Everything else (port widths, packing, golden model,
 * RTL, bench) is derived from a GemvConfig; nothing re-states these numbers.
 */
export interface GemvParams {
  /** Output rows computed in parallel. */
  lanes: number;
  /** Weights per lane consumed per cycle. */
  simd: number;
  /** Weights per scale along a row; a multiple of simd. */
  group: number;
  /** Width of the unsigned per-group scale code. */
  scaleBits: number;
  /** Width of the signed row accumulator. */
  accBits: number;
  /** Width of each signed output after the rounding shift and saturation. */
  outBits: number;
  /** Right shift (round half up) applied to the accumulator before saturation. */
  outShift: number;
  /** Largest supported column count; sizes the x buffer and sets the overflow bound. */
  maxCols: number;
  /** Largest supported row count; sizes the job counters. */
  maxRows: number;
}

export interface GemvOptions {
  /** Adds a job bit (above nRowBlocks) that reuses the x vector already in the buffer: no x beats for that job. */
  xReuse?: boolean;
  /**
   * 2:4 sparse weights (gemv/sparse.ts): each weight word carries, per lane, simd/4 quad fields of 7 bits, and each
   * lane multiplies only the simd/2 kept weights (half the dense unit's products per column).
   */
  sparse?: boolean;
  /**
   * Most tokens per job (prefill, weights stationary): the job carries a token count, x holds that many vectors
   * (token-major), each weight word is held while every token's x passes it (one token per cycle), and the group /
   * row accumulators are kept per token. 1 (default) is the decode unit, unchanged.
   */
  tokens?: number;
  /**
   * The DSP half (prefill, gemv/dsp-half.ts): besides the LUT lanes' one token, a DSP48E2 per kept weight of the held
   * word takes two more tokens per cycle, so a word is held ceil(n / 3) cycles instead of n. 0 (default) = LUT only.
   */
  dspTokens?: number;
  /**
   * x lives outside the unit (two prefill groups in flight, engine/control-groups.ts): no x stream and no x buffer;
   * the unit drives `x_raddr` (token-major, maxColSteps words per token) and reads `x_rdata0..K-1` (the step's K
   * tokens, K = tokensPerStep) combinationally, so a job starts on its weights at once.
   */
  xExternal?: boolean;
}

/**
 * How a 2:4 engine spends the freed multipliers, relative to a dense array of `simd` weights per lane per cycle:
 * 'area' keeps simd columns per cycle with half the products (same throughput, half the MAC array); 'throughput'
 * keeps the products and moves 2*simd columns per cycle (double the throughput on compute-bound work).
 */
export type SparseUse = 'area' | 'throughput';
export const SPARSE_USES: readonly SparseUse[] = ['area', 'throughput'];

/** Columns per cycle of a 2:4 unit that replaces a dense unit of `denseSimd` columns, for the chosen use. */
export function sparseSimd(denseSimd: number, use: SparseUse): number {
  if (!SPARSE_USES.includes(use)) throw new ConfigError('sparseUse', `must be one of ${SPARSE_USES.join(', ')}`, use);
  return use === 'throughput' ? 2 * denseSimd : denseSimd;
}

export interface GemvConfig extends GemvParams {
  readonly xReuse: boolean;
  readonly xExternal: boolean;
  readonly sparse: boolean;
  readonly tokens: number;
  readonly dspTokens: number;
  /** Tokens that pass a held weight word per cycle: 1 (the LUT lanes) + dspTokens. */
  readonly tokensPerStep: number;
  /** Bits of the job's token-count field (count - 1), above the reuse bit; 0 when tokens = 1. */
  readonly tokenCountBits: number;
  /** Multiplications (2-bit x int8 products) per lane per cycle: simd dense, simd/2 with 2:4 weights. */
  readonly macsPerLane: number;
  /** Bits of one weight word: lanes * simd 2-bit codes (dense), lanes * simd/4 7-bit quad fields (2:4). */
  readonly weightPortBits: number;
  readonly xPortBits: number;
  readonly scalePortBits: number;
  readonly yPortBits: number;
  readonly stepsPerGroup: number;
  readonly maxGroups: number;
  readonly maxColSteps: number;
  readonly maxRowBlocks: number;
  readonly groupCountBits: number;
  readonly rowBlockCountBits: number;
  readonly jobBits: number;
  /** Signed width that holds any group dot product sum((2q-3) x) over one group. */
  readonly groupSumBits: number;
  /** The largest |accumulator| any job within maxCols can reach: 384 * (2^scaleBits - 1) * paddedCols. */
  readonly accBound: number;
}

export const GEMV_DEFAULTS: GemvParams = {
  lanes: 8,
  simd: 16,
  group: 64,
  scaleBits: 8,
  accBits: 32,
  outBits: 32,
  outShift: 0,
  maxCols: 4096,
  maxRows: 4096,
};

/** Largest |(2q-3) * x| for a 2-bit code q and int8 x. */
export const MAX_PRODUCT = 3 * 128;
/** The DSP half's packing shift (gemv/dsp-half.ts) and the most kept weights per lane its low field holds. */
export const DSP_PACK_SHIFT = 18;
export const DSP_MAX_KEPT = Math.floor((2 ** (DSP_PACK_SHIFT - 1) - 1) / MAX_PRODUCT);

export function gemvConfig(params: Partial<GemvParams> & GemvOptions = {}): GemvConfig {
  const p: GemvParams & GemvOptions = { ...GEMV_DEFAULTS, ...params };
  requireInt('lanes', p.lanes, 1, 4096);
  requireInt('simd', p.simd, 1, 4096);
  requireInt('group', p.group, 1, 1 << 16);
  requireInt('scaleBits', p.scaleBits, 1, 24);
  requireInt('accBits', p.accBits, 8, 48);
  requireInt('outBits', p.outBits, 2, p.accBits);
  requireInt('outShift', p.outShift, 0, p.accBits - 2);
  requireInt('maxCols', p.maxCols, 1, 1 << 20);
  requireInt('maxRows', p.maxRows, 1, 1 << 20);
  const tokens = p.tokens ?? 1;
  requireInt('tokens', tokens, 1, 4096);
  if (tokens > 1 && !p.xReuse) throw new ConfigError('tokens', 'a multi-token unit needs xReuse (the job word carries the token count above the reuse bit)', tokens);
  const tokenCountBits = tokens > 1 ? bitsFor(tokens - 1) : 0;
  const dspTokens = p.dspTokens ?? 0;
  if (dspTokens !== 0 && dspTokens !== 2) throw new ConfigError('dspTokens', 'must be 0 (LUT only) or 2 (one DSP48E2 per kept weight, two tokens each)', dspTokens);
  if (dspTokens && tokens < 2) throw new ConfigError('dspTokens', 'the DSP half needs a multi-token (prefill) unit: tokens >= 2', tokens);
  if (dspTokens && (p.sparse ? p.simd / 2 : p.simd) > DSP_MAX_KEPT)
    throw new ConfigError('simd', `with the DSP half a lane keeps at most ${DSP_MAX_KEPT} weights per word (the packed low field is 18 bits)`, p.simd);
  if (p.group % p.simd !== 0)
    throw new ConfigError('group', `must be a multiple of simd (${p.simd}) so a group spans whole cycles`, p.group);
  if (p.sparse && p.simd % 4) throw new ConfigError('simd', 'must be a multiple of 4 for 2:4 weights (whole quads per cycle)', p.simd);
  const weightPortBits = p.sparse ? (7 * p.lanes * p.simd) / 4 : 2 * p.lanes * p.simd;
  if (weightPortBits > 65536)
    throw new ConfigError('simd', 'lanes * simd * 2 (the weight word) must not exceed 65536 bits', weightPortBits);
  const maxGroups = Math.ceil(p.maxCols / p.group);
  const stepsPerGroup = p.group / p.simd;
  const accBound = MAX_PRODUCT * (2 ** p.scaleBits - 1) * maxGroups * p.group;
  if (accBound > 2 ** (p.accBits - 1) - 1) {
    const fit = Math.floor((2 ** (p.accBits - 1) - 1) / (MAX_PRODUCT * (2 ** p.scaleBits - 1)));
    throw new ConfigError(
      'accBits',
      `a ${p.accBits}-bit accumulator can overflow: 384 * (2^${p.scaleBits}-1) * ${maxGroups * p.group} padded columns = ${accBound} ` +
        `exceeds 2^${p.accBits - 1}-1; raise accBits or keep maxCols <= ${fit - (fit % p.group)}`,
      p.accBits,
    );
  }
  const maxRowBlocks = Math.ceil(p.maxRows / p.lanes);
  const groupCountBits = bitsFor(maxGroups);
  const rowBlockCountBits = bitsFor(maxRowBlocks);
  return Object.freeze({
    ...p,
    xReuse: Boolean(p.xReuse),
    xExternal: Boolean(p.xExternal),
    sparse: Boolean(p.sparse),
    tokens,
    dspTokens,
    tokensPerStep: 1 + dspTokens,
    tokenCountBits,
    macsPerLane: p.sparse ? p.simd / 2 : p.simd,
    weightPortBits,
    xPortBits: 8 * p.simd,
    scalePortBits: p.scaleBits * p.lanes,
    yPortBits: p.outBits * p.lanes,
    stepsPerGroup,
    maxGroups,
    maxColSteps: maxGroups * stepsPerGroup,
    maxRowBlocks,
    groupCountBits,
    rowBlockCountBits,
    jobBits: groupCountBits + rowBlockCountBits + (p.xReuse ? 1 : 0) + tokenCountBits,
    groupSumBits: bitsFor(MAX_PRODUCT * p.group) + 1,
    accBound,
  });
}

/** Bits of the x-buffer address. */
export const xAddrBits = (c: GemvConfig): number => Math.max(1, clog2(c.maxColSteps));

/** Words of the unit's x buffer (whole steps of tokensPerStep tokens) and its address width (x_raddr with xExternal). */
export const xBufWords = (c: GemvConfig): number => Math.ceil(c.tokens / c.tokensPerStep) * c.tokensPerStep * c.maxColSteps;
export const xBufAddrBits = (c: GemvConfig): number => Math.max(1, clog2(xBufWords(c)));
