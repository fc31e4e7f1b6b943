/**
 * Mixed precision on the model side (tiny random model): QAT with 4-bit matrices in a W2 model, the sensitivity
 * search, and the command line taking a file's 4-bit matrices.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { LlamaCheckpoint } from '../../../generator/llm/checkpoint';
import { argmax, generateGreedy } from '../../../generator/llm/float-model';
import { serializeCheckpoint } from '../../../generator/llm/formats/llama2c-write';
import { GoldenDecoder } from '../../../generator/llm/golden/decoder';
import { engineConfig, expandW4Spec, shapeOf } from '../../../generator/llm/model-spec';
import { checkpointFingerprint, parseQuantModel, quantModelCodeParams, serializeQuantModel } from '../../../generator/llm/quant/qmodel-file';
import { compactSpec, mixedSearch, w4Cost } from '../../../generator/llm/quant/mixed-search';
import { teacherBatch } from '../../../generator/llm/qat/teacher';
import { fakeQuantLogits, QAT_DEFAULTS, qatInit, runQat, type QatOptions } from '../../../generator/llm/qat/train';
import { w4ParamsOf } from '../../../host/cli/w4';
import { REPO } from './helpers';
import { tinyLlama } from './golden-run';
import type * as tf from '@tensorflow/tfjs';
import { useQatBackend } from '../../../generator/llm/qat/backend';
import { weightCodes } from '../../../generator/llm/qat/fake-quant';
import { disposeStudent, initStudent, MATS } from '../../../generator/llm/qat/student';

const ckpt: LlamaCheckpoint = tinyLlama(5, (rng) => 1 + 0.1 * rng.normal());
const W4 = expandW4Spec('0.*,*.wk', ckpt.dims.nLayers); // 0.wq..0.w3 and 1.wk
const cfg = engineConfig(shapeOf(ckpt.dims), { wBits: 2, kvBits: 4, sinks: 2, window: 16, w4Matrices: W4 });
const dir = mkdtempSync(join(tmpdir(), 'lutforge-mixed-qat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts: QatOptions = { ...QAT_DEFAULTS, steps: 16, batch: 4, length: 16, lr: 20, lrScale: 2, calibSequences: 2, calibLength: 16, checkpointEvery: 4 };

describe('QAT with per-matrix weight bits (tiny random model)', () => {
  it('trains a W2 model with 4-bit matrices: loss falls, the export keeps each matrix at its width, the golden decoder follows the fake-quant model', async () => {
    const init = qatInit(ckpt, cfg, opts);
    expect(init.layers[0]!.wq.bits).toBe(4);
    expect(init.layers[1]!.wq.bits).toBe(2);
    const r = await runQat(ckpt, cfg, opts, init);
    const mean = (a: number[]) => a.reduce((x, y) => x + y) / a.length;
    expect(mean(r.losses.slice(-3))).toBeLessThan(0.8 * mean(r.losses.slice(0, 3)));
    r.qm.layers.forEach((L, l) =>
      (['wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3'] as const).forEach((m) => {
        const four = W4.includes(`${l}.${m}`);
        expect(L[m].bits).toBe(four ? 4 : 2);
        expect(Math.max(...L[m].codes)).toBeLessThanOrEqual(four ? 15 : 3);
      }),
    );
    // A 4-bit matrix really uses its 16 levels (a 2-bit grid in 4-bit codes would not).
    expect(new Set(r.qm.layers[0]!.w1.codes).size).toBeGreaterThan(4);
    // The file round-trips with the config the file itself names.
    const bytes = serializeQuantModel(r.qm, { source: checkpointFingerprint(ckpt), producer: 'test' });
    const file = join(dir, 'mixed.lfq');
    writeFileSync(file, bytes);
    expect(quantModelCodeParams(file).w4Matrices).toEqual(W4);
    const back = parseQuantModel(bytes, cfg).qm;
    expect(() => parseQuantModel(bytes, engineConfig(shapeOf(ckpt.dims), { wBits: 2, sinks: 2, window: 16 }))).toThrow(/4-bit matrices \[0\.wq/);
    // The student built from the file holds exactly the file's codes at each matrix's width (no 2-bit clipping).
    await useQatBackend('wasm');
    const s = initStudent(ckpt, back);
    try {
      s.layers.forEach((L, l) =>
        MATS.forEach((m) => {
          const p = L.mats[m];
          expect(p.bits).toBe(back.layers[l]![m].bits);
          const w = weightCodes(p.u as unknown as tf.Tensor2D, p.sc as unknown as tf.Tensor2D, p.bits, cfg.wGroup, cfg.scaleBits);
          expect(Array.from(w.codes)).toEqual(Array.from(back.layers[l]![m].codes));
          expect(Array.from(w.scales)).toEqual(Array.from(back.layers[l]![m].scales));
        }),
      );
    } finally {
      disposeStudent(s);
    }
    // Decision-level agreement of the integer decoder with the fake-quant student, as tests/generator/llm/qat.test.ts.
    // (Not its near-tie bound: on this tiny model the fake-quant/integer gap is ~2x larger with 4-bit matrices, the
    // same for an all-W4 mixed model as for the uniform W4 scheme; measured logit error 0.095 relative RMS vs 0.05.)
    const tb = teacherBatch(ckpt, 77, 0, 4, 16);
    const seqs = Array.from({ length: 4 }, (_, b) => Array.from(tb.tokens.subarray(b * 16, (b + 1) * 16)));
    const fq = await fakeQuantLogits(ckpt, back, seqs);
    const V = ckpt.dims.vocabSize;
    let agree = 0;
    seqs.forEach((seq, b) => {
      const g = new GoldenDecoder(back);
      seq.forEach((tok, p) => {
        const f = fq.subarray((b * 16 + p) * V, (b * 16 + p + 1) * V);
        const top = argmax(f);
        if (argmax(g.forward(tok, p)) === top) agree++;
      });
    });
    expect(agree / 64).toBeGreaterThanOrEqual(0.85);
  }, 90_000);

  it('refuses a resume file of another 4-bit set', async () => {
    const ck = join(dir, 'w4.resume');
    const small = { ...opts, steps: 3, checkpoint: ck };
    await runQat(ckpt, cfg, { ...small, maxSeconds: 0 });
    const other = engineConfig(shapeOf(ckpt.dims), { wBits: 2, kvBits: 4, sinks: 2, window: 16, w4Matrices: ['0.wq'] });
    await expect(runQat(ckpt, other, small)).rejects.toThrow(/from another configuration: codes/);
    await expect(runQat(ckpt, cfg, { ...small, w4Rates: { lr: 1, lrScale: 0.5 } })).rejects.toThrow(/from another configuration: run/);
  }, 60_000);
});

describe('mixed-precision sensitivity search (tiny random model)', () => {
  it('costs a 4-bit matrix its W2 bytes again, and names sets compactly', () => {
    // wq 32x32 at W2, group 32, 8-bit scales: 32·32·2/8 + 32·1 = 288 B; w2 32x40: 320 + 64 = 384 B.
    expect(w4Cost(cfg, ['0.wq']).extraBytes).toBe(288);
    expect(w4Cost(cfg, ['1.w2']).extraBytes).toBe(384);
    // Per layer: wq wo 2·288, wk wv 2·(16·32·2/8 + 16) = 2·144, w1 w3 2·(40·32·2/8 + 40) = 2·360, w2 384.
    expect(w4Cost(cfg, []).baseBytes).toBe(2 * (2 * 288 + 2 * 144 + 2 * 360 + 384));
    expect(compactSpec(W4, 2)).toBe('*.wk,0.*');
    expect(compactSpec(expandW4Spec('*.wq,1.*', 2), 2)).toBe('*.wq,1.*');
  });

  it('ranks candidates by measured KL and picks budget sets that fit', () => {
    const r = mixedSearch(ckpt, { seed: 3, sequences: 2, length: 24, calibSeed: 9, calibSequences: 2, calibLength: 16, singles: false, budgets: [0.25, 0.6], sinks: 2, window: 20 });
    const by = (s: string) => r.candidates.find((c) => c.spec === s)!;
    expect(by('none').klGain).toBe(0);
    // All matrices at 4 bits is far closer to the float model than all at 2 (measured by the golden decoder).
    expect(by('*.*').meanKl).toBeLessThan(0.7 * by('none').meanKl);
    expect(by('*.*').extraFrac).toBeCloseTo(1, 10);
    expect(r.candidates.filter((c) => c.kind === 'matrix type')).toHaveLength(7);
    expect(r.candidates.filter((c) => c.kind === 'layer')).toHaveLength(2);
    for (const c of r.candidates) expect(c.klGain).toBeCloseTo(by('none').meanKl - c.meanKl, 12);
    for (const p of r.picks) {
      expect(p.best.extraFrac).toBeLessThanOrEqual(p.budget);
      expect(p.best.w4Matrices.length).toBeGreaterThan(0);
      // The pick is the best measured set among those tried for the budget, and no worse than all-W2 here.
      expect(p.best.meanKl).toBeLessThan(by('none').meanKl);
    }
  }, 60_000);
});

describe('the command line takes a file’s 4-bit matrices', () => {
  it('w4ParamsOf: --w4 as given, otherwise the --quant file’s, otherwise none', () => {
    const file = join(dir, 'cli.lfq');
    const qm = qatInitQuick();
    writeFileSync(file, serializeQuantModel(qm, { source: checkpointFingerprint(ckpt), producer: 'test' }));
    expect(w4ParamsOf(2, undefined, file)).toEqual({ w4Matrices: W4 });
    expect(w4ParamsOf(2, '1.w2', file)).toEqual({ w4Matrices: ['1.w2'] });
    expect(w4ParamsOf(2)).toEqual({});
  });

  it('llm run --engine golden --quant F decodes a mixed file without --w4, and refuses a --w4 that disagrees', async () => {
    const model = join(dir, 'tiny.bin');
    writeFileSync(model, serializeCheckpoint(ckpt));
    const file = join(dir, 'run.lfq');
    const qm = qatInitQuick();
    writeFileSync(file, serializeQuantModel(qm, { source: checkpointFingerprint(ckpt), producer: 'test' }));
    const run = promisify(execFile);
    const args = ['lutforge', 'llm', 'run', '--model', model, '--engine', 'golden', '--quant', file, '--tokens', '6', '--sinks', '2', '--window', '16', '--json'];
    const out = JSON.parse((await run('npx', args, { cwd: REPO, timeout: 120_000 })).stdout);
    expect(out.config).toContain('+W4[0.wq,0.wk,0.wv,0.wo,0.w1,0.w2,0.w3,1.wk]');
    expect(out.ids).toEqual(generateGreedy(new GoldenDecoder(qm), [1], 6));
    const err = await run('npx', [...args, '--w4', '0.wq'], { cwd: REPO, timeout: 120_000 }).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
    expect(err).toMatch(/has 4-bit matrices \[0\.wq,.*1\.wk\]; the engine is configured with \[0\.wq\]/);
  }, 120_000);
});

/** The mixed GPTQ model (no training) at the config `llm run` builds with --sinks 2 --window 16. */
function qatInitQuick() {
  return qatInit(ckpt, cfg, { calibSeed: 9, calibSequences: 2, calibLength: 16 });
}
