/**
 * Named parameter sets per design for board builds (`--preset`). GEMV presets are the GEMV part of the LLM
 * engine presets (generator/llm/engine/config.ts), so a board preset and an LLM preset never disagree.
 */
import { DESIGNS } from '../designs';
import { LLM_PRESETS } from '../llm/engine/config';
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
  small: { description: '1 pixel per clock (smallest; fits the iCE40UP5K)', params: { ppc: 1 } },
  medium: { description: '2 pixels per clock', params: { ppc: 2 } },
  fast: { description: '8 pixels per clock (the <= 1.5 us latency target)', params: { ppc: 8 } },
};

const TABLE: Record<string, Record<string, DesignPreset>> = { gemv: gemvPresets, cellnet: ppcPresets };

export function designPresets(design: string): Record<string, DesignPreset> {
  const t = TABLE[design];
  if (!t) return { default: { description: 'the design defaults', params: {} } };
  // Keep only presets whose parameters the registered design actually has.
  const known = DESIGNS[design]?.defaults ?? {};
  return Object.fromEntries(Object.entries(t).filter(([, p]) => Object.keys(p.params).every((k) => k in known)));
}

export function presetNamed(design: string, name: string): DesignPreset {
  const all = designPresets(design);
  const p = all[name];
  if (!p) throw new ConfigError('preset', `must be one of ${Object.keys(all).join(', ')} for ${design}`, name);
  return p;
}

/** Parameters that scale a design's size, in the order to try shrinking them. */
const SIZE_PARAMS = ['ppc', 'lanes', 'simd', 'vpar'];

/** A suggestion for a design that overflows: the size parameters it has and the other presets. */
export function fitSuggestion(design: string, preset: string, params: Record<string, number>, overflowing: string[]): string {
  const defaults = DESIGNS[design]?.defaults ?? {};
  const eff = { ...defaults, ...params };
  const knobs = SIZE_PARAMS.filter((k) => k in eff).map((k) => `--${k} (now ${eff[k]})`);
  const others = Object.entries(designPresets(design))
    .filter(([n]) => n !== preset)
    .map(([n, p]) => `${n} (${Object.entries(p.params).map(([k, v]) => `${k}=${v}`).join(' ') || 'defaults'})`);
  const parts = [`Overflowing: ${overflowing.join(', ')}.`];
  if (knobs.length) parts.push(`Use a smaller ${knobs.join(' or ')}`);
  if (others.length) parts.push(`${knobs.length ? 'or' : 'Use'} a smaller preset: --preset ${others.join(' | ')}.`);
  parts.push('Or pick a larger board (npx lutforge boards).');
  return parts.join(' ');
}
