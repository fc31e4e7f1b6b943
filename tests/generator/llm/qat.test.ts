import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LlamaCheckpoint } from '../../../generator/llm/checkpoint';
import { argmax } from '../../../generator/llm/float-model';
import { greedyLoopRate } from '../../../generator/llm/eval';
import { GoldenDecoder } from '../../../generator/llm/golden/decoder';
import { engineConfig, shapeOf } from '../../../generator/llm/model-spec';
import { checkpointFingerprint, parseQuantModel, serializeQuantModel } from '../../../generator/llm/quant/qmodel-file';
import { teacherBatch } from '../../../generator/llm/qat/teacher';
import { TeacherFeed } from '../../../generator/llm/qat/teacher-feed';
import { fakeQuantLogits, QAT_DEFAULTS, qatInit, runQat, type QatOptions } from '../../../generator/llm/qat/train';
import { ConfigError, InputError } from '../../../generator/util/errors';
import { Rng } from '../../../generator/util/rng';
import { tinyLlama } from './golden-run';

/** A tiny random llama with peaked outputs (large classifier weights), so the distillation target is not uniform. */
const tinyCheckpoint = (seed: number): LlamaCheckpoint => tinyLlama(seed, (rng) => 1 + 0.1 * rng.normal());

const ckpt = tinyCheckpoint(5);
const cfg = engineConfig(shapeOf(ckpt.dims), { wBits: 2, kvBits: 4, sinks: 2, window: 16 });
const dir = mkdtempSync(join(tmpdir(), 'lutforge-qat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts: QatOptions = { ...QAT_DEFAULTS, steps: 16, batch: 4, length: 16, lr: 20, lrScale: 2, calibSequences: 2, calibLength: 16, checkpointEvery: 4 };
const init = qatInit(ckpt, cfg, opts);

describe('llm qat (tiny random model)', () => {
  let trained: Awaited<ReturnType<typeof runQat>>;

  it('lowers the distillation loss in a few steps and exports codes the engine format holds', async () => {
    trained = await runQat(ckpt, cfg, opts, init);
    const first = trained.losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = trained.losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(trained.steps).toBe(16);
    expect(last).toBeLessThan(0.8 * first);
    const w = trained.qm.layers[1]!.w2;
    expect(w.codes.every((q) => q <= 3)).toBe(true);
    expect(w.scales.every((s) => s >= 1 && s <= 255)).toBe(true);
    expect(w.mul).toBe(init.layers[1]!.w2.mul);
    // Training changed the codes.
    expect(w.codes.some((q, i) => q !== init.layers[1]!.w2.codes[i])).toBe(true);
  }, 60_000);

  it('the golden decoder gives the fake-quant model’s top-1 except at near-ties', async () => {
    const tb = teacherBatch(ckpt, 77, 0, 4, 16);
    const seqs = Array.from({ length: 4 }, (_, b) => Array.from(tb.tokens.subarray(b * 16, (b + 1) * 16)));
    const fq = await fakeQuantLogits(ckpt, trained.qm, seqs);
    const V = ckpt.dims.vocabSize;
    let agree = 0;
    let n = 0;
    for (const [b, seq] of seqs.entries()) {
      const g = new GoldenDecoder(trained.qm);
      seq.forEach((tok, p) => {
        const gl = g.forward(tok, p);
        const f = fq.subarray((b * 16 + p) * V, (b * 16 + p + 1) * V);
        const top = argmax(f);
        const margin = f[top]! - Math.max(...Array.from(f).filter((_, i) => i !== top));
        n++;
        if (argmax(gl) === top) agree++;
        else expect(margin).toBeLessThan(0.25); // a disagreement is only allowed at a near-tie
      });
    }
    expect(agree / n).toBeGreaterThan(0.9);
  }, 60_000);

  it('round-trips the quantised model file bit for bit and refuses files the engine cannot take', () => {
    const bytes = serializeQuantModel(trained.qm, { source: checkpointFingerprint(ckpt), producer: 'test' });
    const back = parseQuantModel(bytes, cfg).qm;
    const a = new GoldenDecoder(trained.qm);
    const b = new GoldenDecoder(back);
    for (let p = 0; p < 8; p++) expect(Array.from(b.forward(p + 1, p))).toEqual(Array.from(a.forward(p + 1, p)));
    expect(() => parseQuantModel(bytes, engineConfig(shapeOf(ckpt.dims), { wBits: 2, wGroup: 16 }))).toThrow(ConfigError);
    expect(() => parseQuantModel(bytes, engineConfig(shapeOf(ckpt.dims), { wBits: 4 }))).toThrow(/wBits=2 codes; the engine is configured with wBits=4/);
    expect(() => parseQuantModel(bytes, engineConfig({ ...shapeOf(ckpt.dims), dim: 64, headDim: 16, kvDim: 32 }, { wBits: 2 }))).toThrow(/dim=32/);
    expect(() => parseQuantModel(new Uint8Array([1, 2, 3]), cfg)).toThrow(InputError);
  });

  it('resumes from its checkpoint to the same result, and refuses a resume file from another configuration', async () => {
    const ck = join(dir, 'run.resume');
    const short = { ...opts, steps: 6, checkpoint: ck };
    const part = await runQat(ckpt, cfg, { ...short, maxSeconds: 0 }, init);
    expect(part.steps).toBe(1);
    expect(existsSync(ck)).toBe(true);
    const resumed = await runQat(ckpt, cfg, short, init);
    expect(resumed.resumedFrom).toBe(1);
    const whole = await runQat(ckpt, cfg, { ...short, checkpoint: undefined }, init);
    expect(resumed.losses).toEqual(whole.losses);
    expect(Array.from(resumed.qm.layers[0]!.wq.codes)).toEqual(Array.from(whole.qm.layers[0]!.wq.codes));
    await expect(runQat(ckpt, cfg, { ...short, lr: 5 }, init)).rejects.toThrow(/from another configuration/);
    await expect(runQat(tinyCheckpoint(6), cfg, short)).rejects.toThrow(/from another model/);
  }, 60_000);

  it('stops with a clear error on a non-finite loss and keeps the last good checkpoint', async () => {
    const ck = join(dir, 'nan.resume');
    const o = { ...opts, steps: 4, checkpoint: ck };
    await runQat(ckpt, cfg, { ...o, maxSeconds: 0 }, init);
    // Poison the final RMSNorm gain (the last variable) in the saved state: the next step's loss is NaN.
    const state = JSON.parse(gunzipSync(readFileSync(ck)).toString('utf8'));
    const last = state.vars[state.vars.length - 1];
    const v = new Float32Array(Uint8Array.from(Buffer.from(last.data, 'base64')).buffer);
    v[0] = NaN;
    last.data = Buffer.from(v.buffer).toString('base64');
    const poisoned = gzipSync(JSON.stringify(state));
    writeFileSync(ck, poisoned);
    await expect(runQat(ckpt, cfg, o, init)).rejects.toThrow(/loss became NaN at step 2.*last good checkpoint/);
    expect(TeacherFeed.live).toBe(0); // the teacher worker is stopped on the error too
    expect(Buffer.compare(readFileSync(ck), poisoned)).toBe(0);
  }, 60_000);
});

describe('llm qat from the rotated checkpoint with hidden-state matching (tiny random model)', () => {
  it('lowers the loss, and the integer decoder on the export follows the fake-quant model (untied classifier)', async () => {
    const rotate = { kind: 'hadamard' as const, seed: 3, values: true };
    const o: QatOptions = { ...opts, rotate, hiddenWeight: 1 };
    const rinit = qatInit(ckpt, cfg, o);
    expect(rinit.emb).not.toBe(rinit.cls);
    // Rotation changes the weights GPTQ sees, so the starting codes differ from the unrotated start.
    expect(Array.from(rinit.layers[0]!.wq.codes)).not.toEqual(Array.from(init.layers[0]!.wq.codes));
    const r = await runQat(ckpt, cfg, o, rinit);
    const first = r.losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = r.losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(last).toBeLessThan(0.8 * first);
    const tb = teacherBatch(ckpt, 78, 0, 4, 16);
    const seqs = Array.from({ length: 4 }, (_, b) => Array.from(tb.tokens.subarray(b * 16, (b + 1) * 16)));
    const fq = await fakeQuantLogits(ckpt, r.qm, seqs);
    const V = ckpt.dims.vocabSize;
    let agree = 0;
    seqs.forEach((seq, b) => {
      const g = new GoldenDecoder(r.qm);
      seq.forEach((tok, p) => {
        if (argmax(g.forward(tok, p)) === argmax(fq.subarray((b * 16 + p) * V, (b * 16 + p + 1) * V))) agree++;
      });
    });
    expect(agree / 64).toBeGreaterThan(0.9);
  }, 60_000);

  it('refuses a bad hidden-state weight or final learning-rate fraction', async () => {
    await expect(runQat(ckpt, cfg, { ...opts, hiddenWeight: -1 }, init)).rejects.toThrow(ConfigError);
    await expect(runQat(ckpt, cfg, { ...opts, lrFinal: 0 }, init)).rejects.toThrow(ConfigError);
  });
});

describe('greedy-loop rate', () => {
  const onehot = (i: number) => Float64Array.from({ length: 16 }, (_, j) => (j === i ? 1 : 0));
  it('counts continuations whose last 64 tokens repeat with a period of at most 32', () => {
    const seqs = [Array.from({ length: 100 }, (_, i) => i % 16), Array.from({ length: 100 }, () => 3)];
    // Period 5: next = (pos % 5) + 1, a loop.
    expect(greedyLoopRate(() => ({ forward: (_t: number, p: number) => onehot((p % 5) + 1) }), seqs)).toBe(1);
    // A pseudo-random stream never repeats with a short period.
    const rng = new Rng(9);
    expect(greedyLoopRate(() => ({ forward: () => onehot(rng.int(0, 15)) }), seqs)).toBe(0);
  });
});
