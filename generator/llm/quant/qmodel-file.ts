/**
 * The quantised-model file (`.lfq`): a QuantModel's integer codes and scales exactly as the golden decoder, the engine
 * packer and the device image read them, so a QAT result (or any other quantizer's) can be stored and decoded later.
 * Format (docs/formats.md "Quantised model file"): gzip of one JSON object; typed arrays as base64 of little-endian
 * bytes. Only fields that the codes depend on are stored; sinks/window/KV settings come from the engine config.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { LlamaCheckpoint } from '../checkpoint';
import { ConfigError, InputError } from '../../util/errors';
import { LINEAR_MATS, linearDims, matrixBits, type EngineConfig, type ModelShape } from '../model-spec';
import type { QLayer, QNorm, QuantModel } from './model';
import type { QMatrix, ScaleSearch } from './weights';

export const QMODEL_FORMAT = 'lutforge-qmodel';
export const QMODEL_VERSION = 1;
const SHAPE_KEYS = ['dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'headDim', 'kvDim', 'vocabSize'] as const;
const CODE_KEYS = ['wBits', 'wGroup', 'scaleBits', 'mulBits', 'clsBits', 'normWBits'] as const;
const MATS = LINEAR_MATS;

/** sha256 of a checkpoint's float weights (identifies the source model of a quantised file or a QAT resume file). */
export function checkpointFingerprint(ckpt: LlamaCheckpoint): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(SHAPE_KEYS.map((k) => ckpt.dims[k])));
  for (const t of Object.values(ckpt.weights) as Float32Array[]) h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  return h.digest('hex');
}

const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function fromB64<T>(s: unknown, ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number, what: string): T {
  if (typeof s !== 'string') throw new InputError(`quantised model: ${what} is missing`);
  const buf = Buffer.from(s, 'base64');
  if (buf.length !== n * ctor.BYTES_PER_ELEMENT) throw new InputError(`quantised model: ${what} has ${buf.length / ctor.BYTES_PER_ELEMENT} values, expected ${n}`);
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  return new ctor(ab);
}

const matJson = (m: QMatrix) => {
  if (m.keep) throw new ConfigError('wSparsity', 'the quantised model file stores dense matrices only', '2:4');
  return { rows: m.rows, cols: m.cols, group: m.group, bits: m.bits, mul: m.mul, exp: m.exp, codes: b64(m.codes), scales: b64(m.scales) };
};
const normJson = (n: QNorm) => ({ exp: n.exp, mant: b64(n.mant) });

export interface QModelMeta {
  /** checkpointFingerprint() of the float model it was made from. */
  source: string;
  /** How it was made (free text, e.g. the command line). */
  producer: string;
  /** Extra facts to keep beside the codes (training steps, loss, ...). */
  info?: Record<string, unknown>;
}

export function serializeQuantModel(qm: QuantModel, meta: QModelMeta): Uint8Array {
  const c = qm.cfg;
  const obj = {
    format: QMODEL_FORMAT,
    version: QMODEL_VERSION,
    ...meta,
    shape: Object.fromEntries(SHAPE_KEYS.map((k) => [k, c.model[k]])),
    codes: { ...Object.fromEntries(CODE_KEYS.map((k) => [k, c[k]])), ...(c.w4Matrices.length && { w4Matrices: c.w4Matrices }) },
    search: qm.search,
    tied: qm.emb === qm.cls,
    layers: qm.layers.map((L) => ({ attnNorm: normJson(L.attnNorm), ffnNorm: normJson(L.ffnNorm), ...Object.fromEntries(MATS.map((n) => [n, matJson(L[n])])) })),
    finalNorm: normJson(qm.finalNorm),
    cls: matJson(qm.cls),
    ...(qm.emb !== qm.cls && { emb: matJson(qm.emb) }),
  };
  return gzipSync(JSON.stringify(obj), { level: 9 });
}

export interface LoadedQuantModel {
  qm: QuantModel;
  meta: QModelMeta;
}

/**
 * Parse a quantised-model file for an engine config. Errors name the problem: not a quantised model, another model
 * shape, or code formats (weight bits, group, scale/multiplier widths) the engine is not configured for.
 */
export function parseQuantModel(bytes: Uint8Array, cfg: EngineConfig, source = '<buffer>'): LoadedQuantModel {
  let o: Record<string, any>;
  try {
    o = JSON.parse(gunzipSync(bytes).toString('utf8'));
  } catch {
    throw new InputError(`${source}: not a lutforge quantised model file (expected gzip-compressed JSON, format '${QMODEL_FORMAT}')`);
  }
  if (o.format !== QMODEL_FORMAT) throw new InputError(`${source}: format '${o.format}' is not '${QMODEL_FORMAT}'`);
  if (o.version !== QMODEL_VERSION) throw new InputError(`${source}: version ${o.version} is not supported (expected ${QMODEL_VERSION})`);
  for (const k of SHAPE_KEYS)
    if (o.shape?.[k] !== cfg.model[k as keyof ModelShape])
      throw new ConfigError('quant', `${source} is for a model with ${k}=${o.shape?.[k]}, the engine's model has ${k}=${cfg.model[k as keyof ModelShape]}`);
  for (const k of CODE_KEYS)
    if (o.codes?.[k] !== cfg[k])
      throw new ConfigError('quant', `${source} holds ${k}=${o.codes?.[k]} codes; the engine is configured with ${k}=${cfg[k]} (choose the matching --scheme / --w-group)`);
  const fileW4 = Array.isArray(o.codes?.w4Matrices) ? (o.codes.w4Matrices as string[]).join(',') : '';
  if (fileW4 !== cfg.w4Matrices.join(','))
    throw new ConfigError('quant', `${source} has 4-bit matrices [${fileW4 || 'none'}]; the engine is configured with [${cfg.w4Matrices.join(',') || 'none'}] (--w4 must match the file)`);
  if (cfg.wSparsity !== 'dense') throw new ConfigError('quant', `${source} holds dense weights; the engine is configured for ${cfg.wSparsity}`);
  const m = cfg.model;
  const mat = (j: any, rows: number, cols: number, bits: number, what: string): QMatrix => {
    if (!j || j.rows !== rows || j.cols !== cols || j.group !== cfg.wGroup || j.bits !== bits)
      throw new InputError(`${source}: ${what} should be ${rows}x${cols} W${bits} group ${cfg.wGroup}, found ${j ? `${j.rows}x${j.cols} W${j.bits} group ${j.group}` : 'nothing'}`);
    const ng = Math.ceil(cols / j.group);
    const codes = fromB64(j.codes, Uint8Array, rows * cols, `${what} codes`);
    const scales = fromB64(j.scales, Uint32Array, rows * ng, `${what} scales`);
    if (codes.some((q) => q >= 2 ** bits)) throw new InputError(`${source}: ${what} has codes outside [0, 2^${bits})`);
    if (scales.some((s) => s >= 2 ** cfg.scaleBits)) throw new InputError(`${source}: ${what} has scale codes wider than ${cfg.scaleBits} bits`);
    if (!Number.isInteger(j.mul) || j.mul < 0 || j.mul >= 2 ** cfg.mulBits || !Number.isInteger(j.exp))
      throw new InputError(`${source}: ${what} multiplier ${j.mul}·2^-${j.exp} does not fit mulBits=${cfg.mulBits}`);
    return { rows, cols, group: j.group, bits, codes, scales, mul: j.mul, exp: j.exp };
  };
  const norm = (j: any, what: string): QNorm => {
    const mant = fromB64(j?.mant, Int32Array, m.dim, `${what} mantissas`);
    if (mant.some((v) => Math.abs(v) >= 2 ** (cfg.normWBits - 1))) throw new InputError(`${source}: ${what} mantissas exceed normWBits=${cfg.normWBits}`);
    return { mant, exp: j.exp };
  };
  if (!Array.isArray(o.layers) || o.layers.length !== m.nLayers) throw new InputError(`${source}: expected ${m.nLayers} layers`);
  const layers: QLayer[] = o.layers.map((L: any, l: number) => ({
    attnNorm: norm(L.attnNorm, `layer ${l} attnNorm`),
    ffnNorm: norm(L.ffnNorm, `layer ${l} ffnNorm`),
    ...(Object.fromEntries(MATS.map((n) => [n, mat(L[n], ...linearDims(m, n), matrixBits(cfg, l, n), `layer ${l} ${n}`)])) as Record<(typeof MATS)[number], QMatrix>),
  }));
  const cls = mat(o.cls, m.vocabSize, m.dim, cfg.clsBits, 'classifier');
  const emb = o.tied ? cls : mat(o.emb, m.vocabSize, m.dim, cfg.clsBits, 'embedding');
  const qm: QuantModel = { cfg, layers, finalNorm: norm(o.finalNorm, 'final norm'), cls, emb, search: o.search as ScaleSearch };
  return { qm, meta: { source: String(o.source), producer: String(o.producer), ...(o.info && { info: o.info }) } };
}

/** The engine parameters a quantised model file's codes fix (today: its 4-bit matrices), for configs built before loading it. */
export function quantModelCodeParams(path: string): { w4Matrices: string[] } {
  let o: Record<string, any>;
  try {
    o = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'));
  } catch (e) {
    throw new InputError(`quantised model ${path}: cannot read (${(e as Error).message})`);
  }
  return { w4Matrices: Array.isArray(o.codes?.w4Matrices) ? o.codes.w4Matrices.map(String) : [] };
}

export function loadQuantModel(path: string, cfg: EngineConfig): LoadedQuantModel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`quantised model ${path}: cannot read (${(e as Error).message})`);
  }
  return parseQuantModel(bytes, cfg, path);
}

/** Load a quantised model for a checkpoint: also checks that it was made from this checkpoint. */
export function loadQuantModelFor(path: string, cfg: EngineConfig, ckpt: LlamaCheckpoint): QuantModel {
  const { qm, meta } = loadQuantModel(path, cfg);
  const fp = checkpointFingerprint(ckpt);
  if (meta.source !== fp) throw new InputError(`quantised model ${path} was made from another model (source ${meta.source.slice(0, 12)}…, this model ${fp.slice(0, 12)}…)`);
  return qm;
}
