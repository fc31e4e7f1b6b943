/**
 * `llm run --device xdma:N` path: the XDMA transport (positional writes/reads on the card's character devices)
 * against the file-backed virtual card, whose far side is the Verilator virtual board of the LLM device.
 * Weights written to card memory and verified by readback, then 5 tokens decoded past a prompt.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../generator/llm/checkpoint';
import { shapeOf } from '../../generator/llm/engine-config';
import { llmPresetConfig } from '../../generator/llm/engine/config';
import { generateGreedy } from '../../generator/llm/float-model';
import { GoldenDecoder } from '../../generator/llm/golden/decoder';
import { quantizeModel } from '../../generator/llm/quant/model';
import { Device } from '../../host/link/device';
import { FramedOps } from '../../host/link/ops';
import { VirtualBoardTransport } from '../../host/link/vboard';
import { XdmaOps } from '../../host/link/xdma';
import { XdmaVirtualBoard } from '../../host/link/xdma-board';
import { llmDeviceLinked, LlmDeviceRunner } from '../../host/llm/device-runner';
import { hasModel, MODEL } from '../generator/llm/helpers';

describe.skipIf(!hasModel)('LLM device over the xdma transport (file-backed virtual card)', () => {
  it('loads, verifies and decodes ids equal to the golden decoder', async () => {
    const ckpt = loadCheckpoint(MODEL);
    const cfg = llmPresetConfig('tiny', shapeOf(ckpt.dims));
    const qm = quantizeModel(ckpt, cfg.engine, { search: 'minmax' });
    const linked = llmDeviceLinked(cfg, { latency: 2 });
    const vb = await linked.virtualBoard();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lutforge-llm-xdma-'));
    const inner = new FramedOps(new VirtualBoardTransport(vb));
    await inner.start();
    const card = await XdmaVirtualBoard.serve(dir, 0, inner);
    try {
      const ops = await XdmaOps.open(`xdma:0@${dir}`);
      inner.configure((await ops.readReg(2)) >>> 0);
      const dev = await Device.open(ops, linked.regmap);
      const runner = new LlmDeviceRunner(dev, linked.d);
      const img = runner.image(qm);
      const st = await runner.load(img);
      expect(st.bytes).toBe(img.bytes);
      const prompt = [1, 403, 27];
      const gen = await runner.generate(prompt, 5);
      const g = new GoldenDecoder(qm);
      expect(gen.ids).toEqual(generateGreedy(g, prompt, 5));
      await dev.close();
    } finally {
      await card.close();
      await inner.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 1_800_000);
});
