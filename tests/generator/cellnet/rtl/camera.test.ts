/**
 * The camera port in Verilator (ppc 8, shipped model): good, short-line, long-line, short, long, overflowing and empty
 * frames with random blanking. Expected fates and counters follow from how each frame is built here (not from the
 * RTL or a model of it); every classified frame must equal the golden classifier on its crop, with its start-of-
 * frame timestamp the cycle its first beat arrived and its pulse exactly `delay` cycles after that.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { goldenClassify } from '../../../../generator/cellnet/golden';
import { CTRL_CAMERA, CTRL_ENABLE, EVENT_MODES, REGS } from '../../../../generator/cellnet/rtl/plan';
import { synthImages } from '../../../../generator/cellnet/synth';
import { Rng } from '../../../../generator/util/rng';
import { CameraBeats, checkFrame, cameraTiming } from '../../../../sim/camera';
import { buildCellnetSim, type CellnetSim } from '../../../../sim/designs/cellnet';
import { runCameraFrames } from '../../../../sim/designs/cellnet-camera';
import { shippedModel } from './helpers';

const W = 64;
const H = 64;
const PPC = 8;
const DELAY = 6000;
const WIDTH = 20;
const BG = 140;

type Fate = 'event' | 'empty' | 'short_line' | 'long_line' | 'short_frame' | 'long_frame' | 'overflow' | 'short_frame_after_crop' | 'short_frame_before_crop';

describe('camera port (AXI4-Stream video) in Verilator', () => {
  let cs: CellnetSim;
  beforeAll(async () => {
    const { model, q } = shippedModel();
    cs = await buildCellnetSim(model.config, q, PPC);
  }, 900_000);

  function crop(px: Uint8Array, cx: number, cy: number): Uint8Array {
    const S = 48;
    const out = new Uint8Array(S * S);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[y * S + x] = px[(y + cy) * W + x + cx]!;
    return out;
  }

  it('counts every bad frame exactly, resynchronises, classifies every good frame bit-exactly; empty frames (presence gate) are counted and raise no event and no pulse', async () => {
    const rng = new Rng(7);
    const imgs = synthImages(16, { seed: 3, labels: [0, 1] });
    const frame = (i: number) => imgs.pixels.subarray(i * W * H, (i + 1) * W * H);
    const flat = Uint8Array.from({ length: W * H }, () => BG + rng.int(-2, 2));
    // each entry: the frame's pixels and how it is cut / mangled
    const plan: Array<{ img: Uint8Array; fate: Fate }> = [
      { img: frame(0), fate: 'event' },
      { img: frame(1), fate: 'short_line' },
      { img: frame(2), fate: 'event' },
      { img: frame(3), fate: 'long_line' },
      { img: frame(4), fate: 'event' },
      { img: frame(5), fate: 'short_frame' }, // cut at 30 lines, inside the crop: the rest of its crop is padded ...
      { img: frame(6), fate: 'overflow' }, // ... so this frame, arriving right away, cannot be taken
      { img: frame(7), fate: 'event' },
      { img: frame(8), fate: 'long_frame' }, // 66 lines: classified at line 63, the 2 extra lines counted
      { img: frame(9), fate: 'short_frame_after_crop' }, // 58 lines: crop complete, frame dropped
      { img: frame(10), fate: 'short_frame_before_crop' }, // 5 lines
      { img: frame(11), fate: 'event' },
      { img: flat, fate: 'empty' },
      { img: frame(12), fate: 'event' },
      { img: frame(13), fate: 'event' },
    ];
    const t = cameraTiming(cs.hw, W, H, 250e6);
    const beats = new CameraBeats(PPC);
    const lb = t.lineBeats;
    for (const [i, f] of plan.entries()) {
      const lines = f.fate === 'short_frame' ? 30 : f.fate === 'short_frame_after_crop' ? 58 : f.fate === 'short_frame_before_crop' ? 5 : f.fate === 'long_frame' ? 66 : H;
      const gapFrame = f.fate === 'overflow' ? 0 : i === 0 ? 0 : rng.int(0, 60);
      for (let y = 0; y < lines; y++) {
        let n = lb;
        if (f.fate === 'short_line' && y === 20) n = 3;
        if (f.fate === 'long_line' && y === 30) n = lb + 1;
        for (let b = 0; b < n; b++) {
          const gap = b === 0 ? (y === 0 ? gapFrame : rng.int(0, 6)) : rng.int(0, 3) === 0 ? rng.int(0, 2) : 0;
          beats.beat(f.img, (y % H) * W + (b % lb) * PPC, y === 0 && b === 0, b === n - 1, gap);
        }
      }
    }
    const sum = (img: Uint8Array) => crop(img, 8, 8).reduce((a, p) => a + Math.abs(p - BG), 0);
    const presence = 48 * 48 * 3;
    for (const f of plan) if (f.fate === 'event') expect(sum(f.img)).toBeGreaterThan(presence);
    expect(sum(flat)).toBeLessThanOrEqual(presence);

    const writes = [
      { addr: REGS.CLASS_MASK, value: 3 },
      { addr: REGS.THRESHOLD, value: 0 },
      { addr: REGS.DELAY, value: DELAY },
      { addr: REGS.WIDTH, value: WIDTH },
      { addr: REGS.EVENT_MODE, value: EVENT_MODES.ALL },
      { addr: REGS.BACKGROUND, value: BG },
      { addr: REGS.PRESENCE, value: presence },
      { addr: REGS.CTRL, value: CTRL_ENABLE | CTRL_CAMERA },
    ];
    const r = await runCameraFrames(cs, writes, beats, { seed: 5, eventStall: 0.3, blankStall: 0.2, tail: DELAY + 2000 });
    const count = (...fs: Fate[]) => plan.filter((f) => fs.includes(f.fate)).length;
    expect(r.counters).toEqual({
      frames: plan.length,
      overflow: count('overflow'),
      shortLines: count('short_line'),
      longLines: count('long_line'),
      shortFrames: count('short_frame', 'short_frame_after_crop', 'short_frame_before_crop'),
      longFrames: count('long_frame'),
      empty: count('empty'),
      perClass: r.counters.perClass,
      fired: count('event', 'long_frame'),
      dropped: 0,
      eventsLost: 0,
    });
    const classified = plan.map((f, i) => ({ ...f, i })).filter((f) => f.fate === 'event' || f.fate === 'long_frame');
    const { q } = shippedModel();
    const want = classified.map((f) => {
      const g = goldenClassify(q, crop(f.img, 8, 8));
      return { frame: f.i, cls: g.cls, score: g.score, sof: r.sofCycles[f.i]!, fired: true, dropped: false };
    });
    expect(r.events.map(({ frame, cls, score, sof, fired, dropped }) => ({ frame, cls, score, sof, fired, dropped }))).toEqual(want);
    expect(r.counters.perClass.reduce((a, b) => a + b, 0)).toBe(classified.length);
    expect(r.counters.perClass).toEqual([0, 1].map((k) => want.filter((w) => w.cls === k).length));
    // start of frame to pulse: exactly DELAY cycles for every classified frame, and no other pulse
    expect(r.pulses).toEqual(want.map((w) => ({ start: w.sof + DELAY, end: w.sof + DELAY + WIDTH })));
    for (const e of r.events) expect(e.timestamp).toBeLessThan(e.sof + DELAY);
  }, 600_000);

  it('event modes: fired only and one in N push only those events; the counters still count every decision', async () => {
    const imgs = synthImages(12, { seed: 4, labels: [0, 1] });
    const t = cameraTiming(cs.hw, W, H, 250e6);
    const beats = new CameraBeats(PPC);
    for (let i = 0; i < imgs.n; i++) {
      const px = imgs.pixels.subarray(i * W * H, (i + 1) * W * H);
      for (let y = 0; y < H; y++) for (let b = 0; b < t.lineBeats; b++) beats.beat(px, y * W + b * PPC, y === 0 && b === 0, b === t.lineBeats - 1, b === 0 ? (y === 0 ? 40 : 2) : 0);
    }
    const { q } = shippedModel();
    const gold = Array.from({ length: imgs.n }, (_, i) => goldenClassify(q, crop(imgs.pixels.subarray(i * W * H, (i + 1) * W * H), 8, 8)));
    const base = [
      { addr: REGS.CLASS_MASK, value: 2 },
      { addr: REGS.DELAY, value: DELAY },
      { addr: REGS.WIDTH, value: WIDTH },
    ];
    const fired = await runCameraFrames(cs, [...base, { addr: REGS.EVENT_MODE, value: EVENT_MODES.FIRED }, { addr: REGS.CTRL, value: CTRL_ENABLE | CTRL_CAMERA }], beats, { tail: DELAY + 2000 });
    const t4 = gold.map((g, i) => ({ g, i })).filter((x) => x.g.cls === 1);
    expect(t4.length).toBeGreaterThan(0);
    expect(t4.length).toBeLessThan(imgs.n);
    expect(fired.events.map((e) => e.frame)).toEqual(t4.map((x) => x.i));
    expect(fired.counters.fired).toBe(t4.length);
    expect(fired.counters.perClass).toEqual([imgs.n - t4.length, t4.length]);
    const nth = await runCameraFrames(cs, [...base, { addr: REGS.EVENT_MODE, value: EVENT_MODES.ONE_IN_N }, { addr: REGS.EVENT_N, value: 5 }, { addr: REGS.CTRL, value: CTRL_ENABLE | CTRL_CAMERA }], beats, { tail: DELAY + 2000 });
    expect(nth.events.map((e) => [e.frame, e.cls, e.score])).toEqual([0, 5, 10].map((i) => [i, gold[i]!.cls, gold[i]!.score]));
    expect(nth.pulses.length).toBe(t4.length);
  }, 600_000);

  it('refuses frames above the generated maximum, crops outside the frame and rates above the line rate', () => {
    expect(() => checkFrame(cs.hw, 72, 64)).toThrow(/above the generated maximum 64x64/);
    expect(() => checkFrame(cs.hw, 64, 64, 24, 8)).toThrow(/outside the 64x64 frame/);
    expect(() => checkFrame(cs.hw, 64, 64, 4, 8)).toThrow(/multiple of 8/);
    expect(() => cameraTiming(cs.hw, 64, 64, 250e6, 600_000)).toThrow(/above what the line rate allows.*at most 488281 frames\/s/);
    expect(cameraTiming(cs.hw, 64, 64, 250e6, 100_000).period).toBe(2500);
  });
});
