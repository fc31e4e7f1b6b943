/**
 * The host link against the TS device model (generator/link/model.ts) on an emulated line, under fake timers:
 * fast and deterministic, so protocol races (timeouts while frames are still queued on a slow line, lost
 * acknowledgements, duplicates) reproduce exactly from a seed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { linkConfig } from '../../generator/link/config';
import { LinkDeviceModel } from '../../generator/link/model';
import { linkTestCore } from '../../generator/link/testcore';
import { linkBoardTop } from '../../generator/link/top';
import { buildRegMap } from '../../generator/regmap/regmap';
import { Device, DeviceMismatchError } from '../../host/link/device';
import { ModelLine, type ModelLineOptions } from '../../host/link/model-line';
import { FramedOps } from '../../host/link/ops';
import { runModel, simulated } from './link-sim';

const map = linkBoardTop(linkTestCore(), linkConfig({ simClocksPerBit: 8 }), { design: 'linktest', memWords: 1024 }).regmap;

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const run = (line: ModelLineOptions, seed: number): ReturnType<typeof runModel> => runModel(map, line, seed);

describe('host link against the TS device model', () => {
  it('carries the workload on a clean line', async () => {
    const { model } = await run({ baud: 115_200, latencyMs: 1 }, 1);
    expect(model.stats.badRequests).toBe(0);
  });

  const seeds = (process.env.LINK_MODEL_SEEDS ?? '1,2,3,4,5,6,7,8').split(',').map(Number);
  for (const seed of seeds)
    it(`loses, duplicates and reorders nothing with 1% byte faults and a slow line declared fast (seed ${seed})`, async () => {
      // The host believes 3 Mbaud; the line really runs at 115200, so timeouts fire while frames are still queued.
      const { model, ops, line } = await run({ baud: 115_200, declaredBaud: 3_000_000, latencyMs: 2, faults: { corrupt: 0.004, drop: 0.003, duplicate: 0.003, seed } }, seed);
      expect(model.stats.badRequests).toBe(0);
      // Exactly once at the device too: it executed exactly the sent number of beat bytes (the workload checked every
      // result beat for beat, in order, and that nothing trails them).
      const wi = map.channels.find((c) => c.dir === 'in' && c.name === 'words_in')!;
      expect(model.delivered[wi.index]!.length).toBe(100 * 6 * wi.bytes);
      expect(ops.link.stats.retransmitRounds + ops.link.stats.naks).toBeGreaterThan(0);
      expect(line.toDevice.counts.corrupted + line.toDevice.counts.dropped + line.toDevice.counts.duplicated).toBeGreaterThan(50);
    });

  for (const seed of [101, 102, 103])
    it(`also at 3% byte faults on an honestly declared line (seed ${seed})`, async () => {
      const { model } = await run({ baud: 115_200, latencyMs: 1, faults: { corrupt: 0.01, drop: 0.01, duplicate: 0.01, seed } }, seed);
      expect(model.stats.badRequests).toBe(0);
    });

  it('refuses a bitstream of link protocol revision 2 with a message naming the revision', async () => {
    const input = { design: 'linktest', ports: [], channels: [], memory: null, link: map.link };
    const old = new LinkDeviceModel(buildRegMap({ ...input, linkRevision: 2 }));
    const host = buildRegMap(input);
    expect(host.version).not.toBe(old.map.version);
    vi.spyOn(Math, 'random').mockReturnValue(0.25);
    const err = await simulated(() => Device.open(new FramedOps(new ModelLine(old, { baud: 115_200, latencyMs: 1 })), host).then(() => null, (e: unknown) => e));
    expect(err).toBeInstanceOf(DeviceMismatchError);
    expect(String(err)).toMatch(/link protocol revision 3, selective repeat\); rebuild the bitstream.*built before link protocol revision 3 cannot be driven/);
  });

  it('a frame ahead of a lost one is held, reported and executed in order (model filing rule)', () => {
    const model = new LinkDeviceModel(map);
    model.expected = 10;
    const w = (seq: number, v: number): Uint8Array => Uint8Array.from([0x02, seq, 4, 0, v, 0, 0, 0]);
    expect(model.receive(w(11, 0x11))).toBe(true);
    expect([...model.next()!]).toEqual([0xff, 10, 0, 0, 0, 11, 0b10, 0]); // hole report
    expect(model.receive(w(11, 0x99))).toBe(false); // a copy of a held frame
    expect(model.receive(w(10 + map.link.maxFrames, 0x99))).toBe(true); // beyond the window: control slot
    expect([...model.next()!]).toEqual([0xff, 10, 0, 0, 0x02, 10 + map.link.maxFrames, 0b10, 0]);
    expect(model.receive(w(10, 0x10))).toBe(true);
    expect([...model.next()!]).toEqual([0x82, 10, 0]);
    expect([...model.next()!]).toEqual([0x82, 11, 0]);
    expect(model.next()).toBeNull(); // the hole report is stale once `expected` passed 11
    expect(model.regs.get(4)).toBe(0x11);
  });
});
