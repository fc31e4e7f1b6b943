import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, InputError } from '../util/errors';
import type { CellnetParams } from './config';
import { encodeIdx, parseIdx } from './idx';

/** A set of square uint8 grey images with dataset labels (row-major, one image after another). */
export interface ImageSet {
  n: number;
  size: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface Split {
  train: ImageSet;
  test: ImageSet;
}

export type FitMode = 'crop' | 'resize';

export const IDX_PARTS = ['train_images', 'train_labels', 'test_images', 'test_labels'] as const;
type IdxPart = (typeof IDX_PARTS)[number];

/** Accepted spellings of each part: LymphoMNIST names, with .idx / .gz, and MNIST-style names. */
function candidates(part: IdxPart): string[] {
  const [split, kind] = part.split('_') as [string, string];
  const mnist = `${split === 'test' ? 't10k' : 'train'}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte`;
  const bases = [part, `${part}.idx`, `${split}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte`, mnist];
  return bases.flatMap((b) => [b, `${b}.gz`]);
}

export function findIdxFile(dir: string, part: IdxPart): string {
  for (const name of candidates(part)) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new InputError(`${dir}: no ${part} file (looked for ${candidates(part).slice(0, 4).join(', ')} and .gz)`);
}

/** Read one images file and its labels file into an ImageSet, checking that they agree. */
export function readImageSet(imagesPath: string, labelsPath: string): ImageSet {
  const img = parseIdx(readFileSync(imagesPath), imagesPath);
  const lab = parseIdx(readFileSync(labelsPath), labelsPath);
  if (img.dims.length !== 3) throw new InputError(`${imagesPath}: ${img.dims.length} dimensions, expected 3 (count x rows x cols)`);
  if (img.dims[1] !== img.dims[2]) throw new InputError(`${imagesPath}: images are ${img.dims[1]}x${img.dims[2]}, expected square`);
  if (lab.dims.length !== 1) throw new InputError(`${labelsPath}: ${lab.dims.length} dimensions, expected 1 (count)`);
  if (lab.dims[0] !== img.dims[0])
    throw new InputError(`${labelsPath}: ${lab.dims[0]} labels for ${img.dims[0]} images in ${imagesPath}`);
  return { n: img.dims[0]!, size: img.dims[1]!, pixels: img.data, labels: lab.data };
}

/** Load train and test sets from a directory of LymphoMNIST-style IDX files. */
export function readIdxDir(dir: string): Split {
  return {
    train: readImageSet(findIdxFile(dir, 'train_images'), findIdxFile(dir, 'train_labels')),
    test: readImageSet(findIdxFile(dir, 'test_images'), findIdxFile(dir, 'test_labels')),
  };
}

/** Write a split as four IDX files (gzipped when gzip is set), each atomically. */
export function writeIdxDir(dir: string, split: Split, gzip = false): string[] {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const [name, set] of [['train', split.train], ['test', split.test]] as const) {
    const suffix = gzip ? '.gz' : '';
    const ip = join(dir, `${name}_images${suffix}`);
    const lp = join(dir, `${name}_labels${suffix}`);
    writeAtomic(ip, encodeIdx({ dims: [set.n, set.size, set.size], data: set.pixels }, gzip));
    writeAtomic(lp, encodeIdx({ dims: [set.n], data: set.labels }, gzip));
    out.push(ip, lp);
  }
  return out;
}

/** Write to a temporary file in the same directory, then rename, so readers never see half a file. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Bring every image to size x size: 'crop' takes the centre (keeps pixel scale, so cell size in
 * pixels is preserved; the default), 'resize' resamples the whole frame with area averaging.
 */
export function fitImages(set: ImageSet, size: number, mode: FitMode = 'crop'): ImageSet {
  if (set.size === size) return set;
  if (mode === 'crop' && set.size < size)
    throw new InputError(`images are ${set.size}x${set.size}, smaller than the ${size}x${size} network input; use resize`);
  const out = new Uint8Array(set.n * size * size);
  const s = set.size;
  for (let i = 0; i < set.n; i++) {
    const src = set.pixels.subarray(i * s * s, (i + 1) * s * s);
    const dst = out.subarray(i * size * size, (i + 1) * size * size);
    if (mode === 'crop') cropCentre(src, s, dst, size);
    else resizeArea(src, s, dst, size);
  }
  return { n: set.n, size, pixels: out, labels: set.labels };
}

function cropCentre(src: Uint8Array, s: number, dst: Uint8Array, size: number): void {
  const o = (s - size) >> 1;
  for (let y = 0; y < size; y++) dst.set(src.subarray((y + o) * s + o, (y + o) * s + o + size), y * size);
}

/** Area-average resampling (box filter over the source footprint), round half up. */
function resizeArea(src: Uint8Array, s: number, dst: Uint8Array, size: number): void {
  const r = s / size;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let acc = 0;
      let wsum = 0;
      const y0 = y * r, y1 = (y + 1) * r, x0 = x * r, x1 = (x + 1) * r;
      for (let sy = Math.floor(y0); sy < Math.min(s, Math.ceil(y1)); sy++) {
        const wy = Math.min(y1, sy + 1) - Math.max(y0, sy);
        for (let sx = Math.floor(x0); sx < Math.min(s, Math.ceil(x1)); sx++) {
          const wgt = wy * (Math.min(x1, sx + 1) - Math.max(x0, sx));
          acc += wgt * src[sy * s + sx]!;
          wsum += wgt;
        }
      }
      dst[y * size + x] = Math.min(255, Math.floor(acc / wsum + 0.5));
    }
}

/** Network-ready samples: images at the input size and class indices (0..classes-1). */
export interface ClassSet {
  n: number;
  size: number;
  pixels: Uint8Array;
  classes: Uint8Array;
}

/**
 * Keep only the samples whose dataset label is one of the configured classes, fit them to the
 * network input, and map labels to class indices.
 */
export function toClassSet(set: ImageSet, cfg: CellnetParams, mode: FitMode = 'crop'): ClassSet {
  const map = new Map(cfg.classes.map((c, i) => [c.label, i]));
  const keep: number[] = [];
  for (let i = 0; i < set.n; i++) if (map.has(set.labels[i]!)) keep.push(i);
  if (keep.length === 0)
    throw new InputError(`no samples with labels ${cfg.classes.map((c) => c.label).join('/')} (the configured classes)`);
  const s = set.size;
  const pixels = new Uint8Array(keep.length * s * s);
  const classes = new Uint8Array(keep.length);
  keep.forEach((src, j) => {
    pixels.set(set.pixels.subarray(src * s * s, (src + 1) * s * s), j * s * s);
    classes[j] = map.get(set.labels[src]!)!;
  });
  const fitted = fitImages({ n: keep.length, size: s, pixels, labels: classes }, cfg.inputSize, mode);
  return { n: fitted.n, size: fitted.size, pixels: fitted.pixels, classes };
}

/** The documented normalisation: x = (p/255 - mean) / std, as float32 in HWC order (C = 1). */
export function normalise(pixels: Uint8Array, mean: number, std: number): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i]! / 255 - mean) / std;
  return out;
}

/** Check that one image has exactly size x size pixels. */
export function checkImage(img: ArrayLike<number>, size: number): void {
  if (img.length !== size * size)
    throw new InputError(`image has ${img.length} pixels, expected ${size}x${size} = ${size * size}`);
}

export function parseFitMode(s: string): FitMode {
  if (s !== 'crop' && s !== 'resize') throw new ConfigError('fit', "must be 'crop' or 'resize'", s);
  return s;
}
