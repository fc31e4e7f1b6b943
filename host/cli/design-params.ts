/**
 * The per-design parameter options shared by the hardware commands (generate, synth, build, sim): one --option per
 * numeric parameter of every design, and their parsing. Its own module so hw.ts and boards.ts both import it.
 */
import type { Command } from 'commander';
import { DESIGNS, designEntry } from '../../generator/designs';
import { parseIntOpt } from './common';
import { loadModel } from '../../generator/llm/model-file';
import { shapeOf, type ModelShape } from '../../generator/llm/model-spec';

export const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** One --option per numeric parameter of every design (unknown ones for a design are rejected). */
export function addParamOptions(cmd: Command): Command {
  const presets = Object.entries(DESIGNS).filter(([, d]) => d.presets).map(([n, d]) => `${n}: ${d.presets!.join('|')}`);
  cmd.option('--preset <name>', `named parameter set (${presets.join('; ')}); explicit options override it`);
  const seen = new Set<string>();
  for (const [design, d] of Object.entries(DESIGNS))
    for (const [k, v] of Object.entries(d.defaults)) {
      if (seen.has(k)) continue;
      seen.add(k);
      cmd.option(`--${kebab(k)} <n>`, `${design}: ${k} (default ${v})`);
    }
  return cmd;
}

export function designParams(design: string, opts: Record<string, unknown>): Record<string, number> {
  const d = designEntry(design);
  const params: Record<string, number> = {};
  for (const k of Object.keys(d.defaults)) if (opts[k] !== undefined) params[k] = parseIntOpt(`--${kebab(k)}`, String(opts[k]));
  for (const [design2, d2] of Object.entries(DESIGNS))
    for (const k of Object.keys(d2.defaults))
      if (!(k in d.defaults) && opts[k] !== undefined) throw new Error(`--${kebab(k)} is a parameter of ${design2}, not of ${design}`);
  return params;
}

/** The --preset value, checked against the design's presets. */
export function designPreset(design: string, opts: Record<string, unknown>): string | undefined {
  if (opts.preset === undefined) return undefined;
  const d = designEntry(design);
  const p = String(opts.preset);
  if (!d.presets) throw new Error(`design ${design} has no presets`);
  if (!d.presets.includes(p)) throw new Error(`--preset must be one of ${d.presets.join(', ')} (got ${p})`);
  return p;
}

/** `--model FILE` (GGUF or llama2.c): the shape the llm/llmdev designs are sized for; other designs refuse it. */
export async function modelShapeOpt(design: string, opts: Record<string, unknown>): Promise<ModelShape | undefined> {
  if (opts.model === undefined) return undefined;
  if (design !== 'llm' && design !== 'llmdev') throw new Error(`--model sizes the llm and llmdev designs, not ${design}`);
  return shapeOf((await loadModel(String(opts.model))).ckpt.dims);
}
