import type { LlamaCheckpoint } from '../checkpoint';
import { FloatModel } from '../float-model';
import { residualRotator, type Rotation } from '../rotate';
import { BOS, softmax64 } from '../sample';
import { Rng } from '../../util/rng';

/** Seeds of QAT training sequences start here: disjoint from `llm eval` (1234..) and calibration (1234+7919..). */
export const QAT_SEED_BASE = 1_000_000;

export interface TeacherBatch {
  /** Token ids [B*T] (each sequence starts at BOS). */
  tokens: Int32Array;
  /** Float reference logits at every position [B*T][vocab]. */
  logits: Float32Array;
  /** With `hidden`: the residual stream after each layer [layer][B*T][dim]. */
  hidden?: Float32Array[];
}

/**
 * Data-free distillation data: `batch` sequences of `length` tokens sampled at temperature 1 from the float
 * reference, sequence i of step k seeded with QAT_SEED_BASE + seed·2^20 + k·batch + i (so a resumed run sees the
 * same batches), with the reference's logits at every position.
 */
export function teacherBatch(ckpt: LlamaCheckpoint, seed: number, step: number, batch: number, length: number, hidden = false): TeacherBatch {
  const { vocabSize: V, dim, nLayers } = ckpt.dims;
  const tokens = new Int32Array(batch * length);
  const logits = new Float32Array(batch * length * V);
  const model = new FloatModel(ckpt);
  const hs = hidden ? Array.from({ length: nLayers }, () => new Float32Array(batch * length * dim)) : undefined;
  let at = 0;
  if (hs) model.onResidual = (l, x) => hs[l]!.set(x, at * dim);
  for (let b = 0; b < batch; b++) {
    const rng = new Rng(QAT_SEED_BASE + seed * 2 ** 20 + step * batch + b);
    let tok = BOS;
    for (let p = 0; p < length; p++) {
      tokens[b * length + p] = tok;
      at = b * length + p;
      const l = model.forward(tok, p);
      logits.set(l, (b * length + p) * V);
      const pr = softmax64(l);
      const r = rng.next();
      let cdf = 0;
      tok = V - 1;
      for (let i = 0; i < V; i++) if (r < (cdf += pr[i]!)) { tok = i; break; }
    }
  }
  return { tokens, logits, ...(hs && { hidden: hs }) };
}

/** What a training run asks of the teacher at every step (the worker in teacher-feed.ts gets it once). */
export interface TeacherSpec {
  seed: number;
  batch: number;
  length: number;
  /** Keep the residual stream after each layer (hidden-state matching). */
  hidden: boolean;
  /** Rotate the kept residual stream into the student's basis (rotate.ts's residualRotator). */
  rotate?: Rotation;
}

/** The teacher batch of one training step as the student sees it: teacherBatch, its hidden states rotated. */
export function teacherStep(ckpt: LlamaCheckpoint, spec: TeacherSpec, step: number): TeacherBatch {
  const data = teacherBatch(ckpt, spec.seed, step, spec.batch, spec.length, spec.hidden);
  if (data.hidden && spec.rotate) data.hidden = data.hidden.map(residualRotator(ckpt.dims.dim, spec.rotate));
  return data;
}
