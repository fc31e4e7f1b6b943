/**
 * `sort --camera` on a board (serial:PATH, tcp:HOST:PORT — a real board or `lutforge vboard --camera`): the camera
 * is the board's video input (generator/link/top.ts videoIn), so no pixel crosses the link. Over the link the host
 * stops the camera, drains stale events, reads the counters as a baseline (a board keeps counting between runs),
 * programs frame size, crop, presence gate, event mode and trigger (CTRL last: camera on), then polls events and
 * counters until the camera's N frames are all resolved. With --check the events are compared with the golden on
 * the same crop: the host must be given the frames the camera sends (synthetic:N with the board's seed, or the
 * IDX file the camera plays); the pulse pin is not observed over the link.
 */
import { CAMERA_COUNTERS } from '../../generator/cellnet/rtl/camera';
import { CTRL_CAMERA, REGS } from '../../generator/cellnet/rtl/plan';
import type { TriggerEvent } from '../../generator/cellnet/rtl/trigger-golden';
import { ConfigError, InputError } from '../../generator/util/errors';
import { regWord } from '../../sim/designs/cellnet';
import { cellnetLinked, decodeEvent } from '../designs/cellnet';
import { DeviceMismatchError, type Device } from '../link/device';
import { openDevice } from '../link/open';
import { summarise, type CameraSortRun } from './camera-report';
import { cameraSetup, goldenCrops, type CameraSortRequest } from './camera-setup';
import { explainMismatch } from './replay';

const COUNTERS = [...CAMERA_COUNTERS, 'empty_frames', 'fired_count', 'dropped_count', 'events_lost'] as const;
/** Give up when neither counters nor events moved for this long (a camera that is not connected or not running). */
const STALL_MS = 60_000;

/** A board running the serial engine has no camera: say so instead of a bare version mismatch. */
export function explainCameraMismatch(e: unknown, ppc: number): unknown {
  if (e instanceof DeviceMismatchError && e.reported && e.reported.version === cellnetLinked(1, true).regmap.version)
    return new DeviceMismatchError(`${e.message}. The board runs the serial engine (iCE40 builds), which has no camera port: --camera needs a streaming cellnet build with its camera input connected`, e.reported);
  return explainMismatch(e, ppc);
}

async function readCounters(dev: Device, classes: number, counterBits: number): Promise<{ named: Record<string, number>; perClass: number[] }> {
  const named: Record<string, number> = {};
  for (const n of COUNTERS) named[n] = await dev.readReg(n);
  const cls = await dev.readPort('class_counts');
  const CB = BigInt(counterBits);
  const perClass = Array.from({ length: classes }, (_, k) => Number((cls >> (CB * BigInt(k))) & ((1n << CB) - 1n)));
  return { named, perClass };
}

export async function runCameraOverLink(req: CameraSortRequest, onProgress?: (frames: number, total: number) => void): Promise<CameraSortRun> {
  const c = cellnetLinked(req.ppc);
  if (!c.hasCamera) throw new ConfigError('camera', 'this cellnet build has no camera port', req.camera);
  const d = c.design;
  const hw = d.hw;
  const names = d.cfg.classes.map((x) => x.name);
  // Check the spec and the settings before touching the board (with the host's idea of the clock; redone below).
  cameraSetup(req, d);
  const dev = await openDevice(req.device, c.regmap).catch((e: unknown) => {
    throw explainCameraMismatch(e, req.ppc);
  });
  try {
    // Cycles and µs at the board's own clock.
    const clockHz = await dev.readReg('clock_hz');
    const setup = cameraSetup({ ...req, clockHz }, d);
    const n = setup.source.n;
    const cfg = (ws: Array<{ addr: number; value: number }>) => dev.writeStream('cfg', ws.map((w) => regWord(hw, w.addr, w.value)));
    await cfg([{ addr: REGS.CTRL, value: 0 }]);
    while ((await dev.readStream('event')).data.length);
    const mod = 2 ** hw.camera.counterBits;
    const base = await readCounters(dev, names.length, hw.camera.counterBits);
    const delta = (now: Awaited<ReturnType<typeof readCounters>>) => ({
      named: Object.fromEntries(COUNTERS.map((k) => [k, (now.named[k]! - base.named[k]! + mod) % mod])),
      perClass: now.perClass.map((v, k) => (v - base.perClass[k]! + mod) % mod),
    });
    await cfg(setup.writes);
    if (!(setup.writes.at(-1)!.value & CTRL_CAMERA)) throw new Error('camera: CTRL must be written last, with the camera on');
    const t0 = performance.now();
    const events: TriggerEvent[] = [];
    let tEnd = t0;
    let lastMove = t0;
    let seen = '';
    for (;;) {
      const b = await dev.readStream('event');
      for (const w of b.data) events.push(decodeEvent(d, w));
      if (b.data.length) continue;
      const now = delta(await readCounters(dev, names.length, hw.camera.counterBits));
      const k = now.named;
      const classified = now.perClass.reduce((a, x) => a + x, 0);
      const resolved = classified + k.empty_frames! + k.cam_overflow! + k.cam_short_lines! + k.cam_long_lines! + k.cam_short_frames!;
      onProgress?.(k.cam_frames!, n);
      const sig = JSON.stringify([now, events.length]);
      if (sig !== seen) {
        seen = sig;
        lastMove = performance.now();
      }
      if (k.cam_frames! >= n && resolved >= k.cam_frames!) {
        if (!tEnd || tEnd === t0) tEnd = performance.now();
        // counters are final: one more empty read of the event channel and every event is in
        if (!(await dev.readStream('event')).data.length) {
          const counters = k;
          const perClass = Object.fromEntries(names.map((nm, i) => [nm, now.perClass[i]!]));
          if (k.cam_frames! > n) throw new InputError(`camera: the board saw ${k.cam_frames} frames, the host expected ${n} (${req.camera}): give sort the frames the camera sends`);
          const tCheck = performance.now();
          const golden = req.check ? goldenCrops(setup, setup.source.frames(0, n)) : [];
          const checkSeconds = (performance.now() - tCheck) / 1000;
          return summarise(setup, {
            events,
            golden,
            pulses: null,
            counters,
            perClass,
            sofCycle: null,
            frameBase: base.named.cam_frames! & ((1 << hw.frameBits) - 1),
            wallSeconds: (tEnd - t0) / 1000,
            prepareSeconds: 0,
            checkSeconds,
            simCycles: null,
          });
        }
        continue;
      }
      if (performance.now() - lastMove > STALL_MS)
        throw new InputError(`camera: ${k.cam_frames} of ${n} frames arrived and nothing moved for ${STALL_MS / 1000} s: is the camera connected to the board's video input and running (a virtual board plays its frames once)?`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await dev.close();
  }
}
