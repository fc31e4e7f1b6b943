/**
 * The LLM device on the `tiny` preset (2x8 GEMV, vpar 2, 32-bit weight port, memory latency 2), decoded past its
 * S+W = 32 cache slots on the byte-bridged virtual board: ids equal the golden decoder's, and the first steps' logits.
 */
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../generator/llm/checkpoint';
import { shapeOf } from '../../generator/llm/model-spec';
import { presetLatency } from '../../generator/llm/device/layout';
import { llmPresetConfig } from '../../generator/llm/engine/hw-config';
import { generateGreedy } from '../../generator/llm/float-model';
import { GoldenDecoder } from '../../generator/llm/golden/decoder';
import { quantizeModel } from '../../generator/llm/quant/model';
import { Device } from '../../host/link/device';
import { FramedOps } from '../../host/link/ops';
import { VirtualBoardTransport } from '../../host/link/vboard';
import { SIM_STEP_CYCLES } from '../../host/llm/device-run';
import { llmDeviceLinked, LlmDeviceRunner } from '../../host/llm/device-runner';
import { hasModel, MODEL } from '../generator/llm/helpers';

describe.skipIf(!hasModel)('LLM device, tiny preset, past the Λ-cache window', () => {
  it('decodes 36 tokens equal to the golden decoder (ring wraps, sinks stay)', async () => {
    const ckpt = loadCheckpoint(MODEL);
    const cfg = llmPresetConfig('tiny', shapeOf(ckpt.dims));
    const qm = quantizeModel(ckpt, cfg.engine, { search: 'mse' });
    const linked = llmDeviceLinked(cfg, { latency: presetLatency('tiny'), phy: 'bytes' });
    const board = new VirtualBoardTransport(await linked.virtualBoard(), { stepCycles: SIM_STEP_CYCLES });
    const dev = await Device.open(new FramedOps(board), linked.regmap);
    try {
      const runner = new LlmDeviceRunner(dev, linked.d);
      const img = runner.image(qm);
      expect((await runner.load(img)).bytes).toBe(img.bytes);
      const steps = cfg.engine.cacheSlots + 4;
      const prompt = [1, 403, 27, 300];
      const gen = await runner.generate(prompt, steps);
      expect(gen.ids).toEqual(generateGreedy(new GoldenDecoder(qm), prompt, steps));
      // Full logits of a restarted sequence, against the golden decoder.
      const g = new GoldenDecoder(qm);
      await runner.setLogits(true);
      let token = 1;
      for (let p = 0; p < 2; p++) {
        const s = await runner.step(token, p === 0, { logits: true });
        expect(s.logits).toEqual(Array.from(g.forward(token, p)));
        token = s.id;
      }
    } finally {
      await dev.close();
    }
  }, 1_800_000);
});
