import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../util/errors';
import { type CellnetConfig, type CellnetParams, cellnetConfig, configMismatch, configParams } from './config';
import { writeAtomic } from './dataset';

/**
 * A trained float cell classifier: the config plus float32 weights for every weighted layer.
 *
 * Weight layouts (as trained; the quantiser re-lays them out for the RTL):
 *  - conv:  kernel[((ky * k + kx) * inC + i) * outC + o]  (HWIO), bias[o]
 *  - dense: kernel[j * units + o]  with j the HWC-flattened input index, bias[o]
 *
 * `quant` holds the activation scales chosen by calibration (see quantize.ts): the fraction bits of each
 * ReLU activation output (conv / hidden dense) and of the logits. Weight scales are derived from the
 * weights themselves, so the fixed-point network is a pure function of the model file.
 */
export interface LayerWeights {
  kernel: Float32Array;
  bias: Float32Array;
}

export interface QuantScales {
  /** Per layer: fraction bits of the layer's unsigned output activations; null for pools and the last layer. */
  actFrac: (number | null)[];
  /** Fraction bits of the integer logits. */
  logitFrac: number;
}

export interface CellnetModel {
  config: CellnetConfig;
  /** Per layer (aligned with config.layers): weights, or null for pools. */
  weights: (LayerWeights | null)[];
  quant?: QuantScales;
  /** Free-form provenance (data, seed, epochs, accuracies); not used for inference. */
  meta?: Record<string, unknown>;
}

export const MODEL_FORMAT = 'lutforge-cellnet';
/** The shipped trained student (distilled, on synthetic data), so demos need no training. */
export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('../../models/cellnet/default.json', import.meta.url));
export const MODEL_VERSION = 1;

interface ModelFileLayer {
  layer: number;
  kind: 'conv' | 'dense';
  kernelShape: number[];
  kernel: number[];
  bias: number[];
}

interface ModelFile {
  format: string;
  version: number;
  params: number;
  config: CellnetParams;
  quant?: QuantScales;
  meta?: Record<string, unknown>;
  weights: ModelFileLayer[];
}

/** Kernel shape for a weighted layer: conv [k, k, inC, outC], dense [in, units]. */
export function kernelShape(cfg: CellnetConfig, layer: number): number[] {
  const s = cfg.shapes[layer]!;
  if (s.layer.kind === 'conv') return [s.layer.kernel, s.layer.kernel, s.in[2], s.out[2]];
  if (s.layer.kind === 'dense') return [s.fanIn, s.out[2]];
  return [];
}

/** Zero weights of the right shapes (for tests and as a training skeleton). */
export function emptyWeights(cfg: CellnetConfig): (LayerWeights | null)[] {
  return cfg.shapes.map((s) => (s.layer.kind === 'maxpool' ? null : { kernel: new Float32Array(s.weights), bias: new Float32Array(s.biases) }));
}

/** Check that a model's weights have the shapes its config implies and are finite. */
export function checkModel(m: CellnetModel): void {
  const cfg = m.config;
  if (m.weights.length !== cfg.layers.length) throw new InputError(`model has ${m.weights.length} weight entries for ${cfg.layers.length} layers`);
  cfg.shapes.forEach((s, i) => {
    const w = m.weights[i];
    if (s.layer.kind === 'maxpool') {
      if (w) throw new InputError(`model layer ${i} (maxpool) has weights`);
      return;
    }
    if (!w) throw new InputError(`model layer ${i} (${s.layer.kind}) has no weights`);
    if (w.kernel.length !== s.weights) throw new InputError(`model layer ${i} (${s.layer.kind}): kernel has ${w.kernel.length} values, architecture needs ${s.weights}`);
    if (w.bias.length !== s.biases) throw new InputError(`model layer ${i} (${s.layer.kind}): bias has ${w.bias.length} values, architecture needs ${s.biases}`);
    for (const v of w.kernel) if (!Number.isFinite(v)) throw new InputError(`model layer ${i}: non-finite weight`);
    for (const v of w.bias) if (!Number.isFinite(v)) throw new InputError(`model layer ${i}: non-finite bias`);
  });
  if (m.quant) {
    if (m.quant.actFrac.length !== cfg.layers.length) throw new InputError(`model quant.actFrac has ${m.quant.actFrac.length} entries for ${cfg.layers.length} layers`);
    cfg.shapes.forEach((s, i) => {
      const f = m.quant!.actFrac[i];
      const needs = s.layer.kind !== 'maxpool' && !s.last;
      if (needs && !Number.isInteger(f)) throw new InputError(`model quant.actFrac[${i}] must be an integer for ${s.layer.kind}`);
      if (!needs && f !== null) throw new InputError(`model quant.actFrac[${i}] must be null for ${s.last ? 'the last layer' : s.layer.kind}`);
    });
    if (!Number.isInteger(m.quant.logitFrac)) throw new InputError('model quant.logitFrac must be an integer');
  }
}

export function serializeModel(m: CellnetModel): string {
  checkModel(m);
  const file: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    params: m.config.params,
    config: configParams(m.config),
    quant: m.quant,
    meta: m.meta,
    weights: m.config.shapes.flatMap((s, i) => {
      const w = m.weights[i];
      if (s.layer.kind === 'maxpool' || !w) return [];
      return [{ layer: i, kind: s.layer.kind, kernelShape: kernelShape(m.config, i), kernel: Array.from(w.kernel), bias: Array.from(w.bias) }];
    }),
  };
  return JSON.stringify(file) + '\n';
}

/**
 * Parse a model file. With `expected`, the file's architecture must match it exactly (same layers,
 * widths, classes and normalisation); a mismatch is an InputError saying what differs.
 */
export function parseModel(text: string, what = 'model file', expected?: CellnetParams): CellnetModel {
  let raw: ModelFile;
  try {
    raw = JSON.parse(text) as ModelFile;
  } catch (e) {
    throw new InputError(`${what}: not JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || raw.format !== MODEL_FORMAT) throw new InputError(`${what}: not a ${MODEL_FORMAT} model (format field is ${JSON.stringify(raw?.format)})`);
  if (raw.version !== MODEL_VERSION) throw new InputError(`${what}: model format version ${raw.version}, this lutforge reads ${MODEL_VERSION}`);
  let config: CellnetConfig;
  try {
    config = cellnetConfig(raw.config);
  } catch (e) {
    throw new InputError(`${what}: invalid architecture: ${(e as Error).message}`);
  }
  if (expected) {
    const diff = configMismatch(expected, config);
    if (diff) throw new InputError(`${what}: does not match the configured architecture: ${diff}`);
  }
  if (raw.params !== config.params) throw new InputError(`${what}: header says ${raw.params} parameters, architecture has ${config.params}`);
  if (!Array.isArray(raw.weights)) throw new InputError(`${what}: missing weights`);
  const weights: (LayerWeights | null)[] = config.layers.map(() => null);
  for (const l of raw.weights) {
    const s = config.shapes[l.layer];
    if (!s || s.layer.kind === 'maxpool') throw new InputError(`${what}: weights for layer ${l.layer}, which has none in the architecture`);
    if (l.kind !== s.layer.kind) throw new InputError(`${what}: layer ${l.layer} weights are for ${l.kind}, architecture has ${s.layer.kind}`);
    const want = kernelShape(config, l.layer);
    if (JSON.stringify(l.kernelShape) !== JSON.stringify(want))
      throw new InputError(`${what}: layer ${l.layer} kernel shape [${l.kernelShape}], architecture needs [${want}]`);
    if (weights[l.layer]) throw new InputError(`${what}: layer ${l.layer} has weights twice`);
    if (!Array.isArray(l.kernel) || !Array.isArray(l.bias)) throw new InputError(`${what}: layer ${l.layer} kernel/bias must be arrays`);
    weights[l.layer] = { kernel: Float32Array.from(l.kernel), bias: Float32Array.from(l.bias) };
  }
  const m: CellnetModel = { config, weights, quant: raw.quant, meta: raw.meta };
  try {
    checkModel(m);
  } catch (e) {
    throw new InputError(`${what}: ${(e as Error).message}`);
  }
  return m;
}

export function readModel(path: string, expected?: CellnetParams): CellnetModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseModel(text, path, expected);
}

export function writeModel(path: string, m: CellnetModel): void {
  writeAtomic(path, serializeModel(m));
}
