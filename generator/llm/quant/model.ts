import type { LlamaCheckpoint } from '../checkpoint';
import { layerSlice } from '../checkpoint';
import { ConfigError } from '../../util/errors';
import { matrixBits, type EngineConfig, type LinearMat } from '../model-spec';
import { quantizeMatrix, type QMatrix, type ScaleSearch } from './weights';
import type { Calibration } from './calibrate';

/** A norm weight vector times sqrt(dim) (folded so RMSNorm needs no division by dim): real = mant * 2^-exp. */
export interface QNorm {
  mant: Int32Array;
  exp: number;
}

export interface QLayer {
  attnNorm: QNorm;
  wq: QMatrix;
  wk: QMatrix;
  wv: QMatrix;
  wo: QMatrix;
  ffnNorm: QNorm;
  w1: QMatrix;
  w2: QMatrix;
  w3: QMatrix;
}

/** Everything the engine stores for one model: integer codes and scales only. */
export interface QuantModel {
  cfg: EngineConfig;
  layers: QLayer[];
  finalNorm: QNorm;
  /** Classifier [vocab][dim] (clsBits). */
  cls: QMatrix;
  /** Embedding table [vocab][dim]; the same object as cls when the checkpoint ties them. */
  emb: QMatrix;
  search: ScaleSearch;
}

export interface QuantizeModelOptions {
  search?: ScaleSearch;
  /** Activation statistics from calibrate(); the error of each matrix is weighted by E[x_c^2] of its input. */
  calib?: Calibration;
}

export function quantizeNorm(g: Float32Array, dim: number, bits: number): QNorm {
  let amax = 0;
  const scaled = Array.from(g, (v) => v * Math.sqrt(dim));
  for (const v of scaled) amax = Math.max(amax, Math.abs(v));
  const lim = 2 ** (bits - 1) - 1;
  const exp = amax === 0 ? 0 : Math.floor(Math.log2(lim / amax));
  return { mant: Int32Array.from(scaled, (v) => Math.max(-lim, Math.min(lim, Math.round(v * 2 ** exp)))), exp };
}

export function quantizeModel(ckpt: LlamaCheckpoint, cfg: EngineConfig, opts: QuantizeModelOptions = {}): QuantModel {
  const d = ckpt.dims;
  const m = cfg.model;
  if (d.dim !== m.dim || d.hiddenDim !== m.hiddenDim || d.nLayers !== m.nLayers || d.nKvHeads !== m.nKvHeads || d.vocabSize !== m.vocabSize)
    throw new ConfigError('model', 'engine config shape does not match the checkpoint', m);
  const search = opts.search ?? 'mse';
  const w = ckpt.weights;
  const base = { group: cfg.wGroup, scaleBits: cfg.scaleBits, mulBits: cfg.mulBits, search };
  const lin = (t: Float32Array, l: number, rows: number, cols: number, site: string, mat: LinearMat) =>
    quantizeMatrix(layerSlice(t, l, rows * cols), rows, cols, {
      ...base,
      bits: matrixBits(cfg, l, mat),
      colWeights: opts.calib?.get(site, l),
      gram: opts.calib?.gram(site, l),
      sparsity: cfg.wSparsity,
    });
  const { dim, hiddenDim: hid, kvDim } = d;
  const layers: QLayer[] = [];
  for (let l = 0; l < d.nLayers; l++)
    layers.push({
      attnNorm: quantizeNorm(layerSlice(w.rmsAtt, l, dim), dim, cfg.normWBits),
      wq: lin(w.wq, l, dim, dim, 'attn', 'wq'),
      wk: lin(w.wk, l, kvDim, dim, 'attn', 'wk'),
      wv: lin(w.wv, l, kvDim, dim, 'attn', 'wv'),
      wo: lin(w.wo, l, dim, dim, 'wo', 'wo'),
      ffnNorm: quantizeNorm(layerSlice(w.rmsFfn, l, dim), dim, cfg.normWBits),
      w1: lin(w.w1, l, hid, dim, 'ffn', 'w1'),
      w2: lin(w.w2, l, dim, hid, 'w2', 'w2'),
      w3: lin(w.w3, l, hid, dim, 'ffn', 'w3'),
    });
  const cls = quantizeMatrix(w.wcls, d.vocabSize, dim, { ...base, bits: cfg.clsBits, colWeights: opts.calib?.get('cls', 0), gram: opts.calib?.gram('cls', 0) });
  // A separate embedding table is read one row per token; plain per-row error is the right objective there.
  const emb = ckpt.sharedClassifier ? cls : quantizeMatrix(w.tokenEmbedding, d.vocabSize, dim, { ...base, search: search === 'gptq' ? 'mse' : search, bits: cfg.clsBits });
  return { cfg, layers, finalNorm: quantizeNorm(w.rmsFinal, dim, cfg.normWBits), cls, emb, search };
}
