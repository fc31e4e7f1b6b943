import { describe, expect, it } from 'vitest';
import { loadCheckpoint, type LlamaCheckpoint } from '../../../generator/llm/checkpoint';
import { FloatModel } from '../../../generator/llm/float-model';
import { GoldenDecoder } from '../../../generator/llm/golden/decoder';
import { engineConfig, SCHEMES, shapeOf } from '../../../generator/llm/model-spec';
import { quantizeModel } from '../../../generator/llm/quant/model';
import { orthogonalMatrix, rotateCheckpoint, type Rotation } from '../../../generator/llm/rotate';
import { ConfigError } from '../../../generator/util/errors';
import { tinyLlama } from './golden-run';
import { hasModel, MODEL } from './helpers';

/** A small random llama whose RMSNorm gains are far from 1, so a missing or wrong fold shows in the logits. */
const tiny = (): LlamaCheckpoint => tinyLlama(11, (rng) => 0.3 + 1.5 * rng.next());

/** Largest |logit difference| between two checkpoints over `steps` positions of a fixed token walk, and the logit RMS. */
function logitGap(a: LlamaCheckpoint, b: LlamaCheckpoint, steps: number): { gap: number; rms: number } {
  const fa = new FloatModel(a);
  const fb = new FloatModel(b);
  let gap = 0, ss = 0, n = 0;
  let tok = 1;
  for (let p = 0; p < steps; p++) {
    const la = Float32Array.from(fa.forward(tok, p));
    const lb = fb.forward(tok, p);
    for (let i = 0; i < la.length; i++) {
      gap = Math.max(gap, Math.abs(la[i]! - lb[i]!));
      ss += la[i]! ** 2;
      n++;
    }
    tok = (tok * 31 + 7) % a.dims.vocabSize;
  }
  return { gap, rms: Math.sqrt(ss / n) };
}

const ROTATIONS: Rotation[] = [
  { kind: 'hadamard', seed: 1, values: false },
  { kind: 'hadamard', seed: 3, values: true },
  { kind: 'random', seed: 2, values: true },
];

describe('rotation (computational invariance)', () => {
  it('makes orthogonal matrices of both kinds, and refuses a Hadamard of a size that is not a power of 2', () => {
    for (const [n, kind] of [[64, 'hadamard'], [8, 'hadamard'], [24, 'random']] as const) {
      const r = orthogonalMatrix(n, kind, 5);
      let err = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let d = 0;
          for (let k = 0; k < n; k++) d += r[i * n + k]! * r[j * n + k]!;
          err = Math.max(err, Math.abs(d - (i === j ? 1 : 0)));
        }
      expect(err).toBeLessThan(1e-12);
    }
    expect(() => orthogonalMatrix(24, 'hadamard', 1)).toThrow(ConfigError);
  });

  it('folds the gains and rotates without changing the float logits (tiny model, gains far from 1)', () => {
    const ck = tiny();
    for (const rot of ROTATIONS) {
      const rc = rotateCheckpoint(ck, rot);
      expect(rc.sharedClassifier).toBe(false);
      expect(rc.weights.rmsAtt.every((g) => g === 1) && rc.weights.rmsFfn.every((g) => g === 1) && rc.weights.rmsFinal.every((g) => g === 1)).toBe(true);
      // The weights really changed.
      expect(Math.abs(rc.weights.wq[0]! - ck.weights.wq[0]!)).toBeGreaterThan(1e-4);
      const { gap, rms } = logitGap(ck, rc, 24);
      expect(rms).toBeGreaterThan(0.5);
      expect(gap).toBeLessThan(1e-4 * Math.max(1, rms));
    }
  });

  it.runIf(hasModel)('stories260K: the rotated checkpoint gives the same logits to 1e-4, and the integer decoder runs it with an untied classifier', () => {
    const ck = loadCheckpoint(MODEL);
    const rot: Rotation = { kind: 'hadamard', seed: 1, values: true };
    const rc = rotateCheckpoint(ck, rot);
    const { gap } = logitGap(ck, rc, 48);
    expect(gap).toBeLessThan(2e-4);
    // W8 weights on the rotated model: the golden decoder (separate embedding and classifier) still follows the float model.
    const cfg = engineConfig(shapeOf(rc.dims), { ...SCHEMES.W8A8KV8, sinks: 4, window: 60 });
    const qm = quantizeModel(rc, cfg, { search: 'mse' });
    expect(qm.emb).not.toBe(qm.cls);
    const g = new GoldenDecoder(qm);
    const f = new FloatModel(ck);
    let agree = 0;
    let tok = 1;
    for (let p = 0; p < 32; p++) {
      const lg = g.forward(tok, p);
      const lf = f.forward(tok, p);
      const ag = Array.from(lg).indexOf(Math.max(...lg));
      const af = Array.from(lf).indexOf(Math.max(...lf));
      if (ag === af) agree++;
      tok = af;
    }
    expect(agree).toBeGreaterThanOrEqual(24);
  });
});
