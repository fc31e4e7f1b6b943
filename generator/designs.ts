/**
 * The designs lutforge can generate, by name. Each entry turns user parameters into a checked config and an
 * IR module; the CLI derives its options from `defaults`, so a parameter is declared once, in the config.
 */
import type { Module } from './hdl';
import { ConfigError } from './util/errors';
import { GEMV_DEFAULTS, gemvConfig, gemvModule } from './llm/gemv';

export interface DesignEntry {
  description: string;
  /** Numeric parameters and their defaults; the CLI offers one --option per key. */
  defaults: Record<string, number>;
  build(params: Record<string, number>): { config: object; module: Module };
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
};

export function designEntry(name: string): DesignEntry {
  const d = DESIGNS[name];
  if (!d) throw new ConfigError('design', `must be one of ${Object.keys(DESIGNS).join(', ')}`, name);
  return d;
}
