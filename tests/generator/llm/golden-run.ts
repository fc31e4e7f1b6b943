/** Test helpers shared by the LLM suites: a tiny random llama, and a token-by-token golden run that keeps every position's logits. */
import type { LlamaCheckpoint, LlamaDims } from '../../../generator/llm/checkpoint';
import { generateGreedy } from '../../../generator/llm/float-model';
import { GoldenDecoder } from '../../../generator/llm/golden/decoder';
import type { QuantModel } from '../../../generator/llm/quant/model';
import { Rng } from '../../../generator/util/rng';

/**
 * A tiny random llama (tied classifier) drawn from Rng(seed); `gain` draws each RMSNorm gain from the same stream, so
 * callers choose gains near 1 or far from it without changing the other weights' draw order.
 */
export function tinyLlama(seed: number, gain: (rng: Rng) => number): LlamaCheckpoint {
  const dims: LlamaDims = { dim: 32, hiddenDim: 40, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 48, seqLen: 32, headDim: 8, kvDim: 16 };
  const rng = new Rng(seed);
  const t = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.normal() * s);
  const gains = (n: number) => Float32Array.from({ length: n }, () => gain(rng));
  const { dim, hiddenDim: h, nLayers: L, kvDim, vocabSize: V } = dims;
  const emb = t(V * dim, 1);
  const weights = {
    tokenEmbedding: emb, rmsAtt: gains(L * dim), wq: t(L * dim * dim, 0.3), wk: t(L * kvDim * dim, 0.3), wv: t(L * kvDim * dim, 0.3),
    wo: t(L * dim * dim, 0.2), rmsFfn: gains(L * dim), w1: t(L * h * dim, 0.3), w2: t(L * dim * h, 0.2), w3: t(L * h * dim, 0.3), rmsFinal: gains(dim), wcls: emb,
  };
  return { dims, weights, version: 0, sharedClassifier: true, source: 'tiny' };
}

/** Greedy ids of the golden decoder run token by token from `prompt`, and a copy of its logits at every position. */
export function goldenGreedyLogits(qm: QuantModel, prompt: number[], steps: number): { ids: number[]; logits: number[][] } {
  const g = new GoldenDecoder(qm);
  const logits: number[][] = [];
  const ids = generateGreedy({ forward: (t, p) => { const l = g.forward(t, p); logits[p] = Array.from(l); return l; } }, prompt, steps);
  return { ids, logits };
}
