import { Rng } from '../util/rng';
import type { StepModel } from './float-model';

export const BOS = 1;

/** Softmax in float64 (evaluation only). */
export function softmax64(logits: ArrayLike<number>, scale = 1): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]! * scale);
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp(logits[i]! * scale - max);
  for (let i = 0; i < p.length; i++) p[i]! /= sum;
  return p;
}

/** A sequence of `length` tokens starting at BOS, sampled at temperature 1 with a seeded Rng. */
export function sampleSequence(model: StepModel, seed: number, length: number): number[] {
  const rng = new Rng(seed);
  const seq = [BOS];
  while (seq.length < length) {
    const p = softmax64(model.forward(seq[seq.length - 1]!, seq.length - 1));
    const r = rng.next();
    let cdf = 0;
    let next = p.length - 1;
    for (let i = 0; i < p.length; i++) if (r < (cdf += p[i]!)) { next = i; break; }
    seq.push(next);
  }
  return seq;
}
