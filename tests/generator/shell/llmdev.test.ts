import { describe, expect, it } from 'vitest';
import { ENGINE_DEFAULTS } from '../../../generator/llm/model-spec';
import { llmPresetConfig, STORIES260K_SHAPE } from '../../../generator/llm/engine';
import { deviceHwParams, presetLatency } from '../../../generator/llm/device';
import { regMapFromJson, type RegMapJson } from '../../../generator/regmap/emit';
import { generateBoard } from '../../../generator/shell/generate';
import { llmDeviceLinked } from '../../../host/llm/device-runner';
import { lintVerilog } from '../../../sim/lint';

describe('llmdev on a board', () => {
  it('generates a lint-clean board top whose register map the `llm run --device` host accepts', async () => {
    const g = generateBoard({ design: 'llmdev', board: 'ulx3s' });
    expect(g.preset).toBe('tiny');
    const board = regMapFromJson(JSON.parse(g.files.find((f) => f.name === 'regmap.json')!.data) as RegMapJson);
    // What the host builds for `--preset tiny` with default engine flags.
    const cfg = llmPresetConfig('tiny', STORIES260K_SHAPE, { hw: deviceHwParams('tiny'), engine: { ...ENGINE_DEFAULTS } });
    const host = llmDeviceLinked(cfg, { latency: presetLatency('tiny') }).regmap;
    expect(board.design).toBe(host.design);
    expect(board.designId).toBe(host.designId);
    expect(board.version).toBe(host.version);
    expect(board.memory).toEqual(host.memory);
    expect(board.channels).toEqual(host.channels);
    // the board's prefill block is a read-only register the host reads (tiny: 4)
    expect(board.registers.find((r) => r.name === 'prefill_block')).toMatchObject({ access: 'ro', width: 16 });
    expect(cfg.hw.prefillBlock).toBe(4);
    // A different engine setting changes the layout revision, so the host would refuse the board.
    const other = generateBoard({ design: 'llmdev', board: 'ulx3s', params: { window: 60 } });
    expect(regMapFromJson(JSON.parse(other.files.find((f) => f.name === 'regmap.json')!.data) as RegMapJson).version).not.toBe(host.version);
    await lintVerilog([...g.rtl, ...g.stubs], 'top');
  }, 300_000);
});

describe('device prefill block by model', () => {
  it('a model with 4-bit matrices gets prefill block 1 (digit planes are decode only); W2 keeps the preset block', () => {
    expect(deviceHwParams('sim-small').prefillBlock).toBe(8);
    expect(deviceHwParams('sim-small', {}, { w4Matrices: ['0.wq'] }).prefillBlock).toBe(1);
    expect(deviceHwParams('u280', {}, { wBits: 4 }).prefillBlock).toBe(1);
    // the configuration it gives is one the engine accepts
    const engine = { ...ENGINE_DEFAULTS, w4Matrices: ['0.wq'] };
    expect(llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: deviceHwParams('sim-small', {}, engine), engine }).linPlanes).toBe(2);
  });
});
