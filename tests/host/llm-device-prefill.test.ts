/**
 * Prefill through the LLM device: the host sends the prompt in blocks of the device's prefill_block (one weight
 * pass each; the sequencer replays every token's embedding row, then the decode tail), then decodes token by token.
 * Expected values come from the golden decoder run token by token. The configuration is the one `llm run --device
 * sim` builds (sim-small hardware with its device block 8, engine defaults: S + W = 128), so the Verilator build is
 * shared with the CLI tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../generator/llm/checkpoint';
import { shapeOf } from '../../generator/llm/model-spec';
import { deviceEngineParams, deviceHwParams } from '../../generator/llm/device/engine-params';
import { layoutRevision, presetLatency } from '../../generator/llm/device/layout';
import { llmDeviceTop } from '../../generator/llm/device/top';
import { generateGreedy } from '../../generator/llm/float-model';
import { llmPresetConfig, type LlmEngineConfig } from '../../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../../generator/llm/golden/decoder';
import { quantizeModel, type QuantModel } from '../../generator/llm/quant/model';
import { linkConfig } from '../../generator/link/config';
import { linkBoardTop } from '../../generator/link/top';
import { Device, DeviceMismatchError } from '../../host/link/device';
import { FramedOps } from '../../host/link/ops';
import { VirtualBoardTransport, type VirtualBoardBuild } from '../../host/link/vboard';
import { SIM_STEP_CYCLES } from '../../host/llm/device-run';
import { llmDeviceLinked, LlmDeviceRunner, type LlmDeviceLinked } from '../../host/llm/device-runner';
import { goldenGreedyLogits } from '../generator/llm/golden-run';
import { hasModel, MODEL } from '../generator/llm/helpers';
import { Rng } from '../../generator/util/rng';

/** A fixed pseudo-random prompt: BOS, then ids in [2, 511]. */
function promptOf(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  return [1, ...Array.from({ length: n - 1 }, () => rng.int(2, 511))];
}

describe.skipIf(!hasModel)('prompts prefilled in blocks on the LLM device (sim-small, device block 8)', () => {
  let cfg: LlmEngineConfig;
  let qm: QuantModel;
  let linked: LlmDeviceLinked;
  let vb: VirtualBoardBuild;
  beforeAll(async () => {
    const ckpt = loadCheckpoint(MODEL);
    cfg = llmPresetConfig('sim-small', shapeOf(ckpt.dims), { hw: deviceHwParams('sim-small'), engine: deviceEngineParams('sim-small') });
    qm = quantizeModel(ckpt, cfg.engine, { search: 'minmax' });
    linked = llmDeviceLinked(cfg, { latency: presetLatency('sim-small'), phy: 'bytes' });
    vb = await linked.virtualBoard();
  }, 1_500_000);

  let dev: Device;
  let runner: LlmDeviceRunner;
  beforeAll(async () => {
    dev = await Device.open(new FramedOps(new VirtualBoardTransport(vb, { stepCycles: SIM_STEP_CYCLES })), linked.regmap);
    runner = new LlmDeviceRunner(dev, linked.d);
    await runner.load(runner.image(qm));
  }, 300_000);
  afterAll(async () => {
    await dev?.close();
  });

  it('a prompt longer than sinks + window in blocks of 8 (the last partial), then 4 generated tokens: ids and logits equal the token-by-token golden decoder', async () => {
    const prompt = promptOf(cfg.engine.cacheSlots + 5, 7); // 133 = 16 blocks of 8 + 5
    const steps = prompt.length + 4;
    expect(await runner.prefillBlock()).toBe(8);
    const { ids, logits: gl } = goldenGreedyLogits(qm, prompt, steps);
    const gen = await runner.generate(prompt, steps, { logits: true });
    expect(gen.prompt).toMatchObject({ block: 8, blocks: 17, tokens: prompt.length });
    expect(gen.steps.map((s) => s.tokens)).toEqual([...Array<number>(16).fill(8), 5, 1, 1, 1, 1]);
    expect(gen.ids).toEqual(ids);
    for (const s of gen.steps) {
      const bad = gl[s.pos]!.findIndex((v, i) => v !== s.logits![i]);
      expect(bad, `position ${s.pos} (${s.tokens}-token step): logit ${bad}`).toBe(-1);
      expect(s.id).toBe(gl[s.pos]!.indexOf(Math.max(...gl[s.pos]!)));
    }
    // one weight pass per block: a block of 8 costs less than 8 decode steps
    const decode = gen.steps.at(-1)!.cycles;
    expect(gen.steps[0]!.cycles).toBeLessThan(8 * decode);
    // a block larger than the device's is refused before anything is sent
    await expect(runner.block(prompt.slice(0, 9), true)).rejects.toThrow(/1 to 8/);
    await expect(runner.generate(prompt, 4, { prefill: 9 })).rejects.toThrow(/prefill block 9.*1 to 8/);
  }, 900_000);

  it('blocks of 3 and token by token over the same device give the same ids, and the prefilled prompt takes fewer cycles', async () => {
    const prompt = promptOf(16, 3);
    const want = generateGreedy(new GoldenDecoder(qm), prompt, 18);
    const by3 = await runner.generate(prompt, 18, { prefill: 3 });
    const by1 = await runner.generate(prompt, 18, { prefill: 1 });
    expect(by3.ids).toEqual(want);
    expect(by1.ids).toEqual(want);
    expect(by3.prompt).toMatchObject({ block: 3, blocks: 6 });
    expect(by1.prompt).toMatchObject({ block: 1, blocks: 16 });
    expect(by3.prompt.cycles).toBeLessThan(by1.prompt.cycles);
  }, 900_000);

  it('a host of llmdev protocol revision 1 (token by token only) is refused by this bitstream (the version check)', async () => {
    const oldHost = linkBoardTop(linked.core, linkConfig(), { ...llmDeviceTop(linked.d), revision: layoutRevision(linked.d, 1) }).regmap;
    expect(oldHost.version).not.toBe(linked.regmap.version);
    const err = await Device.open(new FramedOps(new VirtualBoardTransport(vb, { stepCycles: SIM_STEP_CYCLES })), oldHost).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceMismatchError);
    expect(String(err)).toMatch(/host expects 0x[0-9a-f]{8}.*rebuild the bitstream/);
  }, 300_000);
});
