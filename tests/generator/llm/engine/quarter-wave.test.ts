// RoPE's cosine ROM as a quarter-wave (engine/units.ts): the fold reproduces every entry of the full table for every
// preset's table, and a table that is not exactly symmetric keeps its full ROM.
import { describe, expect, it } from 'vitest';
import { quarterWave, quarterWaveAt } from '../../../../generator/llm/engine/units';
import { buildTables } from '../../../../generator/llm/golden/tables';
import { llmPresetConfig, LLM_PRESETS, STORIES260K_SHAPE } from '../../../../generator/llm/engine/hw-config';

describe('quarter-wave cosine table', () => {
  it('reproduces every entry of each preset table from N/4 + 1 entries', () => {
    for (const preset of Object.keys(LLM_PRESETS) as Array<keyof typeof LLM_PRESETS>) {
      const t = buildTables(llmPresetConfig(preset, STORIES260K_SHAPE).engine).ropeCos;
      const q = quarterWave(t);
      expect(q, preset).toBeDefined();
      expect(q!.length).toBe(t.length / 4 + 1);
      for (let i = 0; i < t.length; i++) expect(quarterWaveAt(q!, t.length, i)).toBe(t[i]);
    }
  });

  it('refuses a table one entry off symmetric, or not a power of two long', () => {
    const t = Array.from(buildTables(llmPresetConfig('sim-small', STORIES260K_SHAPE).engine).ropeCos);
    const off = [...t];
    off[t.length - 3]! += 1;
    expect(quarterWave(off)).toBeUndefined();
    expect(quarterWave(t.slice(0, 12))).toBeUndefined();
  });
});
