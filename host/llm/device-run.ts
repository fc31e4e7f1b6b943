/**
 * `llm run --device DEV`: quantise (exactly as the golden engine does), pack, transfer + readback-verify the weight
 * image, decode greedily on the device, and compare ids (and logits with --logits) with the golden decoder.
 */
import type { LlamaCheckpoint } from '../../generator/llm/checkpoint';
import { describeEngine, shapeOf, type EngineConfig, type EngineParams } from '../../generator/llm/model-spec';
import { llmPresetConfig } from '../../generator/llm/engine/hw-config';
import { presetLatency } from '../../generator/llm/device/layout';
import { deviceEngineParams, deviceHwParams } from '../../generator/llm/device/engine-params';
import { generateGreedy } from '../../generator/llm/float-model';
import { GoldenDecoder } from '../../generator/llm/golden/decoder';
import type { QuantModel } from '../../generator/llm/quant/model';
import { InputError } from '../../generator/util/errors';
import { Device } from '../link/device';
import { openDevice } from '../link/open';
import { FramedOps } from '../link/ops';
import { VirtualBoardTransport } from '../link/vboard';
import { progressBar } from '../link/progress';
import { llmDeviceLinked, LlmDeviceRunner, type PromptUse } from './device-runner';

export const DEVICE_RUN_DEFAULTS = { preset: 'sim-small' } as const;

/** Cycles per bridge step of the `sim` board: a 64-word readback takes ~600 cycles on the byte-bridged link. */
export const SIM_STEP_CYCLES = 1024;

/** `--device sim --memory hbm`: seed, stall probability (/256) on ARREADY and RVALID, extra latency mask. */
export const SIM_HBM_KNOBS = { hbm_seed: 1, hbm_stall: 24, hbm_extra: 15 } as const;

export interface DeviceRunOptions {
  ckpt: LlamaCheckpoint;
  device: string;
  preset: string;
  /** Engine parameters (scheme, group, Λ window): the same the golden engine gets from the command line. */
  engine: Partial<EngineParams>;
  quantize: (cfg: EngineConfig) => QuantModel;
  prompt: number[];
  steps: number;
  latency?: number;
  /** Weight memory of the device: on-chip block RAM, or HBM behind AXI4 masters (the U280 design). */
  memory?: 'bram' | 'hbm';
  masters?: number;
  logits?: boolean;
  /** Prompt tokens per prefill block (default: the device's prefill_block; 1 = token by token). */
  prefill?: number;
  check?: boolean;
  progress?: boolean;
}

export interface DeviceRunResult {
  device: string;
  design: string;
  preset: string;
  config: string;
  prompt: number[];
  ids: number[];
  transfer: { bytes: number; seconds: number; verifySeconds: number; bytesPerSecond: number; projectedGen3x16Seconds: number };
  /** How the prompt was consumed: block size, blocks, prompt positions, device cycles for them (step_cycles). */
  promptConsumed: PromptUse;
  /** Device cycles of each token-by-token step after the prompt. */
  cyclesPerToken: number[];
  /** All device cycles (prompt blocks and decode steps) per position run. */
  meanCyclesPerToken: number;
  memoryLatency: number;
  memory: 'bram' | 'hbm';
  tokensPerSecond: number;
  golden: { ids: number[]; match: boolean; logitsMatch?: boolean } | null;
}

export async function runOnDevice(o: DeviceRunOptions): Promise<DeviceRunResult> {
  // The preset gives the hardware; engine parameters start from the golden engine's defaults, not the preset's,
  // so `--device` and `--engine golden` with the same flags decode the same model.
  const engine = deviceEngineParams(o.preset, o.engine);
  const cfg = llmPresetConfig(o.preset, shapeOf(o.ckpt.dims), { hw: deviceHwParams(o.preset, {}, engine), engine });
  const qm = o.quantize(cfg.engine);
  const latency = o.latency ?? presetLatency(o.preset);
  const hbm = o.memory === 'hbm' ? { masters: o.masters ?? (o.preset === 'u280' ? 32 : 4), axiBits: o.preset === 'u280' ? 512 : 64 } : undefined;
  const linked = llmDeviceLinked(cfg, { latency, phy: 'bytes', hbm });
  const most = linked.d.prefillBlock;
  if (o.prefill !== undefined && (!Number.isInteger(o.prefill) || o.prefill < 1 || o.prefill > most))
    throw new InputError(`prefill block ${o.prefill}: the device takes 1 to ${most} tokens per block (its prefill_block; --no-prefill for token by token)`);
  // `sim`: the byte-bridged virtual board, stepped in short slices (the transfer is round-trip bound, not line bound).
  const dev =
    o.device === 'sim'
      ? await Device.open(new FramedOps(new VirtualBoardTransport(await linked.virtualBoard(), { stepCycles: SIM_STEP_CYCLES })), linked.regmap)
      : await openDevice(o.device, linked.regmap);
  const runner = new LlmDeviceRunner(dev, linked.d);
  // The virtual card's HBM model runs with seeded random AXI stalls and extra latency, so the readers are
  // exercised the way a busy HBM controller would (docs/llm-device.md#hbm-model).
  if (hbm && o.device === 'sim') for (const [r, v] of Object.entries(SIM_HBM_KNOBS)) await dev.writeReg(r, v);
  const bar = progressBar('weights (write + verify)', o.progress !== false && process.stderr.isTTY === true);
  try {
    const img = runner.image(qm);
    const st = await runner.load(img, { progress: bar.update });
    bar.stop();
    const t0 = performance.now();
    const gen = await runner.generate(o.prompt, o.steps, { logits: o.logits, prefill: o.prefill });
    const seconds = (performance.now() - t0) / 1000;
    let golden: DeviceRunResult['golden'] = null;
    if (o.check !== false) {
      const g = new GoldenDecoder(qm);
      const gl: Float64Array[] = [];
      // The decoder reuses its logits buffer: keep a copy per step.
      const ids = generateGreedy({ forward: (t, p) => (gl[p] = Float64Array.from(g.forward(t, p))) }, o.prompt, o.steps);
      const match = ids.length === gen.ids.length && ids.every((x, i) => x === gen.ids[i]);
      // A block's logits are its last token's: compare each step at its position.
      const logitsMatch = o.logits ? gen.steps.every((s) => !!s.logits && s.logits.every((v, i) => v === gl[s.pos]![i])) : undefined;
      golden = { ids, match: match && logitsMatch !== false, ...(logitsMatch !== undefined && { logitsMatch }) };
    }
    const cyc = gen.steps.slice(gen.prompt.blocks).map((s) => s.cycles);
    return {
      device: o.device,
      design: linked.d.design,
      preset: o.preset,
      config: describeEngine(cfg.engine),
      prompt: o.prompt,
      ids: gen.ids,
      // Write + readback of this image at PCIe Gen3 x16 DMA speed (~12 GB/s), for comparison with the measured link.
      transfer: { ...st, bytesPerSecond: st.bytes / Math.max(1e-9, st.seconds), projectedGen3x16Seconds: (2 * st.bytes) / 12e9 },
      promptConsumed: gen.prompt,
      cyclesPerToken: cyc,
      meanCyclesPerToken: (gen.prompt.cycles + cyc.reduce((a, b) => a + b, 0)) / o.steps,
      memoryLatency: latency,
      memory: o.memory ?? 'bram',
      tokensPerSecond: o.steps / seconds,
      golden,
    };
  } finally {
    bar.stop();
    await dev.close();
  }
}
