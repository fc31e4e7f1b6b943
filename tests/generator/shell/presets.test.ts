import { describe, expect, it } from 'vitest';
import { LLM_PRESETS } from '../../../generator/llm/engine/hw-config';
import { designPresets, fitSuggestion, presetNames, resolvePreset } from '../../../generator/shell/presets';
import { ConfigError } from '../../../generator/util/errors';

describe('design presets for boards', () => {
  it('GEMV presets are the GEMV part of the LLM presets', () => {
    const g = designPresets('gemv');
    expect(Object.keys(g).sort()).toEqual(Object.keys(LLM_PRESETS).sort());
    for (const [n, p] of Object.entries(LLM_PRESETS)) expect(g[n]!.params).toMatchObject({ lanes: p.hw.lanes, simd: p.hw.simd });
  });

  it('resolves the board default, an explicit preset, and refuses unknown ones with the list', () => {
    expect(resolvePreset('gemv', undefined, 'tiny')).toMatchObject({ name: 'tiny', params: { lanes: 2, simd: 8 } });
    expect(resolvePreset('cellnet', 'fast', 'small')).toMatchObject({ name: 'fast', params: { ppc: 8 } });
    expect(resolvePreset('llm', undefined, 'u280')).toEqual({ name: 'u280', params: {}, registry: 'u280' });
    expect(() => resolvePreset('gemv', 'huge', 'tiny')).toThrow(ConfigError);
    expect(() => resolvePreset('cellnet', 'huge', undefined)).toThrow(/up5k, small, medium, large, fast/);
    expect(presetNames('llm')).toEqual(Object.keys(LLM_PRESETS));
  });

  it('suggests only knobs that can shrink and presets that are smaller', () => {
    const s = fitSuggestion('gemv', 'tiny', { lanes: 16, simd: 2, group: 8 }, ['DSP']);
    expect(s).toMatch(/--lanes \(now 16\)/);
    expect(s).toMatch(/--simd \(now 2\)/);
    expect(s).toMatch(/--preset tiny/);
    expect(s).not.toMatch(/u280/);
    const c = fitSuggestion('cellnet', 'small', { ppc: 1, serial: 0 }, ['LUT']);
    expect(c).not.toMatch(/--ppc \(/);
    expect(c).toMatch(/--serial 1/);
    expect(c).toMatch(/--preset up5k \(ppc=1 serial=1 queueDepth=2\)\./);
    expect(c).toMatch(/larger board/);
    expect(fitSuggestion('cellnet', 'fast', { ppc: 8, serial: 0 }, ['LUT'])).toMatch(
      /--ppc \(now 8\).*--preset up5k \(ppc=1 serial=1 queueDepth=2\) \| small \(ppc=1 serial=0\) \| medium \(ppc=2 serial=0\) \| large \(ppc=4 serial=0\)/,
    );
    // the serial engine itself has nothing smaller to offer
    expect(fitSuggestion('cellnet', 'up5k', { ppc: 1, serial: 1 }, ['LUT'])).not.toMatch(/--preset|--serial/);
  });
});

describe('fit suggestions for registry presets', () => {
  it('name the sizes of the preset that was built and only smaller presets', () => {
    const tiny = LLM_PRESETS.tiny.hw;
    const s = fitSuggestion('llmdev', 'tiny', {}, ['LUT']);
    expect(s).toContain(`--lanes (now ${tiny.lanes})`);
    expect(s).not.toMatch(/--preset .*u280/);
    expect(fitSuggestion('llm', 'u280', {}, ['LUT'])).toMatch(/--preset (tiny \| sim-small|sim-small \| tiny)/);
  });
});
