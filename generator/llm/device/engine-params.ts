/**
 * The engine parameters a device build and the host both start from: the golden engine's defaults (so
 * `llm run --device` and `llm run --engine golden` decode the same model), except where the preset's hardware
 * cannot run them: the weight group must be a multiple of the GEMV simd width, so there the preset's own value is
 * taken (u280: simd 64 needs wGroup 64; vpar already shrinks to divide kvGroup in llmPresetConfig). Explicit parameters always win and
 * are checked by the engine config, which names the rule they break.
 */
import { ENGINE_DEFAULTS, type EngineParams } from '../model-spec';
import { presetNamed, type LlmHwParams } from '../engine/hw-config';

export function deviceEngineParams(preset: string, explicit: Partial<EngineParams> = {}): Partial<EngineParams> {
  const p = presetNamed(preset);
  const out: Partial<EngineParams> = { ...ENGINE_DEFAULTS };
  if (out.wGroup! % p.hw.simd && p.engine.wGroup !== undefined) out.wGroup = p.engine.wGroup;
  return { ...out, ...explicit };
}

/**
 * Prefill block of the llmdev device built for each preset (the engine presets themselves keep 1 = decode only).
 * sim-small: 8 (21 KiB of per-token buffers); tiny: 4 (9 KiB: the ULX3S build uses 94% of its block RAM before
 * prefill); u280: 32 (48 Mbit for the 7B shape, 269 of the 341 Mbit budget). docs/llm-device.md#prefill-blocks.
 */
export const DEVICE_PREFILL_BLOCK: Readonly<Record<string, number>> = { 'sim-small': 8, tiny: 4, u280: 32 };

/**
 * The hardware overrides a device build and the host both apply on top of the preset (its prefill block). A model
 * with 4-bit linear matrices (digit-plane passes, decode only: docs/llm-engine.md#mixed-precision) gets block 1.
 */
export function deviceHwParams(preset: string, explicit: Partial<LlmHwParams> = {}, engine: Partial<EngineParams> = {}): Partial<LlmHwParams> {
  presetNamed(preset);
  const planes = (engine.w4Matrices?.length ?? 0) > 0 || engine.wBits === 4;
  return { prefillBlock: planes ? 1 : (DEVICE_PREFILL_BLOCK[preset] ?? 1), ...explicit };
}
