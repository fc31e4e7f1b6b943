/**
 * The engine parameters a device build and the host both start from: the golden engine's defaults (so
 * `llm run --device` and `llm run --engine golden` decode the same model), except where the preset's hardware
 * cannot run them: the weight group must be a multiple of the GEMV simd width, so there the preset's own value is
 * taken (u280: simd 64 needs wGroup 64; vpar already shrinks to divide kvGroup in llmPresetConfig). Explicit parameters always win and
 * are checked by the engine config, which names the rule they break.
 */
import { ENGINE_DEFAULTS, type EngineParams } from '../model-spec';
import { presetNamed } from '../engine/hw-config';

export function deviceEngineParams(preset: string, explicit: Partial<EngineParams> = {}): Partial<EngineParams> {
  const p = presetNamed(preset);
  const out: Partial<EngineParams> = { ...ENGINE_DEFAULTS };
  if (out.wGroup! % p.hw.simd && p.engine.wGroup !== undefined) out.wGroup = p.engine.wGroup;
  return { ...out, ...explicit };
}
