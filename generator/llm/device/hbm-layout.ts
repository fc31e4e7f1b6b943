/**
 * The weight image of the AXI (`mem: 'axi'`) llmdev, one part per HBM pseudo-channel (docs/llm-device.md#hbm-layout).
 *
 * Every stream word (w, s, aux `a`, embedding `e`) of width W is cut into N slices of sliceBits =
 * pow2ceil(ceil(W / N)) bits; slice k of every word lives in pseudo-channel k, so master k only ever reads its own
 * pseudo-channel (no switch crossing) and all masters carry the same share of every stream. Inside a channel a
 * stream's slices are packed dataBits / sliceBits per AXI beat, lowest slice first. Regions start on 4 KB:
 *   w: the step's w slices   s: the s slices   a0: the embedding constant beat (1 slice in its own beat)
 *   at: the aux tail   e: vocab rows, each row (rowBeats slices) padded to whole beats.
 * Card (HBM) address of channel k, byte o: k * PC_BYTES + o.
 */
import { ConfigError, InputError, clog2 } from '../../util/errors';
import { AXI_4K, axiMaxBurst } from '../../lib/axi-read';
import type { LlmEngineConfig } from '../engine/hw-config';
import type { RegionLayout, RegionName } from './regions';

/** What the HBM layout needs of a device config (layout.ts's LlmDeviceConfig has it). */
export interface HbmSource {
  readonly engine: LlmEngineConfig;
  readonly regions: Readonly<Record<RegionName, RegionLayout>>;
  readonly wWords: number;
  readonly sWords: number;
  readonly rowBeats: number;
  readonly tailBeats: number;
}

export const HBM_PCS = 32;
export const PC_BYTES = 256 * 2 ** 20;
export const HBM_BYTES = HBM_PCS * PC_BYTES;
/** AXI address bits of the HBM (8 GB). */
export const HBM_ADDR_BITS = 33;

export const HBM_STREAMS = ['w', 's', 'a0', 'at', 'e'] as const;
export type HbmStream = (typeof HBM_STREAMS)[number];

export interface HbmParams {
  /** AXI read masters = pseudo-channels used (1..32, power of two). */
  masters: number;
  /** AXI data width (512 on the U280 at 225 MHz). */
  axiBits: number;
  /** Longest burst in beats (default: the 4 KB / 256-beat limit). */
  maxBurst?: number;
  /** Bursts in flight per master (default 8). */
  outstanding?: number;
}

export interface HbmRegion {
  name: HbmStream;
  /** Byte offset inside every pseudo-channel (4 KB aligned). */
  offset: number;
  /** Bytes per channel. */
  bytes: number;
  /** Slices per step for the cmd (w, s, at; a0 = 1; e = per row). */
  sliceBits: number;
  /** The wide word this region's slices come from. */
  source: RegionName;
}

export interface HbmLayout {
  masters: number;
  axiBits: number;
  maxBurst: number;
  outstanding: number;
  beatBytes: number;
  regions: Record<HbmStream, HbmRegion>;
  /** Beats per step of w and s, beats of the aux tail, beats per embedding row. */
  wBeats: number;
  sBeats: number;
  atBeats: number;
  eRowBeats: number;
  /** Bytes used in each channel. */
  pcBytes: number;
  /** Beat FIFO depth per stream and master. */
  fifoDepth: Record<'w' | 's' | 'a' | 'e', number>;
  /** Command length field width. */
  lenBits: number;
}

const pow2ceil = (n: number): number => 2 ** clog2(Math.max(1, n));
const up4k = (n: number): number => Math.ceil(n / AXI_4K) * AXI_4K;

export function hbmLayout(d: HbmSource, p: HbmParams): HbmLayout {
  const N = p.masters;
  if (!Number.isInteger(N) || N < 1 || N > HBM_PCS || N & (N - 1)) throw new ConfigError('masters', `must be a power of two in 1..${HBM_PCS} (one per HBM pseudo-channel)`, N);
  const D = p.axiBits;
  const maxBurst = p.maxBurst ?? axiMaxBurst(D);
  const outstanding = p.outstanding ?? 8;
  const beatBytes = D / 8;
  const slice = (src: RegionName): number => {
    const sb = Math.max(8, pow2ceil(Math.ceil(d.regions[src].width / N)));
    if (sb > D) throw new ConfigError('masters', `${N} masters x ${D} bits cannot carry the ${d.regions[src].width}-bit ${src} word in one beat each; use more masters or a wider AXI port`, N);
    return sb;
  };
  const sw = { w: slice('w'), s: slice('s'), a: slice('a'), e: slice('e') };
  const beats = (slices: number, sb: number) => Math.ceil(slices / (D / sb));
  const wBeats = beats(d.wWords, sw.w);
  const sBeats = beats(d.sWords, sw.s);
  const atBeats = beats(d.tailBeats, sw.a);
  const eRowBeats = beats(d.rowBeats, sw.e);
  const V = d.engine.engine.model.vocabSize;
  const sizes: Array<[HbmStream, number, number, RegionName]> = [
    ['w', wBeats * beatBytes, sw.w, 'w'],
    ['s', sBeats * beatBytes, sw.s, 's'],
    ['a0', beatBytes, sw.a, 'a'],
    ['at', Math.max(1, atBeats) * beatBytes, sw.a, 'a'],
    ['e', V * eRowBeats * beatBytes, sw.e, 'e'],
  ];
  let off = 0;
  const regions = {} as Record<HbmStream, HbmRegion>;
  for (const [name, bytes, sliceBits, source] of sizes) {
    regions[name] = { name, offset: off, bytes, sliceBits, source };
    off = up4k(off + bytes);
  }
  if (off > PC_BYTES)
    throw new InputError(`the weight image needs ${off} bytes in each of ${N} pseudo-channels; one holds ${PC_BYTES} (256 MB; the HBM is 8 GB in ${HBM_PCS} pseudo-channels). Use more masters (up to ${HBM_PCS}) or a smaller model`);
  const lenBits = Math.max(8, clog2(Math.max(wBeats, sBeats, atBeats, eRowBeats, d.wWords, d.sWords, d.tailBeats, d.rowBeats) + 1));
  const depth = (x: number) => Math.max(pow2ceil(2 * maxBurst), x);
  return {
    masters: N,
    axiBits: D,
    maxBurst,
    outstanding,
    beatBytes,
    regions,
    wBeats,
    sBeats,
    atBeats,
    eRowBeats,
    pcBytes: off,
    // w carries nearly all the bandwidth: room for every burst in flight; the others need two bursts.
    fifoDepth: { w: depth(pow2ceil(outstanding * maxBurst)), s: depth(0), a: depth(0), e: depth(0) },
    lenBits,
  };
}

/** One pseudo-channel's part of the image. */
export interface HbmPart {
  pc: number;
  /** Card (HBM) byte address of the part. */
  cardAddr: number;
  words: Uint32Array;
}

/** Bits [off, off + n) of a little-endian limb array (n <= 32 and not crossing a limb, or n a multiple of 32 at a limb). */
function copyBits(src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number, n: number): void {
  if (n >= 32) {
    for (let i = 0; i < n / 32; i++) dst[dstOff / 32 + i] = src[srcOff / 32 + i] ?? 0;
    return;
  }
  const v = ((src[srcOff >>> 5] ?? 0) >>> (srcOff & 31)) & (n === 32 ? 0xffffffff : (1 << n) - 1);
  dst[dstOff >>> 5] = (dst[dstOff >>> 5]! | (v << (dstOff & 31))) >>> 0;
}

/** Re-slices the on-chip layout's regions (image.ts) into the per-pseudo-channel parts of `hbm`. */
export function hbmImage(d: HbmSource, hbm: HbmLayout, img: { regions: ReadonlyArray<{ name: string; words: Uint32Array }> }): HbmPart[] {
  const N = hbm.masters;
  const D = hbm.axiBits;
  const parts = Array.from({ length: N }, (_, k) => ({ pc: k, cardAddr: k * PC_BYTES, words: new Uint32Array(hbm.pcBytes / 4) }));
  const src = Object.fromEntries(img.regions.map((r) => [r.name, r.words])) as Record<RegionName, Uint32Array>;
  // (region, first wide word, count, first slice position in the region)
  const place = (name: HbmStream, word0: number, count: number, slice0: number): void => {
    const r = hbm.regions[name];
    const g = d.regions[r.source];
    const sb = r.sliceBits;
    const words = src[r.source];
    for (let i = 0; i < count; i++)
      for (let k = 0; k < N; k++) {
        const bit = k * sb;
        if (bit >= g.width) continue;
        const n = Math.min(sb, 32 * Math.ceil((g.width - bit) / 32));
        const pos = (slice0 + i) * sb;
        const dst = parts[k]!.words;
        const tmp = new Uint32Array(Math.max(1, sb / 32));
        copyBits(words.subarray((word0 + i) * g.stride, (word0 + i + 1) * g.stride), bit, tmp, 0, Math.min(sb, n));
        if (bit + sb > g.width && sb < 32) tmp[0] = tmp[0]! & ((1 << (g.width - bit)) - 1);
        copyBits(tmp, 0, dst, r.offset * 8 + pos, sb);
      }
  };
  place('w', 0, d.wWords, 0);
  place('s', 0, d.sWords, 0);
  place('a0', 0, 1, 0);
  place('at', 1, d.tailBeats, 0);
  const K = D / hbm.regions.e.sliceBits;
  for (let t = 0; t < d.engine.engine.model.vocabSize; t++) place('e', t * d.rowBeats, d.rowBeats, t * hbm.eRowBeats * K);
  return parts;
}
