/**
 * What every `sort --camera` run shares, on the simulator and on a board: the camera spec (synthetic:N[@FPS] or
 * FILE.idx[@FPS]) and its frames, the camera timing, the crop, the checked settings and the register writes that
 * program them (CTRL last), the camera model's beats, and the golden classification of each frame's crop.
 * The virtual board (`lutforge vboard --camera`) builds its camera from the same spec, so host and board agree on
 * the frames.
 */
import { readFileSync } from 'node:fs';
import { goldenClassify } from '../../generator/cellnet/golden';
import { parseIdx } from '../../generator/cellnet/idx';
import type { CellnetDesign } from '../../generator/cellnet/rtl/design';
import { CTRL_CAMERA, CTRL_ENABLE, EVENT_MODES, REGS } from '../../generator/cellnet/rtl/plan';
import { synthImages, FRAME } from '../../generator/cellnet/synth';
import { ConfigError, InputError } from '../../generator/util/errors';
import { CameraBeats, cameraTiming, checkFrame, type CameraTiming } from '../../sim/camera';
import { classMask } from './replay';

export interface CameraSortRequest {
  device: string;
  /** synthetic:N[@FPS] or FILE.idx[@FPS]. */
  camera: string;
  sort: string[];
  threshold: number;
  delayUs: number;
  widthUs: number;
  ppc: number;
  seed: number;
  check: boolean;
  /** all | fired | 1/N */
  events: string;
  background: number;
  presence: number;
  clockHz: number;
}

export interface FrameSource {
  n: number;
  width: number;
  height: number;
  frames(i0: number, i1: number): Uint8Array;
}

export function parseCameraSpec(spec: string): { src: string; fps?: number } {
  const at = spec.lastIndexOf('@');
  if (at < 0) return { src: spec };
  const fps = Number(spec.slice(at + 1));
  if (!Number.isFinite(fps) || fps <= 0) throw new InputError(`--camera ${spec}: the rate after @ must be a positive number of frames/s`);
  return { src: spec.slice(0, at), fps };
}

export function frameSource(src: string, seed: number, d: CellnetDesign): FrameSource {
  const syn = /^synthetic:(\d+)$/.exec(src);
  if (syn) {
    const n = Number(syn[1]);
    if (n < 1) throw new InputError(`--camera ${src}: need at least one frame`);
    const labels = d.cfg.classes.map((c) => c.label);
    return { n, width: FRAME, height: FRAME, frames: (i0, i1) => synthImages(i1, { seed, labels }).pixels.subarray(i0 * FRAME * FRAME) };
  }
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(readFileSync(src));
  } catch (e) {
    throw new InputError(`--camera ${src}: cannot read: ${(e as Error).message}`);
  }
  const idx = parseIdx(buf, src);
  if (idx.dims.length !== 3) throw new InputError(`${src}: expected an IDX file of frames (3 dimensions: n, height, width), got ${idx.dims.length}`);
  if (!(idx.data instanceof Uint8Array)) throw new InputError(`${src}: frames must be uint8`);
  const [n, h, w] = idx.dims as [number, number, number];
  const data = idx.data as Uint8Array;
  return { n, width: w, height: h, frames: (i0, i1) => data.subarray(i0 * w * h, i1 * w * h) };
}

export function eventMode(s: string): { mode: number; n: number; label: string } {
  if (s === 'all') return { mode: EVENT_MODES.ALL, n: 0, label: 'all' };
  if (s === 'fired') return { mode: EVENT_MODES.FIRED, n: 0, label: 'fired' };
  const m = /^1\/(\d+)$/.exec(s);
  if (m && Number(m[1]) >= 1 && Number(m[1]) < 65536) return { mode: EVENT_MODES.ONE_IN_N, n: Number(m[1]), label: s };
  throw new ConfigError('events', "must be 'all', 'fired' or '1/N' (N in 1..65535)", s);
}

function cropOf(px: Uint8Array, w: number, cx: number, cy: number, S: number): Uint8Array {
  const out = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) out.set(px.subarray((y + cy) * w + cx, (y + cy) * w + cx + S), y * S);
  return out;
}

/** A checked camera run: frames, timing, crop, trigger settings, and the register writes (CTRL last). */
export interface CameraSetup {
  req: CameraSortRequest;
  d: CellnetDesign;
  source: FrameSource;
  fps: number | undefined;
  t: CameraTiming;
  cropX: number;
  cropY: number;
  delay: number;
  width: number;
  mask: number;
  eventLabel: string;
  writes: Array<{ addr: number; value: number }>;
}

export function cameraSetup(req: CameraSortRequest, d: CellnetDesign): CameraSetup {
  const hw = d.hw;
  const names = d.cfg.classes.map((c) => c.name);
  const { src, fps } = parseCameraSpec(req.camera);
  const source = frameSource(src, req.seed, d);
  const S = d.cfg.inputSize;
  const cropX = Math.floor((source.width - S) / 2 / hw.ppc) * hw.ppc;
  const cropY = Math.floor((source.height - S) / 2);
  checkFrame(hw, source.width, source.height, cropX, cropY);
  const t = cameraTiming(hw, source.width, source.height, req.clockHz, fps);
  const cyc = (name: string, us: number): number => {
    if (!Number.isFinite(us) || us < 0) throw new ConfigError(name, 'must be a non-negative number of µs', us);
    return Math.round((us * req.clockHz) / 1e6);
  };
  const delay = cyc('delay-us', req.delayUs);
  const width = cyc('width-us', req.widthUs);
  if (delay >= 2 ** hw.trigger.delayBits) throw new ConfigError('delay-us', `must be below ${((2 ** hw.trigger.delayBits / req.clockHz) * 1e6).toFixed(0)} µs`, req.delayUs);
  if (width < 1 || width >= 2 ** hw.trigger.widthBits) throw new ConfigError('width-us', `must give 1..${2 ** hw.trigger.widthBits - 1} cycles`, req.widthUs);
  const frameLines = t.height * t.lineBeats + (t.height - 1) * t.hblank;
  if (delay <= frameLines)
    throw new ConfigError('delay-us', `the pulse delay counts from start of frame and must exceed the frame's ${frameLines} cycles (${((frameLines / req.clockHz) * 1e6).toFixed(2)} µs)`, req.delayUs);
  if (!Number.isInteger(req.threshold) || req.threshold < 0) throw new ConfigError('threshold', 'must be a non-negative integer score', req.threshold);
  if (!Number.isInteger(req.background) || req.background < 0 || req.background > 255) throw new ConfigError('background', 'must be a grey level 0..255', req.background);
  if (!Number.isInteger(req.presence) || req.presence < 0 || req.presence >= 2 ** hw.camera.sumBits) throw new ConfigError('presence', `must be 0..${2 ** hw.camera.sumBits - 1}`, req.presence);
  const em = eventMode(req.events);
  const mask = classMask(names, req.sort);
  const writes = [
    { addr: REGS.FRAME_W, value: t.width },
    { addr: REGS.FRAME_H, value: t.height },
    { addr: REGS.CROP_X, value: cropX },
    { addr: REGS.CROP_Y, value: cropY },
    { addr: REGS.BACKGROUND, value: req.background },
    { addr: REGS.PRESENCE, value: req.presence },
    { addr: REGS.CLASS_MASK, value: mask },
    { addr: REGS.THRESHOLD, value: req.threshold },
    { addr: REGS.DELAY, value: delay },
    { addr: REGS.WIDTH, value: width },
    { addr: REGS.EVENT_MODE, value: em.mode },
    { addr: REGS.EVENT_N, value: em.n },
    { addr: REGS.CTRL, value: CTRL_ENABLE | CTRL_CAMERA },
  ];
  return { req, d, source, fps, t, cropX, cropY, delay, width, mask, eventLabel: em.label, writes };
}

/** The frames' pixels and the camera model's beats for them (frames back to back at the camera's timing). */
export function cameraFrames(s: CameraSetup): { px: Uint8Array; beats: CameraBeats } {
  const px = s.source.frames(0, s.source.n);
  return { px, beats: frameBeats(s.d.hw.ppc, s.t, px, s.source.n) };
}

/**
 * The virtual board's camera (`lutforge vboard --camera SPEC`): the same frames and timing `sort --camera SPEC` with
 * the same seed expects, at the board clock. The crop is the host's to program; this only checks the frame fits.
 */
export function cameraFeed(spec: string, seed: number, d: CellnetDesign, clockHz: number): { beats: CameraBeats; frames: number; timing: CameraTiming } {
  const { src, fps } = parseCameraSpec(spec);
  const source = frameSource(src, seed, d);
  checkFrame(d.hw, source.width, source.height);
  const t = cameraTiming(d.hw, source.width, source.height, clockHz, fps);
  return { beats: frameBeats(d.hw.ppc, t, source.frames(0, source.n), source.n), frames: source.n, timing: t };
}

function frameBeats(ppc: number, t: CameraTiming, px: Uint8Array, n: number): CameraBeats {
  const beats = new CameraBeats(ppc);
  for (let i = 0; i < n; i++) {
    const base = i * t.width * t.height;
    const firstGap = i === 0 ? 0 : t.vblank;
    for (let y = 0; y < t.height; y++)
      for (let b = 0; b < t.lineBeats; b++)
        beats.beat(px, base + y * t.width + b * beats.ppc, y === 0 && b === 0, b === t.lineBeats - 1, b === 0 ? (y === 0 ? firstGap : t.hblank) : 0);
  }
  return beats;
}

/** The golden classifier on every frame's crop (what --check compares the events with). */
export function goldenCrops(s: CameraSetup, px: Uint8Array): Array<{ cls: number; score: number }> {
  const S = s.d.cfg.inputSize;
  const out: Array<{ cls: number; score: number }> = [];
  for (let i = 0; i < s.source.n; i++) out.push(goldenClassify(s.d.q, cropOf(px.subarray(i * s.t.width * s.t.height), s.t.width, s.cropX, s.cropY, S)));
  return out;
}
