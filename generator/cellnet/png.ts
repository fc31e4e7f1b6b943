import { PNG } from 'pngjs';
import { InputError } from '../util/errors';
import type { ImageSet } from './dataset';

/**
 * A PNG contact sheet: one row per class (in the order given), `perRow` images each, separated by a
 * gap of mid grey, optionally scaled up by an integer factor so small images are easy to look at.
 */
export function imageGridPng(set: ImageSet, rowLabels: readonly number[], perRow: number, scale = 2): Uint8Array {
  const s = set.size;
  const gap = 2;
  const cell = s * scale + gap;
  const width = perRow * cell + gap;
  const height = rowLabels.length * cell + gap;
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8 });
  png.data = Buffer.alloc(width * height * 4, 128);
  rowLabels.forEach((label, row) => {
    const idx: number[] = [];
    for (let i = 0; i < set.n && idx.length < perRow; i++) if (set.labels[i] === label) idx.push(i);
    if (idx.length === 0) throw new InputError(`no images with label ${label} for the sample grid`);
    idx.forEach((img, col) => {
      for (let y = 0; y < s * scale; y++)
        for (let x = 0; x < s * scale; x++) {
          const v = set.pixels[img * s * s + Math.floor(y / scale) * s + Math.floor(x / scale)]!;
          const o = ((gap + row * cell + y) * width + gap + col * cell + x) * 4;
          png.data[o] = png.data[o + 1] = png.data[o + 2] = v;
          png.data[o + 3] = 255;
        }
    });
  });
  return new Uint8Array(PNG.sync.write(png, { colorType: 0 }));
}
