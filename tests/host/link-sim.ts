/** Helpers for the host link against the TS device model under fake timers (link-model*.test.ts). */
import { vi } from 'vitest';
import { LinkDeviceModel } from '../../generator/link/model';
import type { RegMap } from '../../generator/regmap/regmap';
import { Device } from '../../host/link/device';
import { ModelLine, type ModelLineOptions } from '../../host/link/model-line';
import { FramedOps } from '../../host/link/ops';
import { workload } from './link-workload';

/** Runs `fn` with fake timers, advancing simulated time until it settles (bounded, so a livelock fails). */
export async function simulated<T>(fn: () => Promise<T>, maxSimMs = 3_600_000): Promise<T> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'performance', 'Date'] });
  let done = false;
  const p = fn().finally(() => (done = true));
  p.catch(() => undefined);
  const t0 = performance.now();
  while (!done) {
    if (performance.now() - t0 > maxSimMs) throw new Error(`no result after ${maxSimMs} ms of simulated time (livelock?)`);
    if (vi.getTimerCount()) await vi.advanceTimersToNextTimerAsync();
    else await vi.advanceTimersByTimeAsync(1);
  }
  return p;
}

/** The shared workload (weights with readback, 100 images) over a model line; returns the model and the link. */
export async function runModel(map: RegMap, line: ModelLineOptions, seed: number): Promise<{ model: LinkDeviceModel; ops: FramedOps; line: ModelLine }> {
  vi.spyOn(Math, 'random').mockReturnValue(0.25); // the link's first seq and nonce: deterministic runs
  const model = new LinkDeviceModel(map);
  const ml = new ModelLine(model, line);
  const ops = new FramedOps(ml);
  await simulated(async () => {
    const dev = await Device.open(ops, map);
    await workload(dev, seed);
    await dev.close();
  });
  return { model, ops, line: ml };
}
