import { describe, expect, it } from 'vitest';
import { printDesign } from '../../../../generator/hdl';
import { STORIES260K_SHAPE, llmEngineConfig, llmPresetConfig } from '../../../../generator/llm/engine/hw-config';
import { llmEngineModule } from '../../../../generator/llm/engine/rtl';
import { schedule, unrolled } from '../../../../generator/llm/engine/schedule';
import { randomCase } from '../../../../generator/llm/engine/random';
import { ConfigError } from '../../../../generator/util/errors';
import { Rng } from '../../../../generator/util/rng';
import { compileIcarus } from '../../../../sim/icarus';
import { lintVerilog } from '../../../../sim/lint';
import { bandwidthTop } from '../../../../sim/designs/llm';

describe('decode engine config', () => {
  it('refuses impossible configurations with a ConfigError naming the parameter', () => {
    const bad = (f: () => unknown, param: string) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).param).toBe(param);
        return;
      }
      throw new Error(`expected a ConfigError on ${param}`);
    };
    bad(() => llmPresetConfig('sim-small', STORIES260K_SHAPE, { engine: { window: 0 } }), 'window');
    bad(() => llmPresetConfig('tiny', STORIES260K_SHAPE, { engine: { window: 2000 } }), 'model');
    bad(() => llmPresetConfig('tiny', { ...STORIES260K_SHAPE, nLayers: 128 }), 'model');
    bad(() => llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { vpar: 3 } }), 'vpar');
    bad(() => llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { simd: 6 } }), 'vpar');
    bad(() => llmPresetConfig('nope', STORIES260K_SHAPE), 'preset');
    bad(() => llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { slotPar: 3 } }), 'slotPar');
    bad(() => llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { wFifo: 6 } }), 'wFifo');
  });

  it('the u280 preset shrinks its kvGroup / vpar to small heads, and keeps them for head_dim 128', () => {
    const small = llmPresetConfig('u280', STORIES260K_SHAPE);
    expect(small.engine.kvGroup).toBe(STORIES260K_SHAPE.headDim);
    expect(small.P).toBe(8);
    const big = llmPresetConfig('u280', { ...STORIES260K_SHAPE, dim: 1024, nHeads: 8, nKvHeads: 8, headDim: 128, kvDim: 1024, hiddenDim: 2048, nLayers: 1 });
    expect(big.engine.kvGroup).toBe(128);
    expect(big.P).toBe(64);
    // an explicit override is not adjusted
    expect(() => llmPresetConfig('u280', STORIES260K_SHAPE, { hw: { vpar: 64 } })).toThrow(ConfigError);
  });

  it('the tiny preset holds stories260K on chip within the UP5K budget', () => {
    const c = llmPresetConfig('tiny', STORIES260K_SHAPE);
    expect(c.onChipBits).toBeLessThanOrEqual(c.hw.onChipBudgetBits);
    expect(c.wPortBits).toBe(32);
  });

  it('the schedule runs every linear layer once per layer and the classifier once per plane', () => {
    const c = llmPresetConfig('sim-small', STORIES260K_SHAPE);
    const prog = unrolled(c);
    const gemvs = prog.filter((i) => i.op === 'GEMV');
    expect(gemvs.length).toBe(7 * STORIES260K_SHAPE.nLayers + c.clsPlanes);
    expect(schedule(c).rom.length).toBeLessThan(32);
  });
});

describe('simulation memory model', () => {
  it('the bandwidth-limited top lints clean with one and with several column steps per scale group', async () => {
    for (const o of [{ hw: { simd: 8, wFifo: 8 }, engine: { wGroup: 8 } }, { hw: { wFifo: 8 } }]) {
      const cfg = llmPresetConfig('sim-small', STORIES260K_SHAPE, o);
      const d = printDesign(bandwidthTop(cfg, llmEngineModule(cfg), 10));
      const lint = await lintVerilog(d.files, d.top, { throwOnWarning: false });
      expect(lint.messages).toEqual([]);
    }
  }, 300_000);
});

describe('generated engine Verilog', () => {
  const rng = new Rng(9);
  const configs = [
    ...(['sim-small', 'tiny'] as const).map((p) => llmPresetConfig(p, STORIES260K_SHAPE)),
    llmPresetConfig('sim-small', STORIES260K_SHAPE, { engine: { sinks: 0, window: 3 } }),
    llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { slotPar: 8, wFifo: 4 } }),
    // two prefill groups in flight with the DSP half and a prefetch FIFO (the queues share s with the unit)
    llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { prefillBlock: 3, prefillGroups: 2, prefillDsp: true, wFifo: 4 } }),
    ...Array.from({ length: 3 }, () => {
      const rc = randomCase(rng);
      return llmEngineConfig(rc.model, rc.hw, rc.engine);
    }),
  ];
  it('passes verilator --lint-only -Wall and compiles in Icarus (presets and random configs)', async () => {
    for (const cfg of configs) {
      const d = printDesign(llmEngineModule(cfg));
      const lint = await lintVerilog(d.files, d.top, { throwOnWarning: false });
      expect(lint.messages).toEqual([]);
      await compileIcarus(d.files, d.top);
    }
  }, 300_000);
});
