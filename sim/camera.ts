/**
 * The camera model of the simulation: a player in RTL (test wrapper only) and the TS side that turns frames into its
 * beats, so a camera runs inside the simulator at an exact, programmable timing while the host only configures and
 * reads events. `camsrc` beats are {gap, tuser, ppc pixels} + last: the player waits `gap` idle cycles, then drives
 * the beat on the core's AXI4-Stream video port for exactly one cycle (a camera never waits for tready).
 */
import type { CellnetHw } from '../generator/cellnet/rtl/plan';
import { Module, lit, mux, type Expr } from '../generator/hdl';
import { InputError } from '../generator/util/errors';

export const CAMERA_STREAM = 'cam';
export const CAMSRC_STREAM = 'camsrc';
/** Idle cycles before a beat: up to 2^24 - 1 (67 ms at 250 MHz). */
export const GAP_BITS = 24;

/**
 * `start` (optional): the player holds its first beat until the first cycle `start` is high, then keeps its own
 * timing whatever `start` does (a camera does not wait). `playing` is high while it has started and holds a beat.
 */
export function cameraPlayer(m: Module, ppc: number, start?: Expr): { valid: Expr; data: Expr; last: Expr; playing: Expr } {
  const PW = 8 * ppc + 1;
  const src = m.streamIn(CAMSRC_STREAM, PW + GAP_BITS, { last: true });
  const wait = m.reg('cam_wait', GAP_BITS, { init: 0 });
  let active: Expr = src.valid;
  if (start) {
    const started = m.reg('cam_started', 1, { init: 0 });
    m.sync((b) => b.if(start, (t) => t.set(started, 1)), 'camera_start');
    active = m.let('cam_active', src.valid.and(started.or(start)));
  }
  const gap = src.data.slice(PW + GAP_BITS - 1, PW);
  const go = m.let('cam_go', active.and(wait.eq(gap)));
  m.sync((b) => b.if(active, (t) => t.set(wait, mux(go, lit(0, GAP_BITS), wait.add(1)))), 'camera_player');
  m.assign(src.ready, go);
  return { valid: go, data: src.data.slice(PW - 1, 0), last: src.last!, playing: active };
}

/**
 * The virtual board with a camera: wraps a virtual board whose top has a video input (`cam_t*` / `cam_on`,
 * generator/link/top.ts videoIn) so the camera player drives it from the `camsrc` stream. The player starts when the
 * host turns the camera on (`cam_on`, CTRL bit 1), like a frame grabber whose acquisition the host starts; every other
 * port and stream passes through, and `busy` stays high while the camera plays (the bridge keeps the clock going).
 */
export function withCameraPlayer(vb: Module): Module {
  const tdata = vb.ports.find((p) => p.name === `${CAMERA_STREAM}_tdata`);
  if (!tdata || tdata.width % 8 !== 0) throw new Error(`virtual board ${vb.name} has no camera video input (${CAMERA_STREAM}_tdata)`);
  const m = new Module(`${vb.name}_cam`, { doc: `virtual board: ${vb.name} with the camera model on its video input` });
  const conns: Record<string, Expr> = {};
  for (const s of vb.streams) {
    const inward = s.dir === 'in';
    const mk = (sig: string, input: boolean, w: number) => (conns[sig] = input ? m.input(sig, w) : m.output(sig, w));
    mk(s.valid, inward, 1);
    mk(s.ready, !inward, 1);
    mk(s.data, inward, s.width);
    if (s.last) mk(s.last, inward, 1);
    m.streams.push({ ...s });
  }
  const camOn = m.wire('board_cam_on', 1);
  const cam = cameraPlayer(m, tdata.width / 8, camOn);
  const PW = tdata.width;
  Object.assign(conns, {
    [`${CAMERA_STREAM}_tdata`]: cam.data.slice(PW - 1, 0),
    [`${CAMERA_STREAM}_tuser`]: cam.data.bit(PW),
    [`${CAMERA_STREAM}_tlast`]: cam.last,
    [`${CAMERA_STREAM}_tvalid`]: cam.valid,
    [`${CAMERA_STREAM}_tready`]: m.wire('cam_tready_unused', 1),
    [`${CAMERA_STREAM}_on`]: camOn,
  });
  const boardBusy = m.wire('board_busy', 1);
  conns.busy = boardBusy;
  for (const p of vb.ports) {
    if (p.name === 'clk' || p.name === 'rst' || p.name in conns) continue;
    conns[p.name] = p.role === 'input' ? m.input(p.name, p.width) : m.output(p.name, p.width);
  }
  m.assign(m.output('busy', 1), boardBusy.or(cam.playing));
  m.instance(vb, 'vboard', conns);
  return m;
}

/** Beats for the player, pre-packed as the simulator's 32-bit limbs. */
export class CameraBeats {
  readonly limbsPerBeat: number;
  private buf: Uint32Array;
  private lastBuf: boolean[] = [];
  /** Indices of the beats flagged start of frame. */
  readonly sofBeats: number[] = [];
  n = 0;
  constructor(readonly ppc: number) {
    this.limbsPerBeat = Math.ceil((8 * ppc + 1 + GAP_BITS) / 32);
    this.buf = new Uint32Array(1024 * this.limbsPerBeat);
  }
  /** One beat: ppc pixels from `px` at `off` (missing pixels are 0), start-of-frame flag, end-of-line flag, idle cycles before it. */
  beat(px: ArrayLike<number>, off: number, sof: boolean, last: boolean, gap: number): void {
    if (!(gap >= 0 && gap < 2 ** GAP_BITS)) throw new InputError(`camera: blanking of ${gap} cycles before one beat exceeds ${2 ** GAP_BITS - 1}`);
    const L = this.limbsPerBeat;
    if ((this.n + 1) * L > this.buf.length) {
      const b = new Uint32Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    const o = this.n * L;
    for (let i = 0; i < this.ppc; i++) {
      const v = (px[off + i] ?? 0) & 0xff;
      this.buf[o + (i >> 2)]! |= v << (8 * (i & 3));
    }
    this.setBits(o, 8 * this.ppc, sof ? 1 : 0, 1);
    this.setBits(o, 8 * this.ppc + 1, gap, GAP_BITS);
    this.lastBuf.push(last);
    if (sof) this.sofBeats.push(this.n);
    this.n++;
  }
  private setBits(o: number, bit: number, v: number, width: number): void {
    for (let k = 0; k < width; k++) if ((v >>> k) & 1) this.buf[o + ((bit + k) >> 5)]! |= 1 << ((bit + k) & 31);
  }
  get limbs(): Uint32Array {
    return this.buf.subarray(0, this.n * this.limbsPerBeat);
  }
  get last(): boolean[] {
    return this.lastBuf;
  }
}

export interface CameraTiming {
  width: number;
  height: number;
  lineBeats: number;
  /** Idle cycles before each line (after the first of a frame) and before each frame. */
  hblank: number;
  vblank: number;
  /** Cycles from one start of frame to the next. */
  period: number;
}

/** Timing of a camera at `fps` (default: the fastest, no blanking): half the blanking between lines, half between frames. */
export function cameraTiming(hw: CellnetHw, width: number, height: number, clockHz: number, fps?: number): CameraTiming {
  checkFrame(hw, width, height);
  const lineBeats = width / hw.ppc;
  const active = height * lineBeats;
  const maxFps = clockHz / active;
  if (fps === undefined) return { width, height, lineBeats, hblank: 0, vblank: 0, period: active };
  if (!(fps > 0)) throw new InputError(`camera rate ${fps} frames/s: must be positive`);
  if (fps > maxFps)
    throw new InputError(
      `camera rate ${fps} frames/s is above what the line rate allows: ${width}x${height} frames at ${hw.ppc} px/cycle and ${clockHz / 1e6} MHz take ${active} cycles, at most ${Math.floor(maxFps)} frames/s`,
    );
  const period = Math.round(clockHz / fps);
  const extra = period - active;
  const hblank = Math.floor(extra / 2 / height);
  return { width, height, lineBeats, hblank, vblank: extra - hblank * (height - 1), period };
}

export function checkFrame(hw: CellnetHw, width: number, height: number, cropX?: number, cropY?: number): void {
  const c = hw.camera;
  const S = hw.cfg.inputSize;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width > c.maxW || height > c.maxH)
    throw new InputError(`camera frame ${width}x${height} is above the generated maximum ${c.maxW}x${c.maxH} (regenerate with a larger maximum)`);
  if (width < S || height < S) throw new InputError(`camera frame ${width}x${height} is smaller than the ${S}x${S} crop`);
  if (width % hw.ppc !== 0) throw new InputError(`camera frame width ${width} is not a multiple of ${hw.ppc} pixels per beat`);
  if (cropX !== undefined && cropY !== undefined) {
    if (!Number.isInteger(cropX) || !Number.isInteger(cropY) || cropX < 0 || cropY < 0 || cropX + S > width || cropY + S > height)
      throw new InputError(`crop ${S}x${S} at (${cropX}, ${cropY}) is outside the ${width}x${height} frame`);
    if (cropX % hw.ppc !== 0) throw new InputError(`crop x offset ${cropX} is not a multiple of ${hw.ppc} pixels per beat`);
  }
}

/** A well-formed frame: `pixels` is width*height raster. */
export function addFrame(out: CameraBeats, t: CameraTiming, pixels: ArrayLike<number>, firstGap: number): void {
  const { width, height, lineBeats, hblank } = t;
  for (let y = 0; y < height; y++)
    for (let b = 0; b < lineBeats; b++)
      out.beat(pixels, y * width + b * out.ppc, y === 0 && b === 0, b === lineBeats - 1, b === 0 ? (y === 0 ? firstGap : hblank) : 0);
}
