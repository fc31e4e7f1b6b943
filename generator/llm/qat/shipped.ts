/**
 * Quantised models shipped in the repository (models/*.lfq, made by `llm qat`): `llm eval` adds rows for those made
 * from the model being evaluated, and the demo decodes the W2 one.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import type { LlamaCheckpoint } from '../checkpoint';
import { checkpointFingerprint, QMODEL_FORMAT } from '../quant/qmodel-file';

export const SHIPPED_MODELS_DIR = resolve(import.meta.dirname, '../../../models');

export interface ShippedModel {
  path: string;
  wBits: number;
  wGroup: number;
  producer: string;
}

/** Shipped quantised models made from this checkpoint (matched by checkpointFingerprint), sorted by path. */
export function shippedQuantModels(ckpt: LlamaCheckpoint, dir = SHIPPED_MODELS_DIR): ShippedModel[] {
  if (!existsSync(dir)) return [];
  const fp = checkpointFingerprint(ckpt);
  const out: ShippedModel[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.lfq')).sort()) {
    const path = join(dir, name);
    try {
      const o = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'));
      if (o.format === QMODEL_FORMAT && o.source === fp) out.push({ path, wBits: o.codes.wBits, wGroup: o.codes.wGroup, producer: o.producer });
    } catch {
      // Not a quantised model file: ignore it here (loading it explicitly reports the problem).
    }
  }
  return out;
}
