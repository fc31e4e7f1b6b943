import { expect } from 'vitest';
import { Rng } from '../../generator/util/rng';
import type { Device } from '../../host/link/device';

/** The workload every transport must carry exactly: weights with readback, and 100 "images" each giving one result. */
export async function workload(dev: Device, seed: number, images = 100): Promise<void> {
  const rng = new Rng(seed);
  const words = Uint32Array.from({ length: 1024 }, () => rng.int(0, 0xffffffff) >>> 0);
  await dev.writeMemory(0, words); // throws on any readback mismatch
  const back = await dev.readMemory(100, 50);
  expect([...back]).toEqual([...words.subarray(100, 150)]);
  await dev.writeReg('xor_mask', 0);
  // Each image: 6 24-bit beats with last on the final one; the core answers each beat with beat+1.
  const sent: number[] = [];
  const last: boolean[] = [];
  for (let i = 0; i < images; i++)
    for (let k = 0; k < 6; k++) {
      sent.push(rng.int(0, 0xfffffe));
      last.push(k === 5);
    }
  const got = dev.collectStream('words_out', sent.length, { signal: AbortSignal.timeout(300_000) });
  await dev.writeStream('words_in', sent, { last });
  const r = await got;
  expect(r.data.map(Number)).toEqual(sent.map((x) => x + 1));
  expect(r.last).toEqual(last);
  expect(r.last.filter(Boolean).length).toBe(images); // one result per image, none lost or duplicated
  // Nothing extra arrives later either (a duplicated beat would trail the expected ones).
  await new Promise((res) => setTimeout(res, 20));
  expect((await dev.readStream('words_out')).data.length).toBe(0);
  expect(await dev.readReg('rx_frames_ok')).toBeGreaterThan(0);
}

