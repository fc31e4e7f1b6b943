import * as tf from '@tensorflow/tfjs';
import { SingleBar } from 'cli-progress';
import { ConfigError, requireInt } from '../util/errors';
import { Rng } from '../util/rng';
import { type CellnetConfig, type LayerConfig, cellnetConfig, describeLayers } from './config';
import type { ClassSet } from './dataset';
import { floatAccuracy } from './float';
import { goldenBatch } from './golden';
import type { CellnetModel } from './model';
import { calibrate, quantize } from './quantize';
import { type TfNet, disposeNet, forward, initNet, netWeights, trainableVars, useCpuBackend } from './tfnet';

/**
 * Teacher -> student distillation on the tfjs cpu backend, seeded by the project's Rng (initialisation,
 * shuffling and augmentation), so a run is reproducible from (data, options).
 *
 *  1. teacher: a wider CNN trained with cross-entropy;
 *  2. scratch student: the configured student trained with cross-entropy only (the baseline);
 *  3. distilled student: same init and batches, loss = alpha * T^2 * KL(softmax(t/T) || softmax(s/T))
 *     + (1 - alpha) * CE(y, s)  (Hinton et al.; T^2 keeps gradient scale independent of T).
 *  Teacher probabilities are computed once per training image (see softTargets).
 *  Training uses random dihedral augmentation (flips and 90-degree turns: a cell in flow has no preferred
 *  orientation). Optimiser: Adam, learning rate decayed linearly to 10% over the run.
 *  The distilled student is calibrated for fixed point and returned as the deliverable model.
 */
export interface TrainOptions {
  seed: number;
  /** Student epochs (scratch and distilled each). */
  epochs: number;
  teacherEpochs: number;
  batch: number;
  lr: number;
  temperature: number;
  /** Weight of the distillation term (0..1). */
  alpha: number;
  /** Teacher hidden layers; its last layer (dense, classes) is appended. */
  teacherLayers: LayerConfig[];
  /** Images used to calibrate activation scales. */
  calibration: number;
  augment: boolean;
  /** Show a progress bar on stderr. */
  progress: boolean;
  /** Free-form description of the data (stored in the model file). */
  dataLabel: string;
}

export const TEACHER_LAYERS: LayerConfig[] = [
  { kind: 'conv', kernel: 3, outChannels: 16, weightBits: 8, actBits: 8 },
  { kind: 'maxpool', size: 2 },
  { kind: 'conv', kernel: 3, outChannels: 32, weightBits: 8, actBits: 8 },
  { kind: 'maxpool', size: 2 },
  { kind: 'conv', kernel: 3, outChannels: 48, weightBits: 8, actBits: 8 },
  { kind: 'maxpool', size: 2 },
  { kind: 'dense', units: 64, weightBits: 8, actBits: 8 },
];

export const TRAIN_DEFAULTS: TrainOptions = {
  seed: 1,
  epochs: 4,
  teacherEpochs: 4,
  batch: 32,
  lr: 2e-3,
  temperature: 4,
  alpha: 0.7,
  teacherLayers: TEACHER_LAYERS,
  calibration: 256,
  augment: true,
  progress: false,
  dataLabel: 'unspecified',
};

export interface StageResult {
  name: string;
  architecture: string;
  params: number;
  /** Float test accuracy (tfjs forward, cross-checked by the JS float model for students). */
  accuracy: number;
  seconds: number;
  /** Smoothed training loss, sampled about 50 times: epoch (fractional) and loss. */
  lossCurve: Array<{ epoch: number; loss: number }>;
}

export interface TrainResult {
  teacher: StageResult;
  scratch: StageResult;
  distilled: StageResult;
  /** Fixed-point (golden model) test accuracy of the distilled student. */
  fixedAccuracy: number;
  /** Float JS-reference accuracy of the distilled student (should equal distilled.accuracy up to float32 ties). */
  floatAccuracy: number;
  model: CellnetModel;
}

function checkOptions(o: TrainOptions): void {
  requireInt('seed', o.seed, 0, 2 ** 32 - 1);
  requireInt('epochs', o.epochs, 1, 1000);
  requireInt('teacherEpochs', o.teacherEpochs, 1, 1000);
  requireInt('batch', o.batch, 1, 4096);
  requireInt('calibration', o.calibration, 1, 1_000_000);
  if (!(o.lr > 0 && o.lr < 1)) throw new ConfigError('lr', 'must be in (0, 1)', o.lr);
  if (!(o.temperature >= 1 && o.temperature <= 100)) throw new ConfigError('temperature', 'must be in [1, 100]', o.temperature);
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw new ConfigError('alpha', 'must be in [0, 1]', o.alpha);
}

/** Teacher config: the given hidden layers, then dense(classes); same input, classes and normalisation. */
export function teacherConfig(student: CellnetConfig, hidden: LayerConfig[]): CellnetConfig {
  return cellnetConfig({ ...student, layers: [...hidden, { kind: 'dense', units: student.classes.length, weightBits: 8 }] });
}

/** Apply dihedral transform t (0..7) to a size x size image into dst. */
function dihedral(src: Float32Array, dst: Float32Array, off: number, size: number, t: number): void {
  const m = size - 1;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let sx = x, sy = y;
      if (t & 1) sx = m - sx;
      if (t & 2) sy = m - sy;
      if (t & 4) [sx, sy] = [sy, sx];
      dst[off + y * size + x] = src[sy * size + sx]!;
    }
}

class Batcher {
  private readonly px: number;
  private readonly norm: Float32Array;
  constructor(
    private readonly data: ClassSet,
    cfg: CellnetConfig,
  ) {
    this.px = data.size * data.size;
    this.norm = new Float32Array(data.pixels.length);
    for (let i = 0; i < data.pixels.length; i++) this.norm[i] = (data.pixels[i]! / 255 - cfg.mean) / cfg.std;
  }
  /** Tensor of the given samples, each with a random dihedral transform when rng is given. */
  images(idx: ArrayLike<number>, rng?: Rng): tf.Tensor4D {
    const buf = new Float32Array(idx.length * this.px);
    for (let j = 0; j < idx.length; j++) {
      const src = this.norm.subarray(idx[j]! * this.px, (idx[j]! + 1) * this.px);
      if (rng) dihedral(src, buf, j * this.px, this.data.size, Math.floor(rng.next() * 8));
      else buf.set(src, j * this.px);
    }
    return tf.tensor4d(buf, [idx.length, this.data.size, this.data.size, 1]);
  }
  labels(idx: ArrayLike<number>, classes: number): tf.Tensor2D {
    const y = new Float32Array(idx.length * classes);
    for (let j = 0; j < idx.length; j++) y[j * classes + this.data.classes[idx[j]!]!] = 1;
    return tf.tensor2d(y, [idx.length, classes]);
  }
}

function gatherRows(src: Float32Array, idx: ArrayLike<number>, width: number): Float32Array {
  const out = new Float32Array(idx.length * width);
  for (let j = 0; j < idx.length; j++) out.set(src.subarray(idx[j]! * width, (idx[j]! + 1) * width), j * width);
  return out;
}

/**
 * Teacher probabilities softmax(t / T) for every training image, computed once on the un-augmented image
 * (the label does not depend on orientation, so they serve every augmented copy; this keeps the teacher
 * out of the student's training loop).
 */
export function softTargets(net: TfNet, data: ClassSet, T: number, batch = 128): Float32Array {
  const b = new Batcher(data, net.cfg);
  const classes = net.cfg.classes.length;
  const out = new Float32Array(data.n * classes);
  for (let s = 0; s < data.n; s += batch) {
    const idx = Array.from({ length: Math.min(batch, data.n - s) }, (_, j) => s + j);
    out.set(tf.tidy(() => tf.softmax(tf.div(forward(net, b.images(idx)), T)).dataSync() as Float32Array), s * classes);
  }
  return out;
}

function shuffled(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Float accuracy of a tfjs net on a set (batched forward, no augmentation). */
export function tfAccuracy(net: TfNet, data: ClassSet, batch = 128): number {
  const b = new Batcher(data, net.cfg);
  let ok = 0;
  for (let s = 0; s < data.n; s += batch) {
    const idx = Array.from({ length: Math.min(batch, data.n - s) }, (_, j) => s + j);
    const pred = tf.tidy(() => forward(net, b.images(idx)).argMax(1).dataSync());
    idx.forEach((i, j) => (ok += pred[j] === data.classes[i] ? 1 : 0));
  }
  return data.n ? ok / data.n : 0;
}

interface FitArgs {
  name: string;
  net: TfNet;
  data: ClassSet;
  epochs: number;
  rng: Rng;
  opts: TrainOptions;
  /** Teacher probabilities at temperature T, [n * classes], for distillation. */
  soft?: Float32Array;
  bar?: SingleBar;
}

async function fit(a: FitArgs): Promise<Array<{ epoch: number; loss: number }>> {
  const { net, data, opts } = a;
  const classes = net.cfg.classes.length;
  const batcher = new Batcher(data, net.cfg);
  const optimizer = tf.train.adam(opts.lr);
  const steps = a.epochs * Math.ceil(data.n / opts.batch);
  const T = opts.temperature;
  let step = 0;
  let avg = NaN;
  const curve: Array<{ epoch: number; loss: number }> = [];
  const every = Math.max(1, Math.floor(steps / 50));
  a.bar?.start(steps, 0, { stage: a.name.padEnd(9), epoch: `0/${a.epochs}`, loss: '-' });
  for (let e = 0; e < a.epochs; e++) {
    const order = shuffled(data.n, a.rng);
    for (let s = 0; s < data.n; s += opts.batch) {
      const idx = order.subarray(s, Math.min(data.n, s + opts.batch));
      (optimizer as unknown as { learningRate: number }).learningRate = opts.lr * (1 - (0.9 * step) / steps);
      const loss = tf.tidy(() => {
        const x = batcher.images(idx, opts.augment ? a.rng : undefined);
        const y = batcher.labels(idx, classes);
        const soft = a.soft ? tf.tensor2d(gatherRows(a.soft, idx, classes), [idx.length, classes]) : undefined;
        return optimizer.minimize(() => {
          const logits = forward(net, x);
          const ce = tf.losses.softmaxCrossEntropy(y, logits);
          if (!soft) return ce as tf.Scalar;
          const logPs = tf.logSoftmax(tf.div(logits, T));
          const kl = tf.mean(tf.sum(tf.mul(soft, tf.sub(tf.log(tf.add(soft, 1e-12)), logPs)), 1));
          return tf.add(tf.mul(opts.alpha * T * T, kl), tf.mul(1 - opts.alpha, ce)) as tf.Scalar;
        }, true, trainableVars(net))!;
      });
      const l = (await loss.data())[0]!;
      loss.dispose();
      avg = Number.isNaN(avg) ? l : 0.95 * avg + 0.05 * l;
      step++;
      if (step % every === 0 || step === steps) curve.push({ epoch: +(step / (steps / a.epochs)).toFixed(3), loss: avg });
      a.bar?.update(step, { epoch: `${e + 1}/${a.epochs}`, loss: avg.toFixed(4) });
    }
  }
  a.bar?.stop();
  optimizer.dispose();
  return curve;
}

/** Train teacher, scratch student and distilled student; calibrate and quantise the distilled one. */
export async function trainCellnet(cfg: CellnetConfig, train: ClassSet, test: ClassSet, options: Partial<TrainOptions> = {}): Promise<TrainResult> {
  const opts: TrainOptions = { ...TRAIN_DEFAULTS, ...options };
  checkOptions(opts);
  if (train.size !== cfg.inputSize || test.size !== cfg.inputSize)
    throw new ConfigError('data', `images must be ${cfg.inputSize}x${cfg.inputSize} (fit them first)`, train.size);
  await useCpuBackend();
  const tcfg = teacherConfig(cfg, opts.teacherLayers);
  const bar = opts.progress
    ? new SingleBar({ stream: process.stderr, format: '{stage} [{bar}] {percentage}% | epoch {epoch} | loss {loss} | {eta_formatted} left', hideCursor: true, clearOnComplete: false })
    : undefined;

  const stage = async (name: string, c: CellnetConfig, seedOffset: number, epochs: number, teacher?: TfNet): Promise<{ net: TfNet; r: StageResult }> => {
    const t0 = Date.now();
    // Scratch and distilled students share the init and batch seeds, so the comparison isolates the loss.
    const net = initNet(c, new Rng(opts.seed * 7919 + seedOffset));
    const soft = teacher ? softTargets(teacher, train, opts.temperature) : undefined;
    const lossCurve = await fit({ name, net, data: train, epochs, rng: new Rng(opts.seed * 104729 + seedOffset + 17), opts, soft, bar });
    const accuracy = tfAccuracy(net, test);
    return { net, r: { name, architecture: describeLayers(c), params: c.params, accuracy, seconds: (Date.now() - t0) / 1000, lossCurve } };
  };

  const teacher = await stage('teacher', tcfg, 1, opts.teacherEpochs);
  const scratch = await stage('scratch', cfg, 2, opts.epochs);
  const distilled = await stage('distilled', cfg, 2, opts.epochs, teacher.net);
  disposeNet(teacher.net);
  disposeNet(scratch.net);

  const model: CellnetModel = { config: cfg, weights: netWeights(distilled.net) };
  disposeNet(distilled.net);
  const nCal = Math.min(opts.calibration, train.n);
  model.quant = calibrate(model, train.pixels.subarray(0, nCal * train.size * train.size), nCal);
  const q = quantize(model);
  const res = goldenBatch(q, test.pixels, test.n);
  const fixedAccuracy = res.reduce((s, r, i) => s + (r.cls === test.classes[i] ? 1 : 0), 0) / Math.max(1, test.n);
  const floatAcc = floatAccuracy(model, test.pixels, test.classes);
  model.meta = {
    student: 'distilled',
    data: opts.dataLabel,
    trainImages: train.n,
    testImages: test.n,
    seed: opts.seed,
    epochs: opts.epochs,
    teacherEpochs: opts.teacherEpochs,
    batch: opts.batch,
    lr: opts.lr,
    temperature: opts.temperature,
    alpha: opts.alpha,
    augment: opts.augment,
    calibrationImages: nCal,
    accuracy: {
      teacher: teacher.r.accuracy,
      scratch: scratch.r.accuracy,
      distilled: distilled.r.accuracy,
      distilledFloatJs: floatAcc,
      distilledFixedPoint: fixedAccuracy,
    },
    teacher: { architecture: teacher.r.architecture, params: teacher.r.params },
  };
  return { teacher: teacher.r, scratch: scratch.r, distilled: distilled.r, fixedAccuracy, floatAccuracy: floatAcc, model };
}
