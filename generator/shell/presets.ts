/**
 * Named parameter sets per design for board builds (`--preset`). GEMV presets are the GEMV part of the LLM
 * engine presets (generator/llm/engine/hw-config.ts), so a board preset and an LLM preset never disagree.
 */
import { DESIGNS } from '../designs';
import { LLM_PRESETS } from '../llm/engine/hw-config';
import { ConfigError } from '../util/errors';

export interface DesignPreset {
  description: string;
  params: Record<string, number>;
}

const gemvPresets: Record<string, DesignPreset> = Object.fromEntries(
  Object.entries(LLM_PRESETS).map(([name, p]) => [
    name,
    { description: `GEMV of the LLM '${name}' preset: ${p.description}`, params: { lanes: p.hw.lanes, simd: p.hw.simd, group: p.engine.wGroup ?? 32 } },
  ]),
);

/** Cell classifier presets: pixels per clock (issue 5). Applied only once the design is registered. */
const ppcPresets: Record<string, DesignPreset> = {
  up5k: { description: 'time-multiplexed single-MAC engine, weights/feature maps in RAM, 2 pending pulses (fits the iCE40UP5K)', params: { ppc: 1, serial: 1, queueDepth: 2 } },
  small: { description: '1 pixel per clock, streaming engines (smallest streaming design; ~13x the iCE40UP5K)', params: { ppc: 1, serial: 0 } },
  medium: { description: '2 pixels per clock', params: { ppc: 2, serial: 0 } },
  large: { description: '4 pixels per clock, DSP-packed (the fastest build that fits the xcku035)', params: { ppc: 4, serial: 0 } },
  fast: { description: '8 pixels per clock (the <= 1.5 us latency target)', params: { ppc: 8, serial: 0 } },
};

const TABLE: Record<string, Record<string, DesignPreset>> = { gemv: gemvPresets, cellnet: ppcPresets };

export function designPresets(design: string): Record<string, DesignPreset> {
  const t = TABLE[design];
  if (!t) return { default: { description: 'the design defaults', params: {} } };
  // Keep only presets whose parameters the registered design actually has.
  const known = DESIGNS[design]?.defaults ?? {};
  return Object.fromEntries(Object.entries(t).filter(([, p]) => Object.keys(p.params).every((k) => k in known)));
}

/** Preset names valid for a design: the registry's own (DesignEntry.presets) or this table's. */
export function presetNames(design: string): string[] {
  const own = DESIGNS[design]?.presets;
  return own ? [...own] : Object.keys(designPresets(design));
}

export interface ResolvedPreset {
  name: string;
  /** Parameters this table contributes (empty for registry presets, which build() applies itself). */
  params: Record<string, number>;
  /** Set when the design's registry entry owns the preset: pass it to build(params, preset). */
  registry?: string;
}

/** The preset to build with: the user's, else the board's default for the design, else the first one. */
export function resolvePreset(design: string, requested: string | undefined, boardDefault: string | undefined): ResolvedPreset {
  const names = presetNames(design);
  if (requested !== undefined && !names.includes(requested))
    throw new ConfigError('preset', `must be one of ${names.join(', ')} for ${design}`, requested);
  const name = requested ?? (boardDefault !== undefined && names.includes(boardDefault) ? boardDefault : names.includes('default') ? 'default' : names[0]!);
  if (DESIGNS[design]?.presets) return { name, params: {}, registry: name };
  return { name, params: { ...designPresets(design)[name]!.params } };
}

/** The size parameters of an LLM engine preset (lanes, simd, vpar). */
function llmPresetSizes(name: string): Record<string, number> {
  const p = (LLM_PRESETS as Record<string, (typeof LLM_PRESETS)[keyof typeof LLM_PRESETS] | undefined>)[name];
  return p ? { lanes: p.hw.lanes, simd: p.hw.simd, vpar: p.hw.vpar } : {};
}

/** Parameters that scale a design's size, in the order to try shrinking them. */
const SIZE_PARAMS = ['ppc', 'lanes', 'simd', 'vpar'];
/** cellnet serial=1: ~1 multiplier instead of ~750 (docs/boards.md). */
const SERIAL_SHRINK = 100;

/** A suggestion for a design that overflows: the size parameters it has and the other presets. */
export function fitSuggestion(design: string, preset: string, params: Record<string, number>, overflowing: string[]): string {
  const defaults = DESIGNS[design]?.defaults ?? {};
  const registry = !!DESIGNS[design]?.presets;
  // Registry presets (the LLM engine's) carry their own hardware sizes; the registry defaults are not what was built.
  const sizesOf = (name: string): Record<string, number> => (registry ? llmPresetSizes(name) : {});
  const eff = { ...defaults, ...sizesOf(preset), ...params };
  // Only knobs that can still go down (all size parameters bottom out at 1).
  const knobs = SIZE_PARAMS.filter((k) => k in eff && eff[k]! > 1).map((k) => `--${k} (now ${eff[k]})`);
  if (eff.serial === 0) knobs.push('--serial 1 with --ppc 1 (time-multiplexed engine)');
  const table = DESIGNS[design]?.presets ? {} : designPresets(design);
  // "Smaller" = a smaller product of the size parameters than the current build; the serial engine is far smaller.
  const size = (ps: Record<string, number>) =>
    SIZE_PARAMS.filter((k) => k in eff).reduce((acc, k) => acc * (ps[k] ?? eff[k]!), 1) / ((ps.serial ?? eff.serial) === 1 ? SERIAL_SHRINK : 1);
  const others = presetNames(design)
    .filter((n) => (table[n] ? size({ ...eff, ...table[n]!.params }) < size(eff) : registry ? size({ ...eff, ...sizesOf(n), ...params }) < size(eff) : n !== preset))
    .map((n) => (table[n] ? `${n} (${Object.entries(table[n]!.params).map(([k, v]) => `${k}=${v}`).join(' ') || 'defaults'})` : n));
  const parts = [`Overflowing: ${overflowing.join(', ')}.`];
  if (knobs.length) parts.push(`Use a smaller ${knobs.join(' or ')}${others.length ? '' : '.'}`);
  if (others.length) parts.push(`${knobs.length ? 'or' : 'Use'} a smaller preset: --preset ${others.join(' | ')}.`);
  parts.push('Or pick a larger board (npx lutforge boards).');
  return parts.join(' ');
}
