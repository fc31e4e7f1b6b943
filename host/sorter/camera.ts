/**
 * `lutforge sort --camera`. On `--device sim` the camera runs inside the core's simulation (sim/camera.ts): the host
 * programs the registers, the camera model plays frames at the requested rate into the core's AXI4-Stream video
 * port, and the host reads events, pulse edges and counters; pixels never cross a link. On a board (serial:, tcp:)
 * the camera is the board's own video input and everything goes over the link (camera-link.ts). Setup and report
 * are shared (camera-setup.ts, camera-report.ts).
 *
 * The frames are prepared before the run (a camera does not synthesise them) and handed to the simulator in bulk;
 * the decision rate is wall clock from the first beat to the last decision; the golden check runs afterwards and
 * its time is reported apart.
 */
import { cellnetDesign } from '../../generator/cellnet/rtl/design';
import { CAMERA_COUNTERS } from '../../generator/cellnet/rtl/camera';
import type { TriggerEvent } from '../../generator/cellnet/rtl/trigger-golden';
import { CAMSRC_STREAM } from '../../sim/camera';
import { buildCellnetSim, decodeEdges, decodeEvent, regWord } from '../../sim/designs/cellnet';
import { runCameraOverLink } from './camera-link';
import { summarise, type CameraSortRun } from './camera-report';
import { cameraFrames, cameraSetup, goldenCrops, type CameraSortRequest } from './camera-setup';

export type { CameraSortRequest } from './camera-setup';
export { cameraSortPassed, formatCameraSummary, type CameraSortRun, type CameraSortSummary } from './camera-report';

const CHUNK = 100;

export async function runCameraSorter(req: CameraSortRequest, onProgress?: (frames: number, total: number) => void): Promise<CameraSortRun> {
  if (req.device !== 'sim') return runCameraOverLink(req, onProgress);
  const d = cellnetDesign({ ppc: req.ppc });
  const hw = d.hw;
  const setup = cameraSetup(req, d);
  const { t, source } = setup;
  const cs = await buildCellnetSim(d.cfg, d.q, hw.ppc);
  const run = await cs.sim.start({ seed: req.seed, stall: { default: 0 }, stampInputs: true, maxCycles: Number.MAX_SAFE_INTEGER, idleCycles: 2 ** 30 });
  const events: TriggerEvent[] = [];
  // The camera's frames exist before it runs (a real camera does not synthesise them): prepare them first.
  const tPrep = performance.now();
  const { px, beats } = cameraFrames(setup);
  const prepareSeconds = (performance.now() - tPrep) / 1000;
  try {
    await run.push('cfg', setup.writes.map((w) => regWord(hw, w.addr, w.value)));
    await run.run();
    const take = (): void => {
      for (const w of run.take('event').data) events.push(decodeEvent(hw, w));
      onProgress?.(events.length, source.n);
    };
    const t0 = performance.now();
    const L = beats.limbsPerBeat;
    const per = CHUNK * t.height * t.lineBeats;
    for (let b0 = 0; b0 < beats.n; b0 += per) {
      const b1 = Math.min(beats.n, b0 + per);
      await run.push(CAMSRC_STREAM, beats.limbs.subarray(b0 * L, b1 * L), { last: beats.last.slice(b0, b1), more: true });
    }
    await run.end(CAMSRC_STREAM);
    await run.run();
    // the last frame's decision is one frame time after its start of frame
    await run.step(2 * t.period + 64);
    take();
    const tEnd = performance.now();
    await run.step(setup.delay + setup.width + 64);
    take();
    const tCheck = performance.now();
    const golden = req.check ? goldenCrops(setup, px) : [];
    const checkSeconds = (performance.now() - tCheck) / 1000;
    const rd = async (n: string): Promise<number> => Number(await run.read(n));
    const counters: Record<string, number> = {};
    for (const n of [...CAMERA_COUNTERS, 'empty_frames', 'fired_count', 'dropped_count', 'events_lost']) counters[n] = await rd(n);
    const cls = await run.read('class_counts');
    const CB = BigInt(hw.camera.counterBits);
    const perClass = Object.fromEntries(d.cfg.classes.map((c, k) => [c.name, Number((cls >> (CB * BigInt(k))) & ((1n << CB) - 1n))]));
    const pulses = decodeEdges(run.take('edges').data);
    const stamps = run.inputCycles(CAMSRC_STREAM);
    const stats = await run.finish();
    const beatsPerFrame = t.height * t.lineBeats;
    return summarise(setup, {
      events,
      golden,
      pulses,
      counters,
      perClass,
      sofCycle: (f) => stamps[f * beatsPerFrame]!,
      frameBase: 0,
      wallSeconds: (tEnd - t0) / 1000,
      prepareSeconds,
      checkSeconds,
      simCycles: stats.cycles,
    });
  } finally {
    run.kill();
  }
}
