/**
 * Quantised models shipped in the repository (models/*.lfq, made by `llm qat`): `llm eval` adds rows for those made
 * from the model being evaluated, and the demo decodes the uniform W2 one (a mixed W2 + W4 file has w4Matrices).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import type { LlamaCheckpoint } from '../checkpoint';
import { checkpointFingerprint, QMODEL_FORMAT } from '../quant/qmodel-file';
import { InputError } from '../../util/errors';

export const SHIPPED_MODELS_DIR = resolve(import.meta.dirname, '../../../models');

export interface ShippedModel {
  path: string;
  wBits: number;
  wGroup: number;
  /** The file's 4-bit matrices (mixed precision; empty for a uniform model). */
  w4Matrices: string[];
  producer: string;
}

/** The header facts of a quantised model file (InputError if it is not one). */
export function quantFileInfo(path: string): ShippedModel & { source: string } {
  let o: any;
  try {
    o = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'));
  } catch (e) {
    throw new InputError(`${path}: not a lutforge quantised model file (${(e as Error).message})`);
  }
  if (o.format !== QMODEL_FORMAT) throw new InputError(`${path}: format '${o.format}' is not '${QMODEL_FORMAT}'`);
  const w4Matrices = Array.isArray(o.codes?.w4Matrices) ? o.codes.w4Matrices.map(String) : [];
  return { path, wBits: o.codes?.wBits, wGroup: o.codes?.wGroup, w4Matrices, producer: String(o.producer), source: String(o.source) };
}

/** Shipped quantised models made from this checkpoint (matched by checkpointFingerprint), sorted by path. */
export function shippedQuantModels(ckpt: LlamaCheckpoint, dir = SHIPPED_MODELS_DIR): ShippedModel[] {
  if (!existsSync(dir)) return [];
  const fp = checkpointFingerprint(ckpt);
  const out: ShippedModel[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.lfq')).sort()) {
    try {
      const { source, ...info } = quantFileInfo(join(dir, name));
      if (source === fp) out.push(info);
    } catch {
      // Not a quantised model file: ignore it here (loading it explicitly reports the problem).
    }
  }
  return out;
}
