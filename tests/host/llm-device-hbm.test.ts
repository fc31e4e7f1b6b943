/**
 * The AXI llmdev on the virtual U280 card: 4 AXI4 read masters, each on its own HBM pseudo-channel model (seeded
 * ARREADY/RVALID stalls, extra latency, Shuhai-derived page/refresh timing). stories260K's per-channel image is
 * written over the link's memory bus (XDMA's path into HBM), read back, decoded, and compared with the golden
 * decoder; an injected SLVERR is reported with its channel, and a corrupted HBM word is caught.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../generator/llm/checkpoint';
import { shapeOf } from '../../generator/llm/model-spec';
import { deviceEngineParams, deviceHwParams } from '../../generator/llm/device/engine-params';
import { generateGreedy } from '../../generator/llm/float-model';
import { llmPresetConfig, type LlmEngineConfig } from '../../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../../generator/llm/golden/decoder';
import { quantizeModel, type QuantModel } from '../../generator/llm/quant/model';
import { Device } from '../../host/link/device';
import { FramedOps } from '../../host/link/ops';
import { VirtualBoardTransport, type VirtualBoardBuild } from '../../host/link/vboard';
import { XdmaOps } from '../../host/link/xdma';
import { XdmaVirtualBoard } from '../../host/link/xdma-board';
import { SIM_HBM_KNOBS, SIM_STEP_CYCLES } from '../../host/llm/device-run';
import { AxiError, llmDeviceLinked, LlmDeviceRunner, type LlmDeviceLinked } from '../../host/llm/device-runner';
import { goldenGreedyLogits } from '../generator/llm/golden-run';
import { hasModel, MODEL, REPO } from '../generator/llm/helpers';

const run = promisify(execFile);

describe.skipIf(!hasModel)('stories260K on the AXI llmdev with 4 HBM pseudo-channel models', () => {
  let cfg: LlmEngineConfig;
  let qm: QuantModel;
  let linked: LlmDeviceLinked;
  let vb: VirtualBoardBuild;
  beforeAll(async () => {
    const ckpt = loadCheckpoint(MODEL);
    cfg = llmPresetConfig('sim-small', shapeOf(ckpt.dims), { hw: deviceHwParams('sim-small'), engine: deviceEngineParams('sim-small') });
    qm = quantizeModel(ckpt, cfg.engine, { search: 'minmax' });
    // The configuration `llm run --device sim --memory hbm` builds.
    linked = llmDeviceLinked(cfg, { latency: 8, phy: 'bytes', hbm: { masters: 4, axiBits: 64 } });
    vb = await linked.virtualBoard();
  }, 1_500_000);

  async function session(knobs: Record<string, number>): Promise<{ dev: Device; runner: LlmDeviceRunner }> {
    const dev = await Device.open(new FramedOps(new VirtualBoardTransport(vb, { stepCycles: SIM_STEP_CYCLES })), linked.regmap);
    for (const [r, v] of Object.entries(knobs)) await dev.writeReg(r, v);
    const runner = new LlmDeviceRunner(dev, linked.d);
    await runner.load(runner.image(qm));
    return { dev, runner };
  }

  it('loads and verifies every pseudo-channel, then decodes with ids and logits equal to the golden decoder under AXI stalls', async () => {
    const { dev, runner } = await session({ ...SIM_HBM_KNOBS, hbm_seed: 7 });
    try {
      const { ids, logits: gl } = goldenGreedyLogits(qm, [1], 4);
      const gen = await runner.generate([1], 4, { logits: true });
      expect(gen.ids).toEqual(ids);
      gen.steps.forEach((s, p) => expect(s.logits).toEqual(gl[p]));
      expect(await dev.readReg('axi_err')).toBe(0);
    } finally {
      await dev.close();
    }
  }, 900_000);

  it('a 21-token prompt in blocks of 8, 8, 5 through the AXI readers under stalls, then 3 generated tokens: ids and logits equal the token-by-token golden decoder', async () => {
    const { dev, runner } = await session({ ...SIM_HBM_KNOBS, hbm_seed: 9 });
    try {
      const prompt = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200, 33, 90, 18, 402, 5, 77, 260];
      const { ids, logits: gl } = goldenGreedyLogits(qm, prompt, prompt.length + 3);
      const gen = await runner.generate(prompt, prompt.length + 3, { logits: true });
      expect(gen.ids).toEqual(ids);
      expect(gen.steps.map((s) => [s.pos, s.tokens])).toEqual([[7, 8], [15, 8], [20, 5], [21, 1], [22, 1], [23, 1]]);
      for (const s of gen.steps) expect(s.logits, `position ${s.pos}`).toEqual(gl[s.pos]);
      expect(await dev.readReg('axi_err')).toBe(0);
    } finally {
      await dev.close();
    }
  }, 900_000);

  it('an injected SLVERR on pseudo-channel 2 stops the decode with the channel and stream named', async () => {
    const { dev, runner } = await session({ hbm_fault_pc: 2, hbm_err_at: 300 });
    try {
      const err = await runner.generate([1], 2).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(AxiError);
      expect((err as AxiError).channel).toBe(2);
      expect((err as Error).message).toMatch(/SLVERR on HBM pseudo-channel 2/);
    } finally {
      await dev.close();
    }
  }, 900_000);

  it('a corrupted HBM word (channel 1 returns one beat inverted) changes the logits, so the golden check catches it', async () => {
    // Beat 2500 of channel 1's ~3,300 per step lies in the classifier's weight words.
    const { dev, runner } = await session({ hbm_fault_pc: 1, hbm_flip_at: 2500 });
    try {
      const gen = await runner.generate([1], 1, { logits: true });
      const want = Array.from(new GoldenDecoder(qm).forward(1, 0));
      expect(await dev.readReg('axi_err')).toBe(0); // a corrupted word is not an AXI error: only the data check sees it
      expect(gen.steps[0]!.logits).not.toEqual(want);
    } finally {
      await dev.close();
    }
  }, 900_000);

  it('over xdma (virtual card): each pseudo-channel written with h2c at k x 256 MB, read back with c2h, then decoded', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lutforge-hbm-xdma-'));
    const inner = new FramedOps(new VirtualBoardTransport(vb, { stepCycles: SIM_STEP_CYCLES }));
    await inner.start();
    const card = await XdmaVirtualBoard.serve(dir, 0, inner);
    try {
      const ops = await XdmaOps.open(`xdma:0@${dir}`);
      inner.configure((await ops.readReg(2)) >>> 0);
      const dev = await Device.open(ops, linked.regmap);
      const runner = new LlmDeviceRunner(dev, linked.d);
      const img = runner.image(qm);
      expect(img.regions.map((r) => r.base * 4)).toEqual([0, 1, 2, 3].map((k) => k * 256 * 2 ** 20));
      expect((await runner.load(img)).bytes).toBe(img.bytes);
      const prompt = [1, 403, 27];
      expect((await runner.generate(prompt, 5)).ids).toEqual(generateGreedy(new GoldenDecoder(qm), prompt, 5));
      await dev.close();
    } finally {
      await card.close();
      await inner.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 900_000);

  it('`llm run --device sim --memory hbm --tokens 16` gives the golden ids (exit 0, match true)', async () => {
    const r = await run('npx', ['lutforge', 'llm', 'run', '--device', 'sim', '--memory', 'hbm', '--model', MODEL, '--tokens', '16', '--search', 'minmax', '--json'], { cwd: REPO, maxBuffer: 1 << 24, timeout: 900_000 });
    const j = JSON.parse(r.stdout);
    expect(j.memory).toBe('hbm');
    expect(j.ids).toHaveLength(16);
    expect(j.golden.match).toBe(true);
    expect(j.golden.ids).toEqual(j.ids);
  }, 900_000);
});
