/**
 * Drive the cell sorter's camera port in Verilator: register writes, then camera beats (sim/camera.ts) played at
 * their exact timing inside the simulator; returns the events, pulse edges, every counter and the cycle of each
 * start of frame. Shared by the camera tests, `lutforge sort --camera` on the simulator and bench/cellnet.ts.
 */
import { CAMERA_COUNTERS } from '../../generator/cellnet/rtl/camera';
import type { Pulse, TriggerEvent } from '../../generator/cellnet/rtl/trigger-golden';
import { CAMSRC_STREAM, type CameraBeats } from '../camera';
import { decodeEdges, decodeEvent, regWord, type CellnetSim } from './cellnet';

export interface CameraCounters {
  frames: number;
  overflow: number;
  shortLines: number;
  longLines: number;
  shortFrames: number;
  longFrames: number;
  empty: number;
  perClass: number[];
  fired: number;
  dropped: number;
  eventsLost: number;
}

export interface CameraRunResult {
  events: TriggerEvent[];
  pulses: Pulse[];
  counters: CameraCounters;
  /** Cycle of every beat flagged start of frame, in order. */
  sofCycles: number[];
  cycles: number;
}

export interface CameraRunOptions {
  seed?: number;
  /** Probability of event ready low per cycle. */
  eventStall?: number;
  /** Extra random blanking: probability per cycle that the player's source withholds the next beat. */
  blankStall?: number;
  /** Cycles to run after the last camera beat (pulses finishing, the last decisions). */
  tail?: number;
}

export async function runCameraFrames(cs: CellnetSim, writes: ReadonlyArray<{ addr: number; value: number }>, beats: CameraBeats, o: CameraRunOptions = {}): Promise<CameraRunResult> {
  const { hw } = cs;
  const run = await cs.sim.start({
    seed: o.seed ?? 1,
    stall: { default: 0, event: o.eventStall ?? 0, [CAMSRC_STREAM]: o.blankStall ?? 0 },
    stampInputs: true,
    maxCycles: 1e11,
    idleCycles: 2 ** 30,
  });
  try {
    await run.push('cfg', writes.map((w) => regWord(hw, w.addr, w.value)));
    await run.run();
    const events: TriggerEvent[] = [];
    const drain = (): void => {
      for (const w of run.take('event').data) events.push(decodeEvent(hw, w));
    };
    const limbs = beats.limbs;
    const L = beats.limbsPerBeat;
    const chunk = 65536;
    for (let b0 = 0; b0 < beats.n; b0 += chunk) {
      const b1 = Math.min(beats.n, b0 + chunk);
      await run.push(CAMSRC_STREAM, limbs.subarray(b0 * L, b1 * L), { last: beats.last.slice(b0, b1) });
      await run.run();
      drain();
    }
    await run.step(o.tail ?? 4096);
    drain();
    const rd = async (n: string): Promise<number> => Number(await run.read(n));
    const cls = await run.read('class_counts');
    const CB = BigInt(hw.camera.counterBits);
    const counters: CameraCounters = {
      frames: await rd(CAMERA_COUNTERS[0]),
      overflow: await rd('cam_overflow'),
      shortLines: await rd('cam_short_lines'),
      longLines: await rd('cam_long_lines'),
      shortFrames: await rd('cam_short_frames'),
      longFrames: await rd('cam_long_frames'),
      empty: await rd('empty_frames'),
      perClass: Array.from({ length: hw.classes }, (_, k) => Number((cls >> (CB * BigInt(k))) & ((1n << CB) - 1n))),
      fired: await rd('fired_count'),
      dropped: await rd('dropped_count'),
      eventsLost: await rd('events_lost'),
    };
    const pulses = decodeEdges(run.take('edges').data);
    const stamps = run.inputCycles(CAMSRC_STREAM);
    const sofCycles = beats.sofBeats.map((i) => stamps[i]!);
    const stats = await run.finish();
    return { events, pulses, counters, sofCycles, cycles: stats.cycles };
  } finally {
    run.kill();
  }
}
