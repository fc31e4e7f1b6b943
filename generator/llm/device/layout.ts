/**
 * The LLM device's weight memory: one typed layout, derived from the engine config and the engine's own packer
 * (generator/llm/engine/pack.ts, the single source of the stream order). The RTL weight sequencer (sequencer.ts)
 * and the host image builder (image.ts) both read it.
 *
 * Four regions, each a set of 32-bit "limb" memories read in parallel (one wide word per cycle, written one limb
 * at a time from the link's 32-bit memory bus):
 *   w  GEMV weight words, schedule order            (wPortBits wide)
 *   s  GEMV scale words, schedule order             (sPortBits wide)
 *   a  aux beats: [embedding constant beat, aux tail after the embedding row]   (32·P wide)
 *   e  embedding rows: vocab × dim/P beats, each aux lane stored in embLaneBits and zero-extended on replay
 * Host word address = region << regionShift | word << log2(stride) | limb (docs/llm-device.md#memory-map).
 */
import { fnv1a32 } from '../../regmap/regmap';
import { ConfigError, clog2, requireInt } from '../../util/errors';
import { ceilDiv, presetNamed, type LlmEngineConfig } from '../engine/hw-config';
import { logitBeats, packModel } from '../engine/pack';
import { randomQuantModel } from '../engine/random';
import { hbmLayout, type HbmLayout, type HbmParams } from './hbm-layout';

export { REGIONS, type RegionName, type RegionLayout } from './regions';
import { REGIONS, type RegionLayout, type RegionName } from './regions';

export interface LlmDeviceParams {
  /** Cycles from a sequencer read request to its data (>= 1: the block-RAM read; more models HBM/DDR). */
  latency?: number;
  /** Design name (register map design id). */
  design?: string;
  /** Weight memory: on-chip block RAM behind the link (default), or HBM read by AXI4 masters (hbm-layout.ts). */
  mem?: 'bram' | 'axi';
  hbm?: HbmParams;
}

export interface LlmDeviceConfig {
  readonly engine: LlmEngineConfig;
  readonly design: string;
  readonly regions: Readonly<Record<RegionName, RegionLayout>>;
  /** log2 of the address span of one region. */
  readonly regionShift: number;
  /** Host-visible memory words (4 regions). */
  readonly memWords: number;
  /** Per decode step: w words, s words, aux beats (1 constant + rowBeats embedding + tailBeats). */
  readonly wWords: number;
  readonly sWords: number;
  readonly rowBeats: number;
  readonly tailBeats: number;
  readonly auxBeats: number;
  readonly embLaneBits: number;
  readonly latency: number;
  /** Prefetch FIFO depth per stream (sustains one word per cycle at this latency). */
  readonly fifoDepth: number;
  /** Logits FIFO depth: one whole step (capped), so the host may read logits slower than the engine makes them. */
  readonly logitsFifo: number;
  /** Token id bits (the tok beat: {count - 1, restart, id}, the engine's format). */
  readonly idBits: number;
  /** Most tokens per block (the engine's prefillBlock; 1 = decode only) and the tok beat's count field width. */
  readonly prefillBlock: number;
  readonly countBits: number;
  /** Result stream: {id, top logit[31:0]}. */
  readonly resultBits: number;
  /** Weight bytes the host transfers (all regions, padding limbs included). */
  readonly imageBytes: number;
  /** The HBM layout when mem = 'axi', else null. */
  readonly hbm: HbmLayout | null;
}

const pow2ceil = (n: number): number => 2 ** clog2(Math.max(1, n));

/** Stream sizes of one decode step, measured on the engine's packer with a random model of the same shape. */
function streamSizes(cfg: LlmEngineConfig): { wWords: number; sWords: number; tailBeats: number } {
  const img = packModel(cfg, randomQuantModel(cfg.engine.model, cfg.engine, 1));
  return { wWords: img.wWords, sWords: img.sWords, tailBeats: img.auxTail.length / cfg.P };
}

export function llmDeviceConfig(cfg: LlmEngineConfig, p: LlmDeviceParams = {}, sizes = streamSizes(cfg)): LlmDeviceConfig {
  const latency = p.latency ?? 2;
  requireInt('latency', latency, 1, 1024);
  const P = cfg.P;
  const md = cfg.engine.model;
  if (md.dim % P) throw new ConfigError('vpar', `must divide dim (${md.dim}) for embedding rows`, P);
  if (cfg.hw.prefillGroups > 1)
    throw new ConfigError(
      'prefillGroups',
      "the llmdev device's sequencers replay the decode step's streams once per block; two groups in flight read each GEMV phase twice and their constants from s " +
        '(engine/pack-groups.ts), which the sequencers do not lay out yet: build the device with prefillGroups 1',
      cfg.hw.prefillGroups,
    );
  // An embedding aux lane is code | scale << k: store it in the smallest of 8/16/32 bits holding clsBits + scaleBits
  // (image.ts checks every lane fits, so a change of the aux format is refused, not silently truncated).
  const need = cfg.engine.clsBits + cfg.engine.scaleBits;
  const embLaneBits = need <= 8 ? 8 : need <= 16 ? 16 : 32;
  const rowBeats = md.dim / P;
  const region = (name: RegionName, words: number, width: number): Omit<RegionLayout, 'base'> => {
    const limbs = ceilDiv(width, 32);
    return { name, words: Math.max(1, words), width, limbs, stride: pow2ceil(limbs) };
  };
  const rs = {
    w: region('w', sizes.wWords, cfg.wPortBits),
    s: region('s', sizes.sWords, cfg.sPortBits),
    a: region('a', 1 + sizes.tailBeats, cfg.auxBits),
    e: region('e', md.vocabSize * rowBeats, P * embLaneBits),
  };
  const regionShift = clog2(Math.max(...Object.values(rs).map((r) => r.words * r.stride)));
  if (regionShift + 2 > 32) throw new ConfigError('model', 'weight image exceeds the 32-bit word address space of the link', regionShift);
  const regions = Object.fromEntries(REGIONS.map((n, i) => [n, { ...rs[n], base: i * 2 ** regionShift }])) as Record<RegionName, RegionLayout>;
  const idBits = cfg.tokBits - 1 - cfg.tokCountBits;
  return Object.freeze({
    engine: cfg,
    design: p.design ?? 'llmdev',
    regions,
    regionShift,
    memWords: 4 * 2 ** regionShift,
    wWords: sizes.wWords,
    sWords: sizes.sWords,
    rowBeats,
    tailBeats: sizes.tailBeats,
    auxBeats: 1 + rowBeats + sizes.tailBeats,
    embLaneBits,
    latency,
    fifoDepth: pow2ceil(latency + 3),
    logitsFifo: Math.max(2, Math.min(4096, pow2ceil(logitBeats(cfg)))),
    idBits,
    prefillBlock: cfg.hw.prefillBlock,
    countBits: cfg.tokCountBits,
    resultBits: 32 + idBits,
    imageBytes: 4 * REGIONS.reduce((a, n) => a + regions[n].words * regions[n].stride, 0),
    hbm: p.mem === 'axi' ? hbmLayout({ engine: cfg, regions, wWords: sizes.wWords, sWords: sizes.sWords, tailBeats: sizes.tailBeats, rowBeats }, p.hbm ?? { masters: 4, axiBits: 64 }) : null,
  });
}

/** The memory latency a preset's memory model names (at least the one block-RAM cycle). */
export function presetLatency(preset: string): number {
  return Math.max(1, presetNamed(preset).memory.latency);
}

/**
 * The device protocol's own revision, hashed into the layout revision: 2 = prefill blocks (the tok beat carries
 * {count - 1, restart, id}, a block is `count` such beats, register `prefill_block`). A bitstream of revision 1
 * (token by token only) is refused by `Device.open` instead of misreading a block's beats.
 */
export const LLMDEV_PROTOCOL = 2;

/**
 * Register-map revision: changes whenever the memory layout or any engine number-format / attention setting does
 * (e.g. the window, which leaves the layout alone but changes every logit), so a host never drives a stale bitstream.
 */
export function layoutRevision(d: LlmDeviceConfig, protocol = LLMDEV_PROTOCOL): number {
  const e = d.engine.engine as unknown as Record<string, unknown>;
  const engineKey = Object.keys(e).sort().map((k) => `${k}=${JSON.stringify(e[k])}`).join(';');
  const key = REGIONS.map((n) => `${n}:${d.regions[n].words}x${d.regions[n].width}`).join(',') + `;e${d.embLaneBits};id${d.idBits};dev${protocol};blk${d.prefillBlock};${engineKey}` + (d.hbm ? `;hbm${d.hbm.masters}x${d.hbm.axiBits}:${d.hbm.pcBytes}` : '');
  return fnv1a32(key);
}
