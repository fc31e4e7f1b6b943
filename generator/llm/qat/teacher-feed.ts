/**
 * Teacher batches off the training thread: a worker_threads worker (teacher-thread.ts) samples the float reference
 * for the next steps while the main thread runs the student's forward/backward, so a QAT step costs about
 * max(teacher, student) instead of their sum on a 2-core machine. The worker runs the same teacherStep as a direct
 * call, so the batches are bit-identical (tests/generator/llm/qat-teacher-feed.test.ts).
 */
import { Worker } from 'node:worker_threads';
import type { LlamaCheckpoint } from '../checkpoint';
import type { TeacherBatch, TeacherSpec } from './teacher';

type Reply = { step: number; data: TeacherBatch; error?: undefined } | { step: number; error: string };

interface Pending {
  promise: Promise<TeacherBatch>;
  resolve: (b: TeacherBatch) => void;
  reject: (e: Error) => void;
  /** The worker answered / the caller asked for it (the entry is dropped once both hold). */
  settled: boolean;
  taken: boolean;
}

export class TeacherFeed {
  /** Workers started and not yet exited, over all feeds (tests check that every run stops its worker). */
  static live = 0;
  private readonly worker: Worker;
  /** Requested steps not yet both answered and taken. */
  private readonly pending = new Map<number, Pending>();
  private requestedUpTo = -1;
  private failure?: Error;
  private closed = false;

  /**
   * Batches for steps [0, end) of `spec` on `ckpt` (the checkpoint is copied to the worker once); `ahead` = how many
   * steps after the one asked for the worker computes in advance.
   */
  constructor(ckpt: LlamaCheckpoint, spec: TeacherSpec, private readonly end: number, private readonly ahead = 2) {
    this.worker = new Worker(new URL('./teacher-worker.mjs', import.meta.url), { workerData: { ckpt, spec } });
    TeacherFeed.live++;
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.step);
      if (!p) return;
      p.settled = true;
      if (p.taken) this.pending.delete(m.step);
      if (m.error !== undefined) p.reject(new Error(`QAT teacher worker failed on step ${m.step}: ${m.error}`));
      else p.resolve(m.data);
    });
    this.worker.on('error', (e) => this.fail(new Error(`QAT teacher worker failed: ${e.message}`, { cause: e })));
    this.worker.on('messageerror', (e) => this.fail(new Error(`QAT teacher worker sent an unreadable message: ${e.message}`)));
    this.worker.on('exit', (code) => {
      TeacherFeed.live--;
      if (!this.closed) this.fail(new Error(`QAT teacher worker exited unexpectedly (code ${code})`));
    });
  }

  /** The batch of `step`; also asks for the next `ahead` steps so they are ready when the caller gets there. */
  next(step: number): Promise<TeacherBatch> {
    if (this.closed) return Promise.reject(new Error('QAT teacher feed is closed'));
    if (!this.pending.has(step)) this.request(step);
    for (let k = Math.max(step + 1, this.requestedUpTo + 1); k <= Math.min(step + this.ahead, this.end - 1); k++) this.request(k);
    const p = this.pending.get(step)!;
    p.taken = true;
    if (p.settled) this.pending.delete(step);
    return p.promise;
  }

  /** Stops the worker (idempotent); batches not yet taken are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('QAT teacher feed was closed'));
    await this.worker.terminate();
  }

  private request(step: number): void {
    let resolve!: Pending['resolve'];
    let reject!: Pending['reject'];
    const promise = new Promise<TeacherBatch>((res, rej) => ((resolve = res), (reject = rej)));
    // A prefetched step may fail before anyone awaits it; the error reaches the caller when it asks for that step.
    promise.catch(() => {});
    this.pending.set(step, { promise, resolve, reject, settled: false, taken: false });
    this.requestedUpTo = Math.max(this.requestedUpTo, step);
    if (this.failure) reject(this.failure);
    else this.worker.postMessage({ step });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}
