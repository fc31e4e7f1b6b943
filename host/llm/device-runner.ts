/**
 * Decoding on a device: the LLM device design (generator/llm/device: engine + weight sequencer + weight memory)
 * behind the link. pack -> transfer -> readback-verify the weight image once, then per token send only the id on
 * the `tok` channel and read the device's argmax (`next`: id + top logit), and the full logits when asked.
 */
import { linkConfig } from '../../generator/link/config';
import { linkBoardTop } from '../../generator/link/top';
import type { Module } from '../../generator/hdl';
import type { LlmEngineConfig } from '../../generator/llm/engine/hw-config';
import { logitBeats, unpackLogits } from '../../generator/llm/engine/pack';
import { deviceImage, type DeviceImage } from '../../generator/llm/device/image';
import { llmDeviceConfig, type LlmDeviceConfig } from '../../generator/llm/device/layout';
import { llmDeviceTop } from '../../generator/llm/device/top';
import { llmDeviceModule } from '../../generator/llm/device/sequencer';
import type { QuantModel } from '../../generator/llm/quant/model';
import type { RegMap } from '../../generator/regmap/regmap';
import { InputError } from '../../generator/util/errors';
import type { Device } from '../link/device';
import type { OpOptions } from '../link/ops';
import type { Progress } from '../link/progress';
import { buildVirtualBoard, type VirtualBoardBuild } from '../link/vboard';
import { hbmImage, PC_BYTES, type HbmParams } from '../../generator/llm/device/hbm-layout';
import { hbmSimTop } from '../../sim/designs/llmdev-hbm';

/** The virtual board's UART: 4 clocks per bit, the minimum mid-bit sampling allows (weights are ~170 KB). */
export const LLM_VBOARD_CLOCKS_PER_BIT = 4;

export interface LlmDeviceLinked {
  d: LlmDeviceConfig;
  core: Module;
  regmap: RegMap;
  /** Built on demand (sim device only). */
  virtualBoard: () => Promise<VirtualBoardBuild>;
}

/**
 * The device design for an engine config. `phy` picks the virtual board: 'uart' simulates the board's UART (what a
 * serial cable reaches); 'bytes' feeds the link's frame receiver one byte per clock (docs/protocol.md#virtual-board),
 * which makes the 172 KB weight transfer of `--device sim` ~10x faster to simulate. The framing is RTL either way.
 */
export function llmDeviceLinked(cfg: LlmEngineConfig, opts: { latency?: number; clocksPerBit?: number; phy?: 'uart' | 'bytes'; hbm?: HbmParams } = {}): LlmDeviceLinked {
  const d = llmDeviceConfig(cfg, { latency: opts.latency, ...(opts.hbm && { mem: 'axi' as const, hbm: opts.hbm }) });
  const core = llmDeviceModule(d);
  // With HBM the virtual card is the core plus the HBM channel models, whose host port is the link's memory bus.
  const simCore = d.hbm ? hbmSimTop(d, core) : core;
  const top = { ...llmDeviceTop(d), ...(d.hbm && { memWords: d.hbm.masters * (PC_BYTES / 4) }) };
  const { regmap } = linkBoardTop(simCore, linkConfig(), top);
  return {
    d,
    core,
    regmap,
    virtualBoard: () => buildVirtualBoard(simCore, { ...top, phy: opts.phy ?? 'uart' }, { simClocksPerBit: opts.clocksPerBit ?? LLM_VBOARD_CLOCKS_PER_BIT }),
  };
}

/** An AXI error response seen by the device's weight readers (status register axi_err / axi_err_info). */
export class AxiError extends Error {
  constructor(
    readonly channel: number,
    readonly resp: number,
    readonly stream: string,
  ) {
    super(`AXI ${resp === 3 ? 'DECERR' : 'SLVERR'} on HBM pseudo-channel ${channel} (${stream} stream): the weights read in this step are not trustworthy`);
    this.name = 'AxiError';
  }
}

export interface TransferStats {
  bytes: number;
  /** Seconds writing, seconds reading back and comparing. */
  seconds: number;
  verifySeconds: number;
}

export interface DeviceStep {
  /** The device's argmax and its logit (logitFrac fraction bits). */
  id: number;
  logit: number;
  /** Full logits, when requested. */
  logits?: number[];
  /** Device cycles from accepting the token to the last logit (step_cycles register). */
  cycles: number;
}

export class LlmDeviceRunner {
  constructor(
    readonly dev: Device,
    readonly d: LlmDeviceConfig,
  ) {}

  /** Packs `qm` with the engine's packer and the device layout. */
  image(qm: QuantModel): DeviceImage {
    const img = deviceImage(this.d, qm);
    if (!this.d.hbm) return img;
    // One part per pseudo-channel at its HBM card address (word address = byte address / 4).
    const parts = hbmImage(this.d, this.d.hbm, img);
    return { regions: parts.map((p) => ({ name: `pc${p.pc}`, base: p.cardAddr / 4, words: p.words })), bytes: parts.reduce((a, p) => a + 4 * p.words.length, 0) };
  }

  /** Writes every region and verifies it by readback (throws naming the first bad word). */
  async load(img: DeviceImage, opts: { progress?: Progress; signal?: AbortSignal } = {}): Promise<TransferStats> {
    const total = 2 * img.bytes;
    let before = 0;
    const st: TransferStats = { bytes: img.bytes, seconds: 0, verifySeconds: 0 };
    for (const r of img.regions) {
      const base = before;
      const res = await this.dev.writeMemory(r.base, r.words, { signal: opts.signal, progress: (done) => opts.progress?.(base + done, total) });
      before += 2 * r.words.length * 4;
      st.seconds += res.seconds;
      st.verifySeconds += res.verifySeconds;
    }
    opts.progress?.(total, total);
    return st;
  }

  async setLogits(on: boolean, o: OpOptions = {}): Promise<void> {
    await this.dev.writeReg('logits_en', on ? 1 : 0, o);
  }

  /** One decode step: token at the next position (restart = position 0). */
  async step(token: number, restart: boolean, opts: { logits?: boolean; signal?: AbortSignal } = {}): Promise<DeviceStep> {
    const cfg = this.d.engine;
    const V = cfg.engine.model.vocabSize;
    if (!Number.isInteger(token) || token < 0 || token >= V) throw new InputError(`token ${token} is outside the vocabulary [0, ${V})`);
    await this.dev.writeStream('tok', [BigInt(token) | (restart ? 1n << BigInt(this.d.idBits) : 0n)], { signal: opts.signal });
    let logits: number[] | undefined;
    if (opts.logits) logits = unpackLogits(cfg, (await this.dev.collectStream('logits', logitBeats(cfg), { signal: opts.signal })).data);
    const r = (await this.dev.collectStream('next', 1, { signal: opts.signal })).data[0]!;
    const logit = Number(BigInt.asIntN(32, r & 0xffffffffn));
    const id = Number(r >> 32n);
    const cycles = await this.dev.readReg('step_cycles', { signal: opts.signal });
    if (this.d.hbm && (await this.dev.readReg('axi_err', { signal: opts.signal }))) {
      const info = await this.dev.readReg('axi_err_info', { signal: opts.signal });
      throw new AxiError(info & 31, (info >> 7) & 3, ['w', 's', 'a', 'e'][(info >> 5) & 3]!);
    }
    return { id, logit, logits, cycles };
  }

  /**
   * Greedy decode in run.c's loop (generateGreedy): prompt[0] at position 0, forced prompt tokens, then the
   * device's argmax. Returns the `steps` ids that follow prompt[0] and every step's details.
   */
  async generate(
    prompt: readonly number[],
    steps: number,
    opts: { logits?: boolean; stepTimeoutMs?: number; onStep?: (i: number, s: DeviceStep) => void } = {},
  ): Promise<{ ids: number[]; steps: DeviceStep[] }> {
    if (!prompt.length) throw new InputError('prompt must hold at least one token (e.g. BOS = 1)');
    await this.setLogits(!!opts.logits);
    const ids: number[] = [];
    const out: DeviceStep[] = [];
    let token = prompt[0]!;
    for (let pos = 0; pos < steps; pos++) {
      const s = await this.step(token, pos === 0, { logits: opts.logits, signal: AbortSignal.timeout(opts.stepTimeoutMs ?? 600_000) });
      out.push(s);
      opts.onStep?.(pos, s);
      const nxt = pos + 1 < prompt.length ? prompt[pos + 1]! : s.id;
      ids.push(nxt);
      token = nxt;
    }
    return { ids, steps: out };
  }

  /** Engine perf counters (cycles by op class, cumulative). */
  async perf(): Promise<Record<'gemv' | 'attn' | 'other' | 'idle', number>> {
    const r = (n: string) => this.dev.readReg(n);
    return { gemv: await r('perf_gemv'), attn: await r('perf_attn'), other: await r('perf_other'), idle: await r('perf_idle') };
  }
}
