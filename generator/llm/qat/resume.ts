/**
 * QAT resume files: the trainable variables, both Adam states, the step and the loss history, with a fingerprint of
 * the model and the run settings so a file from another model or configuration is refused. Gzip of JSON, written
 * atomically.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../../util/errors';
import { writeFileAtomic } from '../../util/files';

export const RESUME_FORMAT = 'lutforge-qat-resume';

interface TensorJson {
  shape: number[];
  data: string;
}

export interface ResumeState {
  fingerprint: Record<string, unknown>;
  step: number;
  losses: number[];
  vars: Float32Array[];
  /** Adam weights of each optimiser (tfjs getWeights() order). */
  adam: { name: string; shape: number[]; data: Float32Array }[][];
}

const enc = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function dec(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const ab = new ArrayBuffer(b.length);
  new Uint8Array(ab).set(b);
  return new Float32Array(ab);
}

export async function saveResume(path: string, fingerprint: Record<string, unknown>, step: number, losses: number[], vars: tf.Variable[], opts: tf.Optimizer[]): Promise<void> {
  const adam = await Promise.all(
    opts.map(async (o) => (await o.getWeights()).map((w) => ({ name: w.name, shape: w.tensor.shape, data: enc(Float32Array.from(w.tensor.dataSync())) }))),
  );
  const obj = { format: RESUME_FORMAT, version: 1, fingerprint, step, losses, vars: vars.map((v): TensorJson => ({ shape: v.shape, data: enc(Float32Array.from(v.dataSync())) })), adam };
  await writeFileAtomic(path, gzipSync(JSON.stringify(obj)));
}

/** Read a resume file and check it belongs to this model and run configuration (every fingerprint field equal). */
export function loadResume(path: string, fingerprint: Record<string, unknown>, varShapes: number[][]): ResumeState | undefined {
  if (!existsSync(path)) return undefined;
  let o: any;
  try {
    o = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'));
  } catch {
    throw new InputError(`QAT resume file ${path}: not a gzip-compressed JSON resume file`);
  }
  if (o.format !== RESUME_FORMAT || o.version !== 1) throw new InputError(`QAT resume file ${path}: format '${o.format}' v${o.version} is not '${RESUME_FORMAT}' v1`);
  for (const [k, v] of Object.entries(fingerprint)) {
    const got = JSON.stringify(o.fingerprint?.[k]);
    if (got !== JSON.stringify(v))
      throw new InputError(`QAT resume file ${path} is from another ${k === 'source' ? 'model' : 'configuration'}: ${k} is ${got} there, ${JSON.stringify(v)} now (delete it or pass another --checkpoint)`);
  }
  if (!Array.isArray(o.vars) || o.vars.length !== varShapes.length || o.vars.some((v: TensorJson, i: number) => JSON.stringify(v.shape) !== JSON.stringify(varShapes[i])))
    throw new InputError(`QAT resume file ${path}: its variables do not have the student's shapes`);
  return {
    fingerprint: o.fingerprint,
    step: o.step,
    losses: o.losses,
    vars: o.vars.map((v: TensorJson) => dec(v.data)),
    adam: o.adam.map((ws: any[]) => ws.map((w) => ({ name: w.name, shape: w.shape, data: dec(w.data) }))),
  };
}

/** Put a resume state back into the variables and optimisers. */
export async function restoreResume(r: ResumeState, vars: tf.Variable[], opts: tf.Optimizer[]): Promise<void> {
  vars.forEach((v, i) => v.assign(tf.tensor(r.vars[i]!, v.shape)));
  await Promise.all(opts.map((o, i) => o.setWeights(r.adam[i]!.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) })))));
}
