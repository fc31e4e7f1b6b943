import { describe, expect, it } from 'vitest';
import { loadCheckpoint, type LlamaCheckpoint } from '../../../generator/llm/checkpoint';
import { engineConfig, shapeOf } from '../../../generator/llm/model-spec';
import { teacherBatch, teacherStep, type TeacherBatch, type TeacherSpec } from '../../../generator/llm/qat/teacher';
import { TeacherFeed } from '../../../generator/llm/qat/teacher-feed';
import { QAT_DEFAULTS, qatInit, runQat, type QatOptions } from '../../../generator/llm/qat/train';
import { tinyLlama } from './golden-run';
import { hasModel, MODEL } from './helpers';

const ckpt = tinyLlama(5, (rng) => 1 + 0.1 * rng.normal());

/** The bytes of every array of a batch (bit-for-bit comparison: NaN and -0 included). */
const bytes = (b: TeacherBatch): Buffer[] => [b.tokens, b.logits, ...(b.hidden ?? [])].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));

function expectSame(a: TeacherBatch, b: TeacherBatch): void {
  expect(a.hidden?.length).toBe(b.hidden?.length);
  const [x, y] = [bytes(a), bytes(b)];
  expect(x.length).toBe(y.length);
  x.forEach((buf, i) => expect(Buffer.compare(buf, y[i]!)).toBe(0));
}

async function feedSteps(c: LlamaCheckpoint, spec: TeacherSpec, from: number, end: number): Promise<TeacherBatch[]> {
  const feed = new TeacherFeed(c, spec, end);
  try {
    const out: TeacherBatch[] = [];
    for (let k = from; k < end; k++) out.push(await feed.next(k));
    return out;
  } finally {
    await feed.close();
  }
}

describe('QAT teacher feed (worker thread)', () => {
  it('gives the direct teacherBatch bit for bit, from step 0 and from a resumed step', async () => {
    const plain: TeacherSpec = { seed: 3, batch: 3, length: 20, hidden: false };
    const got = await feedSteps(ckpt, plain, 0, 4);
    got.forEach((b, k) => expectSame(b, teacherBatch(ckpt, 3, k, 3, 20)));
    expect(got[0]!.hidden).toBeUndefined();
    // Steps differ (so equality above is not vacuous), and a resumed feed sees the same batches.
    expect(Buffer.compare(bytes(got[1]!)[1]!, bytes(got[2]!)[1]!)).not.toBe(0);
    const resumed = await feedSteps(ckpt, plain, 2, 4);
    resumed.forEach((b, i) => expectSame(b, got[2 + i]!));
  }, 60_000);

  it('keeps the hidden states, rotated into the student basis like teacherStep', async () => {
    const spec: TeacherSpec = { seed: 1, batch: 2, length: 16, hidden: true, rotate: { kind: 'hadamard', seed: 3, values: true } };
    const got = await feedSteps(ckpt, spec, 0, 2);
    got.forEach((b, k) => expectSame(b, teacherStep(ckpt, spec, k)));
    expect(got[0]!.hidden).toHaveLength(ckpt.dims.nLayers);
    // Rotation changed the hidden states (and nothing else).
    const raw = teacherBatch(ckpt, 1, 0, 2, 16, true);
    expect(Buffer.compare(bytes(got[0]!)[1]!, bytes(raw)[1]!)).toBe(0);
    expect(Buffer.compare(bytes(got[0]!)[2]!, bytes(raw)[2]!)).not.toBe(0);
  }, 60_000);

  it('reports an error of the worker in the caller, naming the step and the cause', async () => {
    const feed = new TeacherFeed(ckpt, { seed: 1, batch: 1, length: ckpt.dims.seqLen + 1, hidden: false }, 3);
    try {
      await expect(feed.next(1)).rejects.toThrow(/teacher worker failed on step 1: .*position 32 is outside \[0, seq_len=32\)/);
    } finally {
      await feed.close();
    }
    await expect(feed.next(2)).rejects.toThrow(/closed/);
  }, 60_000);

  it('runQat stops its worker when it finishes and when --minutes stops it', async () => {
    const cfg = engineConfig(shapeOf(ckpt.dims), { wBits: 2, kvBits: 4, sinks: 2, window: 16 });
    const o: QatOptions = { ...QAT_DEFAULTS, steps: 3, batch: 2, length: 16, calibSequences: 2, calibLength: 16 };
    const init = qatInit(ckpt, cfg, o);
    expect((await runQat(ckpt, cfg, o, init)).steps).toBe(3);
    expect(TeacherFeed.live).toBe(0);
    expect((await runQat(ckpt, cfg, { ...o, maxSeconds: 0 }, init)).steps).toBe(1);
    expect(TeacherFeed.live).toBe(0);
  }, 60_000);
});

describe.skipIf(!hasModel)('QAT teacher feed on stories260K', () => {
  it('gives the direct teacherStep bit for bit on a small batch (hidden states, default rotation)', async () => {
    const real = loadCheckpoint(MODEL);
    const spec: TeacherSpec = { seed: 1, batch: 2, length: 24, hidden: true, rotate: QAT_DEFAULTS.rotate };
    const [b] = await feedSteps(real, spec, 5, 6);
    expectSame(b!, teacherStep(real, spec, 5));
  }, 60_000);
});
