/**
 * Long regression of selective repeat against the TS device model (fake timers, deterministic per seed): many seeds
 * at 1 % and 3 % byte faults, with the default reorder buffer (16 slots) and the bench's (64 slots). Each run carries
 * the shared workload (memory with readback, 100 images in order, nothing extra) and checks the device executed
 * exactly the sent beats and never a malformed request.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { linkConfig } from '../../generator/link/config';
import { linkTestCore } from '../../generator/link/testcore';
import { linkBoardTop } from '../../generator/link/top';
import { runModel } from './link-sim';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const maps = {
  '16 slots': linkBoardTop(linkTestCore(), linkConfig({ simClocksPerBit: 8 }), { design: 'linktest', memWords: 1024 }).regmap,
  '64 slots': linkBoardTop(linkTestCore(), linkConfig({ simClocksPerBit: 8, maxFrames: 64, rxFifoBytes: 8192 }), { design: 'linktest', memWords: 1024 }).regmap,
};

describe.each(Object.entries(maps))('selective repeat against the model, %s', (_name, map) => {
  const wi = map.channels.find((c) => c.dir === 'in' && c.name === 'words_in')!;
  const cases = [
    ...Array.from({ length: 24 }, (_, i) => ({ seed: 200 + i, rate: 0.01, declaredBaud: 3_000_000 })),
    ...Array.from({ length: 12 }, (_, i) => ({ seed: 300 + i, rate: 0.03, declaredBaud: 115_200 })),
    ...Array.from({ length: 6 }, (_, i) => ({ seed: 400 + i, rate: 0.05, declaredBaud: 115_200 })),
  ];
  for (const c of cases)
    it(`${c.rate * 100}% byte faults, seed ${c.seed}`, async () => {
      const f = c.rate / 3;
      const { model } = await runModel(map, { baud: 115_200, declaredBaud: c.declaredBaud, latencyMs: 2, faults: { corrupt: f, drop: f, duplicate: f, seed: c.seed } }, c.seed);
      expect(model.stats.badRequests).toBe(0);
      expect(model.delivered[wi.index]!.length).toBe(100 * 6 * wi.bytes);
    });
});
