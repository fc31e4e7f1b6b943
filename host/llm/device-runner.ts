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
  /** Device cycles from accepting the token (a block's last beat) to the last logit (step_cycles register). */
  cycles: number;
  /** Tokens the step consumed (a prefill block; 1 = a decode step) and the position of its last one (the caller's `pos`; n − 1 if not given). */
  tokens: number;
  pos: number;
}

/** How the prompt went in: block size, blocks (the last may be partial) and device cycles for the whole prompt. */
export interface PromptUse {
  block: number;
  blocks: number;
  tokens: number;
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

  /** The device's prefill block (read-only register prefill_block: most tokens per block, 1 = token by token). */
  async prefillBlock(o: OpOptions = {}): Promise<number> {
    const b = await this.dev.readReg('prefill_block', o);
    if (b !== this.d.prefillBlock) throw new InputError(`device reports prefill_block ${b}, the host's device config has ${this.d.prefillBlock}`);
    return b;
  }

  /** One decode step: token at the next position (restart = position 0). */
  step(token: number, restart: boolean, opts: { logits?: boolean; signal?: AbortSignal; pos?: number } = {}): Promise<DeviceStep> {
    return this.block([token], restart, opts);
  }

  /**
   * A prefill block: tokens at the next positions in one weight pass (1..prefill_block of them; one token = a
   * decode step). Each token is one tok beat {count - 1, restart, id}; the answer is the last token's argmax/logits.
   */
  async block(tokens: readonly number[], restart: boolean, opts: { logits?: boolean; signal?: AbortSignal; pos?: number } = {}): Promise<DeviceStep> {
    const cfg = this.d.engine;
    const V = cfg.engine.model.vocabSize;
    const n = tokens.length;
    if (n < 1 || n > this.d.prefillBlock) throw new InputError(`a block of ${n} tokens: the device takes 1 to ${this.d.prefillBlock} (its prefill_block)`);
    for (const token of tokens) if (!Number.isInteger(token) || token < 0 || token >= V) throw new InputError(`token ${token} is outside the vocabulary [0, ${V})`);
    const ib = BigInt(this.d.idBits);
    const head = (restart ? 1n << ib : 0n) | (BigInt(n - 1) << (ib + 1n));
    await this.dev.writeStream('tok', tokens.map((t) => BigInt(t) | head), { signal: opts.signal });
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
    return { id, logit, logits, cycles, tokens: n, pos: opts.pos ?? n - 1 };
  }

  /**
   * Greedy decode in run.c's loop (generateGreedy): prompt[0] at position 0, forced prompt tokens, then the
   * device's argmax. The prompt's positions (up to `steps`) go in blocks of `prefill` tokens (default: the device's
   * prefill_block; 1 = token by token), then one token per step. Returns the `steps` ids that follow prompt[0],
   * the details of every step that produced logits (a block's: its last token's), and how the prompt was consumed.
   */
  async generate(
    prompt: readonly number[],
    steps: number,
    opts: { logits?: boolean; prefill?: number; stepTimeoutMs?: number; onStep?: (i: number, s: DeviceStep) => void } = {},
  ): Promise<{ ids: number[]; steps: DeviceStep[]; prompt: PromptUse }> {
    if (!prompt.length) throw new InputError('prompt must hold at least one token (e.g. BOS = 1)');
    const max = await this.prefillBlock();
    const B = opts.prefill ?? max;
    if (!Number.isInteger(B) || B < 1 || B > max) throw new InputError(`prefill block ${B}: the device takes 1 to ${max} tokens per block (its prefill_block)`);
    await this.setLogits(!!opts.logits);
    const ids: number[] = [];
    const out: DeviceStep[] = [];
    const timeout = () => AbortSignal.timeout(opts.stepTimeoutMs ?? 600_000);
    const L = Math.min(prompt.length, steps);
    const use: PromptUse = { block: B, blocks: 0, tokens: L, cycles: 0 };
    const record = (s: DeviceStep) => {
      out.push(s);
      opts.onStep?.(s.pos, s);
    };
    // The prompt's positions 0..L-1 in blocks; the last block's logits give the token after position L-1.
    let last: DeviceStep | undefined;
    for (let p = 0; p < L; p += B) {
      const blk = prompt.slice(p, Math.min(L, p + B));
      last = await this.block(blk, p === 0, { logits: opts.logits, signal: timeout(), pos: p + blk.length - 1 });
      use.blocks++;
      use.cycles += last.cycles;
      record(last);
    }
    for (let pos = 0; pos < L; pos++) ids.push(pos + 1 < prompt.length ? prompt[pos + 1]! : last!.id);
    for (let pos = L; pos < steps; pos++) {
      const s = await this.step(ids[pos - 1]!, false, { logits: opts.logits, signal: timeout(), pos });
      record(s);
      ids.push(pos + 1 < prompt.length ? prompt[pos + 1]! : s.id);
    }
    return { ids, steps: out, prompt: use };
  }

  /** Engine perf counters (cycles by op class, cumulative). */
  async perf(): Promise<Record<'gemv' | 'attn' | 'other' | 'idle', number>> {
    const r = (n: string) => this.dev.readReg(n);
    return { gemv: await r('perf_gemv'), attn: await r('perf_attn'), other: await r('perf_other'), idle: await r('perf_idle') };
  }
}
