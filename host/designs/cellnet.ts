/**
 * The cell sorter behind the link: build its board/virtual board, program the trigger, stream images in replay
 * mode, collect one event per image, and check events against the golden model (classifier + trigger golden).
 */
import { readFileSync } from 'node:fs';
import { cellnetDesign, unpackFields, type CellnetDesign } from '../../generator/cellnet/rtl';
import { regWrites, triggerGolden, type TriggerEvent, type TriggerRegs } from '../../generator/cellnet/rtl/trigger-golden';
import { goldenClassify } from '../../generator/cellnet/golden';
import { parseIdx } from '../../generator/cellnet/idx';
import { loadData } from '../../generator/cellnet/source';
import { cellnetLinkOptions } from '../../generator/cellnet/link-options';
import { linkConfig } from '../../generator/link/config';
import { linkBoardTop } from '../../generator/link/top';
import type { RegMap } from '../../generator/regmap/regmap';
import { InputError } from '../../generator/util/errors';
import type { Device } from '../link/device';
import { buildVirtualBoard, type VirtualBoardBuild } from '../link/vboard';

export { CELLNET_DESIGN } from '../../generator/cellnet/link-options';

export interface CellnetLinked {
  design: CellnetDesign;
  regmap: RegMap;
  /** The board top has a camera video input (the streaming engines; not the serial engine). */
  hasCamera: boolean;
  /** Only built on demand (sim device). */
  virtualBoard: () => Promise<VirtualBoardBuild>;
}

/** serial: the time-multiplexed engine (generator/cellnet/rtl/serial.ts, ppc 1): same streams, registers and words. */
export function cellnetLinked(ppc = 8, serial = false): CellnetLinked {
  const design = cellnetDesign(serial ? { ppc: 1, serial: 1 } : { ppc });
  // The streaming engine's camera port is the board's video input, not a link channel (cellnetLinkOptions).
  const top = cellnetLinkOptions(design.module);
  const { regmap } = linkBoardTop(design.module, linkConfig(), top);
  // The cellnet core simulates at ~10^5 cycles/s: the fastest legal virtual UART (4 clocks/bit) keeps replay usable.
  return { design, regmap, hasCamera: !!top.videoIn?.length, virtualBoard: () => buildVirtualBoard(design.module, top, { simClocksPerBit: 4 }) };
}

/** `synthetic:N` or an IDX images file whose images are inputSize^2 (or larger: centre-cropped). */
export function loadImages(spec: string, design: CellnetDesign, seed = 1): { pixels: Uint8Array; n: number; labels?: Uint8Array } {
  const size = design.cfg.inputSize;
  const syn = /^synthetic:(\d+)$/.exec(spec);
  if (syn) {
    const n = Number(syn[1]);
    if (n < 1) throw new InputError(`--images ${spec}: need at least one image`);
    const d = loadData(`synthetic:1:${n}`, design.cfg, seed, 'crop', undefined, true);
    return { pixels: d.test.pixels.subarray(0, n * size * size), n: Math.min(n, d.test.n), labels: d.test.classes };
  }
  const idx = parseIdx(new Uint8Array(readFileSync(spec)), spec);
  if (idx.dims.length !== 3) throw new InputError(`${spec}: expected an IDX file of images (3 dimensions), got ${idx.dims.length}`);
  const [n, h, w] = idx.dims as [number, number, number];
  if (h < size || w < size) throw new InputError(`${spec}: images are ${h}x${w}, the model needs ${size}x${size}`);
  const out = new Uint8Array(n * size * size);
  const y0 = (h - size) >> 1;
  const x0 = (w - size) >> 1;
  for (let i = 0; i < n; i++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) out[(i * size + y) * size + x] = Number(idx.data[(i * h + y + y0) * w + x + x0]);
  return { pixels: out, n };
}

export interface SortSettings {
  classMask: number;
  threshold: number;
  delayCycles: number;
  widthCycles: number;
}

export function triggerRegs(s: SortSettings): TriggerRegs {
  return { enable: true, classMask: s.classMask, threshold: s.threshold, delay: s.delayCycles, width: s.widthCycles };
}

/** Writes the trigger registers through the core's cfg channel (addr in the high bits, value in the low 32). */
export async function programTrigger(dev: Device, d: CellnetDesign, s: SortSettings): Promise<void> {
  const words = regWrites(triggerRegs(s)).map((w) => (BigInt(w.addr) << BigInt(d.hw.reg.dataBits)) | BigInt(w.value >>> 0));
  await dev.writeStream('cfg', words);
}

export function decodeEvent(d: CellnetDesign, w: bigint): TriggerEvent {
  const f = unpackFields(d.hw.event, w);
  return { frame: f.frame!, cls: f.cls!, score: f.score!, sof: f.sof!, timestamp: f.timestamp!, fired: f.fired === 1, dropped: f.dropped === 1 };
}

/** Pixel beats of n images: ppc pixels per beat (pixel i in bits [8i+7:8i]), last on each frame's final beat. */
export function pixelBeats(d: CellnetDesign, pixels: Uint8Array): { data: bigint[]; last: boolean[] } {
  const ppc = d.hw.ppc;
  const beats = pixels.length / ppc;
  const data: bigint[] = new Array(beats);
  const last: boolean[] = new Array(beats);
  for (let b = 0; b < beats; b++) {
    let w = 0n;
    for (let i = ppc - 1; i >= 0; i--) w = (w << 8n) | BigInt(pixels[b * ppc + i]!);
    data[b] = w;
    last[b] = b % d.hw.frameBeats === d.hw.frameBeats - 1;
  }
  return { data, last };
}

/** Expected events: the classifier golden per image, and the trigger golden at the device's own timestamps. */
export function goldenEvents(d: CellnetDesign, pixels: Uint8Array, deviceEvents: readonly TriggerEvent[], s: SortSettings): TriggerEvent[] {
  const px = d.cfg.inputSize * d.cfg.inputSize;
  const n = pixels.length / px;
  const decisions = Array.from({ length: n }, (_, i) => {
    const g = goldenClassify(d.q, pixels.subarray(i * px, (i + 1) * px));
    const e = deviceEvents[i];
    return { frame: i & 0xffff, cls: g.cls, score: g.score, sof: e?.sof ?? 0, timestamp: e?.timestamp ?? 0 };
  });
  // Settings were programmed (and acknowledged) before the first pixel: model them as written at cycle 0.
  const writes = regWrites(triggerRegs(s)).map((w) => ({ ...w, cycle: 0 }));
  return triggerGolden(d.hw, decisions, writes).events;
}
