/**
 * Prefill mode's one typed config (docs/llm-engine.md#prefill): how many prompt tokens share one weight pass, and
 * the array that does the work. The decode engine's LUT GEMV array is reused (weights stationary: a weight word is
 * held while `block` tokens' activations pass it, one token per cycle); beside it a DSP48E2 array multiplies each
 * weight code by two tokens' activations at once (WP486 packing, generator/lib/dsp-pack.ts, with the tokens in the
 * packed operand and the 2-bit code as the shared one). With 2:4 weights every DSP handles one kept weight, so a
 * lane covers twice the columns.
 */
import { ConfigError, requireInt } from '../../util/errors';
import { packSpec, type PackSpec } from '../../lib/dsp-pack';
import type { LlmEngineConfig } from '../engine/hw-config';

export interface PrefillParams {
  /** Prompt tokens per weight pass (one group). Two groups are in flight (one in the array, one in the vector unit). */
  block: number;
  /** Rows of the DSP array computed in parallel (0 = no DSP array). */
  dspLanes: number;
  /** DSP48E2s per DSP lane; each forms two products (two tokens) per cycle. */
  dspPerLane: number;
  /** DSP48E2s of the part (the config refuses arrays that cannot exist). */
  partDsps: number;
}

/** U280 (XCU280): 9,024 DSP48E2. 4,096 in the prefill array (8,192 more products per cycle beside the LUT array); block 32 leaves half the
 * on-chip memory the decode engine does not use (block 64 would need 171 of the 173 Mbit left). */
export const U280_PREFILL: PrefillParams = { block: 32, dspLanes: 128, dspPerLane: 32, partDsps: 9024 };

export interface PrefillConfig {
  readonly params: Readonly<PrefillParams>;
  readonly sparse: boolean;
  /** Groups in flight (the array works on one while the vector unit works on the other). */
  readonly groups: 2;
  /** LUT array (the decode GEMV): rows per row block, columns per step, products per cycle (one token per cycle). */
  readonly lut: { lanes: number; cols: number; products: number };
  /** DSP array: rows per row block, columns per step, DSPs, products per cycle (two tokens per cycle). */
  readonly dsp: { lanes: number; cols: number; dsps: number; products: number };
  /** 2-bit code x two int8 activations in one DSP48E2 (dsp-pack's wp486 spec: code on B, activations on A). */
  readonly pack: PackSpec;
  /** Multiplier products per cycle of both arrays. */
  readonly peakProducts: number;
  /** On-chip bits prefill adds: per-token vectors and activation codes of both groups, per-token accumulators. */
  readonly storageBits: number;
  /** On-chip bits left for them after the decode engine (KV cache, prefetch FIFOs, tables, its own vectors). */
  readonly storageBudgetBits: number;
}

/** Bits one token in flight needs: the decode engine's vector buffers plus its int8 activation codes (ax, ah). */
export const tokenBits = (cfg: LlmEngineConfig): number => cfg.vectorBits + 8 * (cfg.engine.model.dim + cfg.engine.model.hiddenDim);

export function prefillConfig(cfg: LlmEngineConfig, over: Partial<PrefillParams> = {}): PrefillConfig {
  const p: PrefillParams = { ...U280_PREFILL, ...over };
  requireInt('block', p.block, 1, 4096);
  requireInt('dspLanes', p.dspLanes, 0, 1 << 16);
  requireInt('dspPerLane', p.dspPerLane, 1, 1024);
  const sparse = cfg.engine.wSparsity === '2:4';
  const dsps = p.dspLanes * p.dspPerLane;
  if (dsps > p.partDsps)
    throw new ConfigError('dspLanes', `dspLanes x dspPerLane = ${dsps} DSP48E2s, the part has ${p.partDsps}; shrink dspLanes or dspPerLane`, p.dspLanes);
  const pack = packSpec('wp486', 2, cfg.engine.aBits);
  if (!pack) throw new ConfigError('aBits', 'two activations must pack into one DSP48E2 operand', cfg.engine.aBits);
  const dspCols = sparse ? 2 * p.dspPerLane : p.dspPerLane;
  const group = cfg.engine.wGroup;
  if (p.dspLanes && group % dspCols && dspCols % group)
    throw new ConfigError('dspPerLane', `a DSP lane's ${dspCols} columns per step must divide or be a multiple of wGroup ${group}`, p.dspPerLane);
  const lut = { lanes: cfg.gemv.lanes, cols: cfg.gemv.simd, products: cfg.gemv.lanes * cfg.gemv.macsPerLane };
  const dsp = { lanes: p.dspLanes, cols: dspCols, dsps, products: 2 * dsps };
  const groups = 2 as const;
  const accBits = cfg.gemv.accBits;
  const storageBits = groups * p.block * tokenBits(cfg) + (lut.lanes + dsp.lanes) * p.block * accBits;
  const storageBudgetBits = cfg.hw.onChipBudgetBits - cfg.onChipBits;
  if (storageBits > storageBudgetBits) {
    const fit = Math.floor(storageBudgetBits / (groups * tokenBits(cfg) + (lut.lanes + dsp.lanes) * accBits));
    throw new ConfigError(
      'block',
      `${groups} groups of ${p.block} prompt tokens need ${(storageBits / 2 ** 20).toFixed(1)} Mbit of on-chip activation storage, ` +
        `${(storageBudgetBits / 2 ** 20).toFixed(1)} Mbit is left after the decode engine (KV cache, FIFOs, tables); shrink block to <= ${fit}`,
      p.block,
    );
  }
  return Object.freeze({ params: Object.freeze(p), sparse, groups, lut, dsp, pack, peakProducts: lut.products + dsp.products, storageBits, storageBudgetBits });
}
