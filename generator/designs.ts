/**
 * The designs lutforge can generate, by name. Each entry turns user parameters into a checked config and an
 * IR module; the CLI derives its options from `defaults`, so a parameter is declared once, in the config.
 */
import type { Module } from './hdl';
import type { ResourceReport, SynthTarget } from './flow/synth';
import { ConfigError } from './util/errors';
import { GEMV_DEFAULTS, gemvConfig, gemvModule } from './llm/gemv';
import { CELLNET_RTL_DEFAULTS, cellnetDesign } from './cellnet/rtl/design';
import { ENGINE_DEFAULTS, type ModelShape } from './llm/model-spec';
import { deviceEngineParams, deviceHwParams, llmDeviceConfig, llmDeviceModule, presetLatency } from './llm/device';
import { LLM_PRESETS, STORIES260K_SHAPE, llmPresetConfig, llmEngineModule, synthEngine, type LlmEngineConfig } from './llm/engine';

export interface DesignEntry {
  description: string;
  /** Numeric parameters and their defaults; the CLI offers one --option per key. */
  defaults: Record<string, number>;
  /** Named parameter sets (--preset); explicit numeric options override the preset's values. */
  presets?: readonly string[];
  /** `shape`: the model the LLM designs are sized for (`generate --model FILE`); default stories260K. */
  build(params: Record<string, number>, preset?: string, shape?: ModelShape): { config: object; module: Module };
  /** Design-specific synthesis (e.g. per unit for large configs); default: the printed module, flat. */
  synth?(config: object, target: SynthTarget): Promise<ResourceReport>;
}

export const DESIGNS: Record<string, DesignEntry> = {
  gemv: {
    description: 'W2A8 matrix-vector unit (2-bit group-scaled weights x int8 activations)',
    defaults: { ...GEMV_DEFAULTS },
    build(params) {
      const config = gemvConfig(params);
      return { config, module: gemvModule(config) };
    },
  },
  llm: {
    description: 'W2A8KV4 decode engine for the stories260K shape (presets u280, tiny, sim-small)',
    // prefillBlock / prefillGroups / prefillDsp (0 or 1): prefill blocks, two groups in flight, the DSP half
    defaults: { lanes: 4, simd: 8, vpar: 4, slotPar: 1, wFifo: 0, sinks: 2, window: 10, wGroup: 32, kvGroup: 8, prefillBlock: 1, prefillGroups: 1, prefillDsp: 0 },
    presets: Object.keys(LLM_PRESETS),
    synth: (config, target) => synthEngine(config as LlmEngineConfig, target),
    build(params, preset = 'sim-small', shape = STORIES260K_SHAPE) {
      const hwKeys = ['lanes', 'simd', 'vpar', 'slotPar', 'wFifo', 'prefillBlock', 'prefillGroups', 'prefillDsp'];
      const hw: Record<string, number | boolean> = Object.fromEntries(Object.entries(params).filter(([k]) => hwKeys.includes(k)));
      if (hw.prefillDsp !== undefined) hw.prefillDsp = hw.prefillDsp !== 0;
      const engine = Object.fromEntries(Object.entries(params).filter(([k]) => !hwKeys.includes(k)));
      const config = llmPresetConfig(preset, shape, { hw, engine });
      return { config, module: llmEngineModule(config) };
    },
  },
  llmdev: {
    description: 'LLM decode device for `llm run --device`: the llm engine + weight memory + weight sequencer + argmax, behind the link',
    defaults: { lanes: 4, simd: 8, vpar: 4, slotPar: 1, wFifo: 0, sinks: ENGINE_DEFAULTS.sinks, window: ENGINE_DEFAULTS.window, wGroup: ENGINE_DEFAULTS.wGroup, kvGroup: ENGINE_DEFAULTS.kvGroup, latency: 2, masters: 0, axiBits: 512, prefillBlock: 0 },
    presets: Object.keys(LLM_PRESETS),
    build(params, preset = 'sim-small', shape = STORIES260K_SHAPE) {
      // Same split as `llm run --device`: the preset gives the hardware, engine parameters start from the golden
      // engine's defaults, so a generated board and the host decode the same model (the layout revision checks it).
      const hwKeys = ['lanes', 'simd', 'vpar', 'slotPar', 'wFifo'];
      // masters > 0: the weights live in HBM, read by that many AXI4 masters (one per pseudo-channel).
      // prefillBlock 0: the preset's device block (DEVICE_PREFILL_BLOCK).
      const { latency, masters, axiBits, prefillBlock, ...rest } = params;
      const hw = Object.fromEntries(Object.entries(rest).filter(([k]) => hwKeys.includes(k)));
      const engine = Object.fromEntries(Object.entries(rest).filter(([k]) => !hwKeys.includes(k)));
      const eng = deviceEngineParams(preset, engine);
      const cfg = llmPresetConfig(preset, shape, { hw: deviceHwParams(preset, { ...hw, ...(prefillBlock ? { prefillBlock } : {}) }, eng), engine: eng });
      const hbm = masters ? { mem: 'axi' as const, hbm: { masters, axiBits: axiBits ?? 512 } } : {};
      const config = llmDeviceConfig(cfg, { latency: latency ?? presetLatency(preset), ...hbm });
      return { config, module: llmDeviceModule(config) };
    },
  },
  cellnet: {
    description: 'cell sorter: streaming CNN classifier (shipped model) + sort trigger, ppc pixels per cycle',
    defaults: { ...CELLNET_RTL_DEFAULTS },
    build(params) {
      const d = cellnetDesign(params);
      const { cfg, ...plan } = d.hw;
      return { config: { model: cfg, ...plan }, module: d.module };
    },
  },
};

export function designEntry(name: string): DesignEntry {
  const d = DESIGNS[name];
  if (!d) throw new ConfigError('design', `must be one of ${Object.keys(DESIGNS).join(', ')}`, name);
  return d;
}
