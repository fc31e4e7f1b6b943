/**
 * Worker side of the QAT teacher feed (teacher-feed.ts): gets the checkpoint and the TeacherSpec once (workerData),
 * then answers each { step } with that step's teacher batch, its buffers transferred, or with { step, error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LlamaCheckpoint } from '../checkpoint';
import { teacherStep, type TeacherSpec } from './teacher';

const { ckpt, spec } = workerData as { ckpt: LlamaCheckpoint; spec: TeacherSpec };
const port = parentPort!;
port.on('message', ({ step }: { step: number }) => {
  try {
    const data = teacherStep(ckpt, spec, step);
    const buffers = [data.tokens.buffer, data.logits.buffer, ...(data.hidden ?? []).map((h) => h.buffer)];
    port.postMessage({ step, data }, buffers as ArrayBuffer[]);
  } catch (e) {
    port.postMessage({ step, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
