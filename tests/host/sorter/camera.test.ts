/**
 * `lutforge sort --camera` on the simulator (ppc 8 build, shared with the camera RTL test): a short synthetic run
 * checked against the goldens, event modes through the CLI options, and every bad camera input refused before
 * anything runs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCameraSorter, type CameraSortRequest } from '../../../host/sorter/camera';
import { explainCameraMismatch } from '../../../host/sorter/camera-link';
import { cellnetLinked } from '../../../host/designs/cellnet';
import { DeviceMismatchError } from '../../../host/link/device';

const base: CameraSortRequest = {
  device: 'sim',
  camera: 'synthetic:24',
  sort: ['1'],
  threshold: 0,
  delayUs: 10,
  widthUs: 1,
  ppc: 8,
  seed: 2,
  check: true,
  events: 'all',
  background: 0,
  presence: 0,
  clockHz: 100e6,
};

function idx(dims: number[], data: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  const v = new DataView(head.buffer);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

describe('lutforge sort --camera (simulator)', () => {
  it('classifies every frame, every event and pulse equal to the golden model, start of frame to trigger = delay', async () => {
    const r = (await runCameraSorter(base)).summary;
    expect(r.frames).toBe(24);
    expect(r.events).toBe(24);
    expect(r.drops).toBe(0);
    expect(r.goldenMismatches).toBe(0);
    expect(r.pulseMismatches).toBe(0);
    expect(r.counters.cam_frames).toBe(24);
    expect(Object.values(r.perClass).reduce((a, b) => a + b, 0)).toBe(24);
    expect(r.perClass.T4).toBeGreaterThan(0);
    expect(r.sofToTrigger.cycles).toBe(1000); // 10 µs at 100 MHz
    expect(r.sofToTrigger.jitterCycles).toBe(0);
    expect(r.sofToDecision.minCycles).toBe(r.sofToDecision.maxCycles);
  }, 600_000);

  it('fired-only mode from an IDX file at a given rate: only T4 events, counters still complete', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lf-cam-'));
    const file = path.join(dir, 'frames.idx');
    const { synthImages } = await import('../../../generator/cellnet/synth');
    writeFileSync(file, idx([10, 64, 64], synthImages(10, { seed: 9, labels: [0, 1] }).pixels));
    const r = (await runCameraSorter({ ...base, camera: `${file}@50000`, events: 'fired', delayUs: 20 })).summary;
    expect(r.fps).toBe(50000);
    expect(r.goldenMismatches).toBe(0);
    expect(r.events).toBe(r.perClass.T4);
    expect(r.perClass.B! + r.perClass.T4!).toBe(10);
  }, 600_000);

  it('refuses bad camera input with a clear error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lf-cam-'));
    const big = path.join(dir, 'big.idx');
    writeFileSync(big, idx([2, 72, 72], new Uint8Array(2 * 72 * 72)));
    await expect(runCameraSorter({ ...base, camera: big })).rejects.toThrow(/72x72 is above the generated maximum 64x64/);
    const flat = path.join(dir, 'flat.idx');
    writeFileSync(flat, idx([4096], new Uint8Array(4096)));
    await expect(runCameraSorter({ ...base, camera: flat })).rejects.toThrow(/expected an IDX file of frames/);
    const cut = path.join(dir, 'cut.idx');
    writeFileSync(cut, idx([3, 64, 64], new Uint8Array(100)));
    await expect(runCameraSorter({ ...base, camera: cut })).rejects.toThrow(/cut\.idx/);
    await expect(runCameraSorter({ ...base, camera: 'synthetic:5@10000000' })).rejects.toThrow(/above what the line rate allows/);
    await expect(runCameraSorter({ ...base, camera: 'synthetic:5@fast' })).rejects.toThrow(/positive number of frames\/s/);
    await expect(runCameraSorter({ ...base, delayUs: 1 })).rejects.toThrow(/must exceed the frame's 512 cycles/);
    await expect(runCameraSorter({ ...base, events: '1/0' })).rejects.toThrow(/'all', 'fired' or '1\/N'/);
    // a board running the serial engine (no camera port) is named as such, not just as a version mismatch
    const serial = cellnetLinked(1, true).regmap;
    const e = explainCameraMismatch(new DeviceMismatchError("device runs 'cellnet' version 0x1, host expects 0x2", { designId: serial.designId, version: serial.version }), 8) as Error;
    expect(e.message).toMatch(/serial engine \(iCE40 builds\), which has no camera port/);
    expect(cellnetLinked(1, true).hasCamera).toBe(false);
  });
});
