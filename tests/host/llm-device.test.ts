/**
 * `llm run --device`: stories260K's weights streamed into the LLM device's weight memory, verified by readback,
 * then decoded on the device (engine fed by the generated weight sequencer) and compared with the golden decoder.
 * Over the real serial stack (serialport on one end of a socat pty pair, the other end bridged byte for byte to
 * the UART of the Verilator-simulated top), over xdma (file-backed virtual card), and through the CLI on the default
 * `sim` transport (byte-bridged virtual board).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../generator/llm/checkpoint';
import { ENGINE_DEFAULTS, shapeOf } from '../../generator/llm/model-spec';
import { presetLatency } from '../../generator/llm/device/layout';
import { deviceHwParams } from '../../generator/llm/device/engine-params';
import { generateGreedy } from '../../generator/llm/float-model';
import { llmPresetConfig, type LlmEngineConfig } from '../../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../../generator/llm/golden/decoder';
import { quantizeModel, type QuantModel } from '../../generator/llm/quant/model';
import { Device } from '../../host/link/device';
import { FramedOps } from '../../host/link/ops';
import { PtyBridge, PtyPair } from '../../host/link/pty';
import { SerialTransport } from '../../host/link/serial';
import { VirtualBoardTransport, type VirtualBoardBuild } from '../../host/link/vboard';
import { XdmaOps } from '../../host/link/xdma';
import { XdmaVirtualBoard } from '../../host/link/xdma-board';
import { SIM_STEP_CYCLES } from '../../host/llm/device-run';
import { llmDeviceLinked, LlmDeviceRunner, type LlmDeviceLinked } from '../../host/llm/device-runner';
import { hasModel, MODEL, REPO } from '../generator/llm/helpers';

const run = promisify(execFile);

describe.skipIf(!hasModel)('stories260K decoded on the LLM device (weight sequencer behind the link)', () => {
  let cfg: LlmEngineConfig;
  let qm: QuantModel;
  let linked: LlmDeviceLinked;
  let vb: VirtualBoardBuild;
  beforeAll(async () => {
    const ckpt = loadCheckpoint(MODEL);
    cfg = llmPresetConfig('sim-small', shapeOf(ckpt.dims));
    qm = quantizeModel(ckpt, cfg.engine, { search: 'minmax' });
    linked = llmDeviceLinked(cfg, { latency: 8 });
    vb = await linked.virtualBoard();
  }, 900_000);

  describe('over the serial stack (serialport <-> socat pty <-> Verilator UART)', () => {
    let pty: PtyPair;
    beforeAll(async () => {
      pty = await PtyPair.open();
    });
    afterAll(async () => {
      await pty?.close();
    });

    it('streams the weights, verifies them by readback, and decodes 4 tokens whose ids and logits equal the golden decoder', async () => {
      const board = new VirtualBoardTransport(vb);
      const bridge = await PtyBridge.open(pty.device, board);
      const dev = await Device.open(new FramedOps(await SerialTransport.open(pty.host, 115_200)), linked.regmap);
      try {
        const runner = new LlmDeviceRunner(dev, linked.d);
        const img = runner.image(qm);
        let lastProgress = 0;
        const st = await runner.load(img, { progress: (d) => (lastProgress = d) });
        expect(st.bytes).toBe(img.bytes);
        expect(st.bytes).toBeGreaterThan(100_000);
        expect(lastProgress).toBe(2 * img.bytes);

        const steps = 4;
        const gen = await runner.generate([1], steps, { logits: true });
        const g = new GoldenDecoder(qm);
        let token = 1;
        for (let p = 0; p < steps; p++) {
          const want = Array.from(g.forward(token, p));
          const s = gen.steps[p]!;
          expect(s.logits).toEqual(want);
          const top = Math.max(...want);
          expect(s.id).toBe(want.indexOf(top));
          expect(s.logit).toBe(top);
          expect(s.cycles).toBeGreaterThan(0);
          token = gen.ids[p]!;
          expect(token).toBe(s.id);
        }

        // The comparison can fail: corrupt weight words in device memory and the same position decodes differently.
        // (The last w words: the classifier's top digit plane, so the logits themselves change.)
        const wImg = img.regions[0]!.words;
        const at = wImg.length - 16;
        const bad = Uint32Array.from(wImg.subarray(at), (x) => (x ^ 0xaaaaaaaa) >>> 0);
        await dev.ops.memWrite(linked.d.regions.w.base + at, new Uint8Array(bad.buffer));
        await dev.ops.flush();
        const again = await runner.step(1, true, { logits: true });
        expect(again.logits).not.toEqual(Array.from(new GoldenDecoder(qm).forward(1, 0)));
      } finally {
        await dev.close();
        await bridge.close();
        await board.close();
      }
    }, 900_000);
  });

  it('over xdma (file-backed virtual card): weights verified, ids past a prompt equal the golden decoder', async () => {
    // The configuration `llm run --device sim` builds (engine defaults on sim-small hardware, byte-bridged board).
    const ckpt = loadCheckpoint(MODEL);
    const cfg2 = llmPresetConfig('sim-small', shapeOf(ckpt.dims), { hw: deviceHwParams('sim-small'), engine: ENGINE_DEFAULTS });
    const qm2 = quantizeModel(ckpt, cfg2.engine, { search: 'minmax' });
    const linked2 = llmDeviceLinked(cfg2, { latency: presetLatency('sim-small'), phy: 'bytes' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lutforge-llm-xdma-'));
    const inner = new FramedOps(new VirtualBoardTransport(await linked2.virtualBoard(), { stepCycles: SIM_STEP_CYCLES }));
    await inner.start();
    const card = await XdmaVirtualBoard.serve(dir, 0, inner);
    try {
      const ops = await XdmaOps.open(`xdma:0@${dir}`);
      inner.configure((await ops.readReg(2)) >>> 0);
      const dev = await Device.open(ops, linked2.regmap);
      const runner = new LlmDeviceRunner(dev, linked2.d);
      const img = runner.image(qm2);
      expect((await runner.load(img)).bytes).toBe(img.bytes);
      const prompt = [1, 403, 27];
      const gen = await runner.generate(prompt, 6);
      expect(gen.ids).toEqual(generateGreedy(new GoldenDecoder(qm2), prompt, 6));
      expect(gen.prompt).toMatchObject({ block: 8, blocks: 1 });
      await dev.close();
    } finally {
      await card.close();
      await inner.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 900_000);

  it('`llm run --device sim` (the default transport) prefills --prompt-ids by default and gives the ids of --no-prefill and of `llm run --engine golden`', async () => {
    const prompt = '1,403,27,300,12,499,64,8,250,111,7,350';
    const common = ['--model', MODEL, '--tokens', '16', '--prompt-ids', prompt, '--search', 'minmax', '--no-calib', '--json'];
    const cli = (args: string[]) => run('npx', ['lutforge', 'llm', 'run', ...args], { cwd: REPO, maxBuffer: 1 << 24, timeout: 900_000 });
    const golden = JSON.parse((await cli([...common, '--engine', 'golden', '--no-prefill'])).stdout);
    const device = JSON.parse((await cli([...common, '--device', 'sim', '--preset', 'sim-small'])).stdout);
    const byToken = JSON.parse((await cli([...common, '--device', 'sim', '--preset', 'sim-small', '--no-prefill'])).stdout);
    expect(golden.ids).toHaveLength(16);
    expect(device.ids).toEqual(golden.ids);
    expect(byToken.ids).toEqual(golden.ids);
    expect(device.golden.match).toBe(true);
    expect(device.transfer.bytes).toBeGreaterThan(100_000);
    // 12 prompt positions in blocks of the device's 8 (one partial), then 4 decode steps
    expect(device.prefill).toEqual({ block: 8, blocks: 2 });
    expect(device.promptConsumed).toMatchObject({ block: 8, blocks: 2, tokens: 12 });
    expect(device.cyclesPerToken).toHaveLength(4);
    expect(byToken.prefill).toBe(false);
    expect(byToken.promptConsumed).toMatchObject({ block: 1, blocks: 12, tokens: 12 });
    expect(device.promptConsumed.cycles).toBeLessThan(byToken.promptConsumed.cycles);
    const bad = await cli([...common, '--device', 'sim', '--prefill', '16']).catch((e: { stdout: string }) => e);
    expect(JSON.parse(bad.stdout).message).toMatch(/prefill block 16: the device takes 1 to 8/);
  }, 900_000);

  it('`llm run --device sim --quant` decodes the shipped QAT model with the ids of `llm run --engine golden --quant`', async () => {
    const quant = path.join(REPO, 'models/stories260K-W2A8KV4-qat.lfq');
    const common = ['--model', MODEL, '--tokens', '6', '--quant', quant, '--json'];
    const cli = (args: string[]) => run('npx', ['lutforge', 'llm', 'run', ...args], { cwd: REPO, maxBuffer: 1 << 24, timeout: 900_000 });
    const golden = JSON.parse((await cli([...common, '--engine', 'golden'])).stdout);
    const device = JSON.parse((await cli([...common, '--device', 'sim', '--preset', 'sim-small', '--logits'])).stdout);
    expect(device.ids).toEqual(golden.ids);
    expect(device.golden).toMatchObject({ match: true, logitsMatch: true });
    // A quantised file for another group size is refused by name.
    const bad = await cli([...common, '--engine', 'golden', '--w-group', '64']).catch((e: { stdout: string }) => e);
    expect(JSON.parse(bad.stdout).message).toMatch(/wGroup=32 codes; the engine is configured with wGroup=64/);
  }, 900_000);
});
