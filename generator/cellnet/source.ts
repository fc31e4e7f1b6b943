import { existsSync, statSync } from 'node:fs';
import { InputError } from '../util/errors';
import type { CellnetParams } from './config';
import { type ClassSet, type FitMode, type Split, readIdxDir, toClassSet } from './dataset';
import { synthSplit } from './synth';

/**
 * A data source named on the command line:
 *  - `synthetic:N[:M]`: N training and M test synthetic images (M defaults to max(100, N/4)), seeded;
 *  - a directory holding LymphoMNIST-style IDX files (train_images, train_labels, test_images, test_labels).
 */
export interface LoadedData {
  train: ClassSet;
  test: ClassSet;
  /** Human label, e.g. "synthetic:4000:1000 seed 1" or the directory; says "synthetic" for generated data. */
  label: string;
  synthetic: boolean;
}

export function parseSynthetic(spec: string): { nTrain: number; nTest: number } | undefined {
  const m = /^synthetic:(\d+)(?::(\d+))?$/.exec(spec);
  if (!m) return undefined;
  const nTrain = Number(m[1]);
  const nTest = m[2] !== undefined ? Number(m[2]) : Math.max(100, Math.round(nTrain / 4));
  if (nTrain < 1 || nTest < 1) throw new InputError(`--data ${spec}: need at least one training and one test image`);
  return { nTrain, nTest };
}

/** Raw (unfitted) split for a source: synthetic 64x64 images or the IDX directory's contents. */
export function loadSplit(spec: string, cfg: CellnetParams, seed: number, separation?: number, testOnly = false): { split: Split; label: string; synthetic: boolean } {
  const syn = parseSynthetic(spec);
  if (syn) {
    // The test stream does not depend on nTrain, so eval can skip generating training images.
    const split = synthSplit(testOnly ? 0 : syn.nTrain, syn.nTest, { seed, labels: cfg.classes.map((c) => c.label), separation });
    const sep = separation === undefined ? '' : ` separation ${separation}`;
    return { split, label: `synthetic:${syn.nTrain}:${syn.nTest} seed ${seed}${sep}`, synthetic: true };
  }
  if (spec.startsWith('synthetic')) throw new InputError(`--data ${spec}: expected synthetic:N or synthetic:N:M`);
  if (!existsSync(spec) || !statSync(spec).isDirectory()) throw new InputError(`--data ${spec}: not a directory of IDX files nor synthetic:N`);
  return { split: readIdxDir(spec), label: spec, synthetic: false };
}

export function loadData(spec: string, cfg: CellnetParams, seed: number, fit: FitMode = 'crop', separation?: number, testOnly = false): LoadedData {
  const { split, label, synthetic } = loadSplit(spec, cfg, seed, separation, testOnly);
  if (testOnly) {
    const test = toClassSet(split.test, cfg, fit);
    return { train: { n: 0, size: test.size, pixels: new Uint8Array(0), classes: new Uint8Array(0) }, test, label, synthetic };
  }
  return { train: toClassSet(split.train, cfg, fit), test: toClassSet(split.test, cfg, fit), label, synthetic };
}
