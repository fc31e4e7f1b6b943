/**
 * `llm qat`: data-free quantisation-aware distillation of the quantised engine's model (docs/llm-fidelity.md "QAT").
 * Teacher: the float reference on sequences it samples itself (seeded). Student: the engine's fake-quantised model
 * (student.ts), initialised from the GPTQ + calibration result. Loss: mean KL(P_float || P_student) per position.
 * Adam; learning rate decayed linearly to 10%; resumable from an atomically written checkpoint; stops with a clear
 * error on a non-finite loss or weights, keeping the last good checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import type { LlamaCheckpoint } from '../checkpoint';
import type { EngineConfig } from '../model-spec';
import { calibrate } from '../quant/calibrate';
import { quantizeModel, type QuantModel } from '../quant/model';
import { checkpointFingerprint } from '../quant/qmodel-file';
import { ConfigError, requireInt } from '../../util/errors';
import { useQatBackend, type QatBackend } from './backend';
import { exportStudent } from './export';
import { loadResume, restoreResume, saveResume } from './resume';
import { disposeContext, disposeStudent, forwardContext, initStudent, MATS, studentForward, type Student } from './student';
import type { TeacherBatch } from './teacher';
import { TeacherFeed } from './teacher-feed';
import { DEFAULT_ROTATION, rotateCheckpoint, rotationLabel, type Rotation } from '../rotate';

export interface QatOptions {
  seed: number;
  steps: number;
  /** Sequences per step and tokens per sequence. */
  batch: number;
  length: number;
  /** Adam learning rate of the latent weights (units of the matrix step; a level is 2 x scale code apart). */
  lr: number;
  /** Adam learning rate of the scale codes. */
  lrScale: number;
  /**
   * Rates of the 4-bit matrices of a mixed W2 model (w4Matrices), in the same units; default qatRates(4) (a W4 level
   * is ~5x narrower than a W2 one). Unused without w4Matrices.
   */
  w4Rates?: { lr: number; lrScale: number };
  /** Adam learning rate of the RMSNorm gains. */
  lrNorm: number;
  /** Learning rates decay linearly from their value to this fraction of it at the last step. */
  lrFinal: number;
  /**
   * Start from the rotated, gain-folded checkpoint (rotate.ts): GPTQ and the student work in its basis; the teacher
   * stays the checkpoint itself (same logits in exact arithmetic).
   */
  rotate?: Rotation;
  /**
   * Weight of hidden-state matching added to the KL: mean over layers of Σ(h_student − h_float)² / Σ h_float² on the
   * residual stream after each layer (0 = KL only).
   */
  hiddenWeight: number;
  /** Calibration for the GPTQ initialisation: sequences x calibLength tokens sampled with calibSeed. */
  calibSeed: number;
  calibSequences: number;
  calibLength: number;
  backend: QatBackend;
  /**
   * Resume file: loaded if present (after checks), rewritten every checkpointEvery steps and at the end. `steps` may
   * differ from the interrupted run's (the learning-rate schedule then follows the new total).
   */
  checkpoint?: string;
  checkpointEvery: number;
  /** Stop after this many seconds of training (the result is exported at that step). */
  maxSeconds?: number;
  onStep?: (step: number, steps: number, loss: number) => void;
}

export const QAT_DEFAULTS: Omit<QatOptions, 'onStep' | 'checkpoint' | 'maxSeconds' | 'rotate'> & { rotate?: Rotation } = {
  seed: 1,
  steps: 600,
  batch: 8,
  length: 128,
  lr: 20,
  lrScale: 2,
  lrNorm: 2e-3,
  lrFinal: 0.1,
  hiddenWeight: 1,
  rotate: DEFAULT_ROTATION,
  calibSeed: 1234 + 7919,
  calibSequences: 8,
  calibLength: 256,
  backend: 'wasm',
  checkpointEvery: 25,
};

/**
 * Learning rates of the latent weights and scale codes by weight bits (the key at or below wBits): both are in units
 * of the matrix step, and a W4 level is ~5x narrower than a W2 one, so W4 needs smaller steps (docs/llm-fidelity.md).
 */
export const QAT_RATES: Record<number, { lr: number; lrScale: number }> = { 2: { lr: 20, lrScale: 2 }, 4: { lr: 5, lrScale: 0.5 } };

/** The rates of one matrix: by its own code width (matrixBits), so the 4-bit matrices of a mixed model get the W4 ones. */
export function matrixRates(o: Pick<QatOptions, 'lr' | 'lrScale' | 'w4Rates'>, bits: number, wBits: number): { lr: number; lrScale: number } {
  return bits === wBits ? { lr: o.lr, lrScale: o.lrScale } : (o.w4Rates ?? qatRates(bits));
}

export function qatRates(wBits: number): { lr: number; lrScale: number } {
  const k = Math.max(...Object.keys(QAT_RATES).map(Number).filter((b) => b <= wBits), 2);
  return QAT_RATES[k]!;
}

export interface QatResult {
  qm: QuantModel;
  /** The GPTQ starting point. */
  init: QuantModel;
  /** Training loss (mean KL per position, nats) of every step so far, resumed ones included. */
  losses: number[];
  steps: number;
  resumedFrom: number;
  seconds: number;
}

/** The GPTQ + calibration model QAT starts from (also `llm eval`'s gptq rows at the same calibration). */
export function qatInit(ckpt: LlamaCheckpoint, cfg: EngineConfig, o: Pick<QatOptions, 'calibSeed' | 'calibSequences' | 'calibLength' | 'rotate'>): QuantModel {
  const ck = o.rotate ? rotateCheckpoint(ckpt, o.rotate) : ckpt;
  const calib = calibrate(ck, o.calibSeed, o.calibSequences, Math.min(o.calibLength, ck.dims.seqLen));
  return quantizeModel(ck, cfg, { search: 'gptq', calib });
}

/** Σ over layers of Σ(h_s − h_t)² / Σ h_t², divided by the number of layers. */
export function hiddenLoss(student: tf.Tensor[], teacher: tf.Tensor[]): tf.Scalar {
  const terms = student.map((h, l) => h.sub(teacher[l]!).square().sum().div(teacher[l]!.square().sum()));
  return tf.addN(terms).div(terms.length) as tf.Scalar;
}

/** Mean KL(P_teacher || P_student) per position. */
export function klLoss(student: tf.Tensor2D, teacher: tf.Tensor2D): tf.Scalar {
  const lt = tf.logSoftmax(teacher);
  return tf.exp(lt).mul(lt.sub(tf.logSoftmax(student))).sum().div(student.shape[0]) as tf.Scalar;
}

function checkOptions(o: QatOptions, seqLen: number): void {
  requireInt('steps', o.steps, 1);
  requireInt('batch', o.batch, 1, 1024);
  requireInt('length', o.length, 2, seqLen);
  requireInt('checkpointEvery', o.checkpointEvery, 1);
  for (const k of ['lr', 'lrScale', 'lrNorm'] as const) if (!(o[k] > 0 && Number.isFinite(o[k]))) throw new ConfigError(k, 'must be a positive number', o[k]);
  for (const k of ['lr', 'lrScale'] as const)
    if (o.w4Rates && !(o.w4Rates[k] > 0 && Number.isFinite(o.w4Rates[k]))) throw new ConfigError(`w4Rates.${k}`, 'must be a positive number', o.w4Rates[k]);
  if (!(o.lrFinal > 0 && o.lrFinal <= 1)) throw new ConfigError('lrFinal', 'must be in (0, 1]', o.lrFinal);
  if (!(o.hiddenWeight >= 0 && Number.isFinite(o.hiddenWeight))) throw new ConfigError('hiddenWeight', 'must be a number >= 0', o.hiddenWeight);
}

function allFinite(vars: tf.Variable[]): boolean {
  return tf.tidy(() => vars.every((v) => tf.all(tf.isFinite(v)).dataSync()[0] === 1));
}

export async function runQat(ckpt: LlamaCheckpoint, cfg: EngineConfig, o: QatOptions, init?: QuantModel): Promise<QatResult> {
  checkOptions(o, ckpt.dims.seqLen);
  if (cfg.wSparsity !== 'dense') throw new ConfigError('wSparsity', 'QAT trains dense weights only', cfg.wSparsity);
  await useQatBackend(o.backend);
  const start = init ?? qatInit(ckpt, cfg, o);
  const s = initStudent(o.rotate ? rotateCheckpoint(ckpt, o.rotate) : ckpt, start);
  const ctx = forwardContext(s, o.length);
  const { groups, rates } = varGroups(s, o);
  const vars = groups.flat();
  const opts = rates.map((r) => tf.train.adam(r));
  const mixed = cfg.w4Matrices.length > 0;
  const w4 = matrixRates(o, 4, cfg.wBits);
  // Mixed runs append their 4-bit matrices and rates, so resume files of uniform runs stay valid.
  const fingerprint = {
    source: checkpointFingerprint(ckpt),
    codes: [cfg.wBits, cfg.wGroup, cfg.scaleBits, cfg.mulBits, cfg.clsBits, cfg.aBits, cfg.kvBits, cfg.kvGroup, cfg.sinks, cfg.window, ...(mixed ? [cfg.w4Matrices.join(',')] : [])],
    run: [o.seed, o.batch, o.length, o.lr, o.lrScale, o.lrNorm, o.lrFinal, o.hiddenWeight, o.calibSeed, o.calibSequences, o.calibLength, o.rotate ? rotationLabel(o.rotate) : 'none', ...(mixed ? [w4.lr, w4.lrScale] : [])],
  };
  let losses: number[] = [];
  let step = 0;
  if (o.checkpoint) {
    const r = loadResume(o.checkpoint, fingerprint, vars.map((v) => v.shape));
    if (r) {
      await restoreResume(r, vars, opts);
      step = r.step;
      losses = r.losses;
    }
  }
  const resumedFrom = step;
  // The float reference samples the next steps' batches in a worker while this thread trains (teacher-feed.ts).
  const feed = new TeacherFeed(ckpt, { seed: o.seed, batch: o.batch, length: o.length, hidden: o.hiddenWeight > 0, rotate: o.rotate }, o.steps);
  const t0 = performance.now();
  const save = async () => {
    if (!o.checkpoint) return;
    if (!allFinite(vars)) throw new Error(`QAT: weights became non-finite by step ${step}; the last good checkpoint ${o.checkpoint} is kept`);
    await saveResume(o.checkpoint, fingerprint, step, losses, vars, opts);
  };
  try {
    while (step < o.steps) {
      const frac = step / o.steps;
      const decay = 1 - (1 - o.lrFinal) * frac;
      opts.forEach((op, i) => ((op as unknown as { learningRate: number }).learningRate = rates[i]! * decay));
      const data = await feed.next(step);
      const loss = trainStep(s, ctx, data, o, groups, opts);
      if (!Number.isFinite(loss))
        throw new Error(`QAT: the loss became ${loss} at step ${step + 1} (try a lower --lr)${o.checkpoint ? `; the last good checkpoint ${o.checkpoint} is kept` : ''}`);
      losses.push(loss);
      step++;
      o.onStep?.(step, o.steps, loss);
      const out = o.maxSeconds !== undefined && (performance.now() - t0) / 1000 > o.maxSeconds;
      if (step % o.checkpointEvery === 0 || step === o.steps || out) await save();
      if (out) break;
    }
    if (!allFinite(vars)) throw new Error('QAT: weights became non-finite');
    return { qm: exportStudent(s, start), init: start, losses, steps: step, resumedFrom, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await feed.close();
    disposeContext(ctx);
    disposeStudent(s);
    for (const op of opts) op.dispose();
  }
}

/**
 * Trainable variables by optimiser, with its learning rate: latent weights, scale codes, RMSNorm gains, and for a
 * mixed model the latent weights and scale codes of its 4-bit matrices (their own, smaller rates).
 */
function varGroups(s: Student, o: QatOptions): { groups: tf.Variable[][]; rates: number[] } {
  const all = s.layers.flatMap((L) => MATS.map((n) => L.mats[n]));
  const base = all.filter((m) => m.bits === s.cfg.wBits);
  const w4 = all.filter((m) => m.bits !== s.cfg.wBits);
  const groups = [base.map((m) => m.u), base.map((m) => m.sc), [...s.layers.flatMap((L) => [L.attnNorm, L.ffnNorm]), s.finalNorm]];
  const rates = [o.lr, o.lrScale, o.lrNorm];
  if (w4.length) {
    const r = matrixRates(o, 4, s.cfg.wBits);
    groups.push(w4.map((m) => m.u), w4.map((m) => m.sc));
    rates.push(r.lr, r.lrScale);
  }
  return { groups, rates };
}

/** One optimiser step; returns the KL part of the loss (the hidden-state term, if any, is not included). */
function trainStep(s: Student, ctx: ReturnType<typeof forwardContext>, data: TeacherBatch, o: QatOptions, groups: tf.Variable[][], opts: tf.Optimizer[]): number {
  return tf.tidy(() => {
    const N = o.batch * o.length;
    const tokens = tf.tensor2d(data.tokens, [o.batch, o.length], 'int32');
    const teacher = tf.tensor2d(data.logits, [N, s.cfg.model.vocabSize]);
    const hidT = data.hidden?.map((h) => tf.tensor2d(h, [N, s.cfg.model.dim]));
    let kl: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const hidS: tf.Tensor[] = [];
      kl = tf.keep(klLoss(studentForward(s, tokens, ctx, hidT && hidS), teacher));
      return hidT ? kl.add(hiddenLoss(hidS, hidT).mul(o.hiddenWeight)) : kl;
    }, groups.flat());
    groups.forEach((g, i) => opts[i]!.applyGradients(Object.fromEntries(g.map((v) => [v.name, grads[v.name]!]))));
    const total = value.dataSync()[0]!;
    const klv = kl!.dataSync()[0]!;
    kl!.dispose();
    return Number.isFinite(total) ? klv : total;
  });
}

/** Student-side logits of the exported model's fake quantisation (tests compare them with the golden decoder). */
export async function fakeQuantLogits(ckpt: LlamaCheckpoint, qm: QuantModel, tokens: number[][], backend: QatBackend = 'wasm'): Promise<Float32Array> {
  await useQatBackend(backend);
  const s = initStudent(ckpt, qm);
  // The exported RMSNorm gains are 16-bit; use them so both sides see the same model.
  s.layers.forEach((L, l) => {
    L.attnNorm.assign(tf.tensor1d(normReal(qm.layers[l]!.attnNorm, qm.cfg.model.dim)));
    L.ffnNorm.assign(tf.tensor1d(normReal(qm.layers[l]!.ffnNorm, qm.cfg.model.dim)));
  });
  s.finalNorm.assign(tf.tensor1d(normReal(qm.finalNorm, qm.cfg.model.dim)));
  const T = tokens[0]!.length;
  const ctx = forwardContext(s, T);
  try {
    return tf.tidy(() => Float32Array.from(studentForward(s, tf.tensor2d(tokens.flat(), [tokens.length, T], 'int32'), ctx).dataSync()));
  } finally {
    disposeContext(ctx);
    disposeStudent(s);
  }
}

function normReal(n: { mant: Int32Array; exp: number }, dim: number): Float32Array {
  return Float32Array.from(n.mant, (v) => (v * 2 ** -n.exp) / Math.sqrt(dim));
}
