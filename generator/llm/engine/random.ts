/**
 * Seeded random engine configurations and quantised models for the bit-exactness tests and the 7B-shaped bench:
 * float weights drawn at realistic scales, then quantised by the real quantizer, so every op sees typical magnitudes.
 */
import { Rng } from '../../util/rng';
import { engineConfig, matrixBits, type EngineParams, type LinearMat, type ModelShape } from '../model-spec';
import { quantizeNorm, type QLayer, type QuantModel } from '../quant/model';
import { quantizeMatrix } from '../quant/weights';
import type { LlmHwParams } from './hw-config';

function gaussian(rng: Rng, n: number, sd: number, mean = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = mean + sd * rng.normal();
  return a;
}

/** A random quantised model for an engine config (EngineParams already validated by engineConfig). */
export function randomQuantModel(model: ModelShape, params: Partial<EngineParams>, seed: number): QuantModel {
  const cfg = engineConfig(model, params);
  const rng = new Rng(seed);
  const { dim, hiddenDim: hid, kvDim, vocabSize } = model;
  const base = { group: cfg.wGroup, scaleBits: cfg.scaleBits, mulBits: cfg.mulBits, search: 'minmax' as const };
  let layer = 0;
  const lin = (rows: number, cols: number, mat: LinearMat) =>
    quantizeMatrix(gaussian(rng, rows * cols, 1 / Math.sqrt(cols)), rows, cols, { ...base, bits: matrixBits(cfg, layer, mat), sparsity: cfg.wSparsity });
  const norm = () => quantizeNorm(gaussian(rng, dim, 0.25, 1), dim, cfg.normWBits);
  const layers: QLayer[] = [];
  for (; layer < model.nLayers; layer++)
    layers.push({
      attnNorm: norm(),
      wq: lin(dim, dim, 'wq'),
      wk: lin(kvDim, dim, 'wk'),
      wv: lin(kvDim, dim, 'wv'),
      wo: lin(dim, dim, 'wo'),
      ffnNorm: norm(),
      w1: lin(hid, dim, 'w1'),
      w2: lin(dim, hid, 'w2'),
      w3: lin(hid, dim, 'w3'),
    });
  const cls = quantizeMatrix(gaussian(rng, vocabSize * dim, 1), vocabSize, dim, { ...base, bits: cfg.clsBits });
  return { cfg, layers, finalNorm: norm(), cls, emb: cls, search: 'minmax' };
}

export interface RandomCase {
  model: ModelShape;
  engine: Partial<EngineParams>;
  hw: Pick<LlmHwParams, 'lanes' | 'simd' | 'vpar' | 'slotPar' | 'wFifo'>;
}

/** A small random configuration: dim, heads, kv heads, hidden, S, W, kv group, weight group, lanes, simd, vpar, slotPar, wFifo. */
export function randomCase(rng: Rng): RandomCase {
  const vpar = rng.pick([2, 4]);
  const headDim = rng.pick([4, 8, 16].filter((d) => d % vpar === 0));
  const nKvHeads = rng.pick([1, 2]);
  const nHeads = nKvHeads * rng.pick([1, 2, 3]);
  const dim = nHeads * headDim;
  const kvGroup = rng.pick([vpar, headDim].filter((gk) => headDim % gk === 0));
  const wGroup = rng.pick([8, 16, 32]);
  const simd = rng.pick([4, 8].filter((s) => wGroup % s === 0 && s % vpar === 0));
  const lanes = vpar * rng.pick([1, 2, 3]);
  const model: ModelShape = {
    dim,
    hiddenDim: dim + rng.int(1, 2 * dim),
    nLayers: rng.int(1, 2),
    nHeads,
    nKvHeads,
    headDim,
    kvDim: nKvHeads * headDim,
    vocabSize: rng.int(20, 70),
    seqLen: 256,
  };
  const slotPar = rng.pick([1, 2, 4]);
  const wFifo = rng.pick([0, 4]);
  return { model, engine: { wGroup, kvGroup, sinks: rng.int(0, 3), window: rng.int(1, 5) }, hw: { lanes, simd, vpar, slotPar, wFifo } };
}
