/**
 * A mixed-precision model (4-bit layer 0 and every wq, the rest W2) on the LLM device: the weight image follows the
 * schedule (two digit-plane passes per 4-bit matrix), the sequencer replays it, and every logit equals the golden
 * decoder. Prefill blocks do not run 4-bit matrices (hw-config refuses), so the device is built with prefillBlock 1.
 */
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../generator/llm/checkpoint';
import { ENGINE_DEFAULTS, expandW4Spec, shapeOf } from '../../generator/llm/model-spec';
import { presetLatency } from '../../generator/llm/device/layout';
import { layoutRevision } from '../../generator/llm/device/layout';
import { deviceHwParams } from '../../generator/llm/device/engine-params';
import { llmPresetConfig } from '../../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../../generator/llm/golden/decoder';
import { quantizeModel } from '../../generator/llm/quant/model';
import { Device } from '../../host/link/device';
import { FramedOps } from '../../host/link/ops';
import { VirtualBoardTransport } from '../../host/link/vboard';
import { SIM_STEP_CYCLES } from '../../host/llm/device-run';
import { llmDeviceLinked, LlmDeviceRunner } from '../../host/llm/device-runner';
import { hasModel, MODEL } from '../generator/llm/helpers';

describe.skipIf(!hasModel)('mixed-precision stories260K on the LLM device (sim-small, prefillBlock 1)', () => {
  it('loads the schedule-ordered image and decodes 3 tokens whose logits equal the golden decoder; a W2 device has another layout revision', async () => {
    const ckpt = loadCheckpoint(MODEL);
    const shape = shapeOf(ckpt.dims);
    const engine = { ...ENGINE_DEFAULTS, w4Matrices: expandW4Spec('0.*,*.wq', shape.nLayers) };
    const hw = deviceHwParams('sim-small', { prefillBlock: 1 });
    const cfg = llmPresetConfig('sim-small', shape, { hw, engine });
    const qm = quantizeModel(ckpt, cfg.engine, { search: 'minmax' });
    const linked = llmDeviceLinked(cfg, { latency: presetLatency('sim-small'), phy: 'bytes' });
    const w2 = llmDeviceLinked(llmPresetConfig('sim-small', shape, { hw, engine: ENGINE_DEFAULTS }), { latency: presetLatency('sim-small'), phy: 'bytes' });
    expect(layoutRevision(linked.d)).not.toBe(layoutRevision(w2.d));
    const inner = new FramedOps(new VirtualBoardTransport(await linked.virtualBoard(), { stepCycles: SIM_STEP_CYCLES }));
    await inner.start();
    try {
      inner.configure((await inner.readReg(2)) >>> 0);
      const dev = await Device.open(inner, linked.regmap);
      const runner = new LlmDeviceRunner(dev, linked.d);
      const img = runner.image(qm);
      expect((await runner.load(img)).bytes).toBe(img.bytes);
      const gen = await runner.generate([1, 403], 3, { logits: true });
      const g = new GoldenDecoder(qm);
      let token = 1;
      for (let p = 0; p < 3; p++) {
        expect(gen.steps[p]!.logits).toEqual(Array.from(g.forward(token, p)));
        token = p === 0 ? 403 : gen.ids[p]!;
      }
      await dev.close();
    } finally {
      await inner.close();
    }
  }, 1_800_000);
});
