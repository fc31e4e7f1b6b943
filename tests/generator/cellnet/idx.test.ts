import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../generator/util/errors';
import { Rng } from '../../../generator/util/rng';
import { encodeIdx, parseIdx } from '../../../generator/cellnet/idx';
import { fitImages, readIdxDir, readImageSet, toClassSet, writeIdxDir } from '../../../generator/cellnet/dataset';
import { cellnetConfig } from '../../../generator/cellnet/config';

const dir = mkdtempSync(join(tmpdir(), 'cellnet-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomSet(n: number, size: number, seed: number) {
  const r = new Rng(seed);
  const pixels = Uint8Array.from({ length: n * size * size }, () => r.int(0, 255));
  const labels = Uint8Array.from({ length: n }, () => r.int(0, 2));
  return { n, size, pixels, labels };
}

describe('IDX files', () => {
  it('round-trips plain and gzipped arrays', () => {
    const a = { dims: [3, 4, 5], data: Uint8Array.from({ length: 60 }, (_, i) => (i * 37) & 255) };
    for (const gz of [false, true]) {
      const b = parseIdx(encodeIdx(a, gz));
      expect(b.dims).toEqual(a.dims);
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
    }
    // Header bytes follow the MNIST layout: 00 00 08 ndims, big-endian sizes.
    expect(Array.from(encodeIdx(a).subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 3]);
  });

  it('round-trips a LymphoMNIST-style directory', () => {
    const split = { train: randomSet(7, 64, 1), test: randomSet(3, 64, 2) };
    for (const gz of [false, true]) {
      const d = join(dir, gz ? 'gz' : 'plain');
      writeIdxDir(d, split, gz);
      const back = readIdxDir(d);
      expect(back.train.n).toBe(7);
      expect(back.test.size).toBe(64);
      expect(Buffer.from(back.train.pixels).equals(Buffer.from(split.train.pixels))).toBe(true);
      expect(Array.from(back.test.labels)).toEqual(Array.from(split.test.labels));
    }
  });

  it('names the problem in corrupt files', () => {
    const good = encodeIdx({ dims: [2, 3, 3], data: new Uint8Array(18) });
    const bad = (b: Uint8Array, re: RegExp) => {
      expect(() => parseIdx(b, 'f')).toThrow(InputError);
      expect(() => parseIdx(b, 'f')).toThrow(re);
    };
    const magic = good.slice();
    magic[0] = 0x12;
    bad(magic, /bad magic/);
    const type = good.slice();
    type[2] = 0x0d;
    bad(type, /element type 0xd \(float32\)/);
    bad(good.subarray(0, 3), /truncated header/);
    bad(good.subarray(0, 10), /truncated header/);
    bad(good.subarray(0, good.length - 1), /truncated data: dims 2x3x3 need 18 bytes, file has 17/);
    bad(Uint8Array.from([...good, 7]), /1 trailing bytes/);
    bad(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), /corrupt gzip/);
  });

  it('rejects label/image count and shape mismatches', () => {
    const ip = join(dir, 'imgs'), lp = join(dir, 'labs'), lp2 = join(dir, 'labs2');
    writeFileSync(ip, encodeIdx({ dims: [4, 8, 8], data: new Uint8Array(256) }));
    writeFileSync(lp, encodeIdx({ dims: [5], data: new Uint8Array(5) }));
    expect(() => readImageSet(ip, lp)).toThrow(/5 labels for 4 images/);
    writeFileSync(lp2, encodeIdx({ dims: [4, 1], data: new Uint8Array(4) }));
    expect(() => readImageSet(ip, lp2)).toThrow(/2 dimensions, expected 1/);
    expect(() => readImageSet(lp, lp)).toThrow(/expected 3/);
    expect(() => readIdxDir(join(dir, 'nowhere'))).toThrow(/no train_images file/);
  });

  it('crops the centre and maps labels to configured classes', () => {
    const set = randomSet(6, 64, 3);
    const crop = fitImages(set, 48, 'crop');
    // Pixel (0,0) of the crop is source pixel (8,8).
    expect(crop.pixels[0]).toBe(set.pixels[8 * 64 + 8]);
    expect(crop.pixels[48 * 48 + 47 * 48 + 47]).toBe(set.pixels[64 * 64 + 55 * 64 + 55]);
    const flat = { n: 1, size: 64, pixels: new Uint8Array(64 * 64).fill(200), labels: new Uint8Array([0]) };
    expect(Array.from(new Set(fitImages(flat, 48, 'resize').pixels))).toEqual([200]);
    const cs = toClassSet(set, cellnetConfig(), 'crop');
    const want = Array.from(set.labels).filter((l) => l < 2);
    expect(Array.from(cs.classes)).toEqual(want);
    expect(cs.size).toBe(48);
  });
});
