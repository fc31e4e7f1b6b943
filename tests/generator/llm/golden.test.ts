import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../generator/llm/checkpoint';
import { engineConfig, shapeOf } from '../../../generator/llm/model-spec';
import { argmax, FloatModel } from '../../../generator/llm/float-model';
import { gemvConfig } from '../../../generator/llm/gemv/config';
import { gemvGolden, groupsOf, w2GemvAcc, type W2Matrix } from '../../../generator/llm/gemv/golden';
import { packJob } from '../../../generator/llm/gemv/pack';
import { GoldenDecoder } from '../../../generator/llm/golden/decoder';
import { quantizeModel } from '../../../generator/llm/quant/model';
import { wnGemvAcc, type QMatrix } from '../../../generator/llm/quant/weights';
import { sampleSequence } from '../../../generator/llm/sample';
import { hasModel, MODEL } from './helpers';

const ckpt = hasModel ? loadCheckpoint(MODEL) : undefined;
const TOKENS = [1, 300, 45, 200, 17, 99, 401, 13, 288, 461, 7, 350];

/** Rebuild codes and scales from the packer's stream words (the unit's view of the matrix). */
function unpackJob(cfg: ReturnType<typeof gemvConfig>, m: QMatrix): W2Matrix {
  const words = packJob(cfg, m, new Int8Array(m.cols));
  const ng = groupsOf(m.cols, m.group);
  const colSteps = ng * cfg.stepsPerGroup;
  const codes = new Uint8Array(m.rows * m.cols);
  const scales = new Uint32Array(m.rows * ng);
  words.weights.forEach((w, i) => {
    const rb = Math.floor(i / colSteps);
    const s = i % colSteps;
    for (let l = 0; l < cfg.lanes; l++)
      for (let j = 0; j < cfg.simd; j++) {
        const r = rb * cfg.lanes + l;
        const c = s * cfg.simd + j;
        if (r < m.rows && c < m.cols) codes[r * m.cols + c] = Number((w >> BigInt(2 * (l * cfg.simd + j))) & 3n);
      }
  });
  words.scales.forEach((w, i) => {
    const rb = Math.floor(i / ng);
    const g = i % ng;
    for (let l = 0; l < cfg.lanes; l++) {
      const r = rb * cfg.lanes + l;
      if (r < m.rows) scales[r * ng + g] = Number((w >> BigInt(cfg.scaleBits * l)) & BigInt(2 ** cfg.scaleBits - 1));
    }
  });
  return { rows: m.rows, cols: m.cols, group: m.group, codes, scales };
}

describe.skipIf(!ckpt)('integer golden decoder', () => {
  const cfg = engineConfig(shapeOf(ckpt!.dims), { sinks: 4, window: 28 });
  const qm = quantizeModel(ckpt!, cfg, { search: 'mse' });

  it('is deterministic: two decoders give identical integer logits', () => {
    const a = new GoldenDecoder(qm);
    const b = new GoldenDecoder(quantizeModel(ckpt!, cfg, { search: 'mse' }));
    for (let p = 0; p < TOKENS.length; p++) {
      const la = Array.from(a.forward(TOKENS[p]!, p));
      expect(Array.from(b.forward(TOKENS[p]!, p))).toEqual(la);
      expect(la.every(Number.isInteger)).toBe(true);
    }
  });

  it('every W2 GEMV equals the GEMV unit golden model on the packed job', () => {
    const dec = new GoldenDecoder(qm);
    const seen = new Set<string>();
    let checked = 0;
    dec.onGemv = (name, layer, m, x, acc) => {
      if (m.bits !== 2) return;
      const unit = gemvConfig({ group: cfg.wGroup, simd: Math.min(16, cfg.wGroup), maxCols: 256, maxRows: 256 });
      const packed = unpackJob(unit, m);
      expect(Array.from(packed.codes)).toEqual(Array.from(m.codes));
      expect(Array.from(packed.scales)).toEqual(Array.from(m.scales));
      expect(Array.from(acc)).toEqual(gemvGolden(unit, packed, x));
      seen.add(name);
      checked++;
    };
    for (let p = 0; p < 3; p++) dec.forward(TOKENS[p]!, p);
    expect([...seen].sort()).toEqual(['w1', 'w2', 'w3', 'wk', 'wo', 'wq', 'wv']);
    expect(checked).toBe(3 * 7 * cfg.model.nLayers);
  });

  it('the generic n-bit GEMV agrees with w2GemvAcc on 2-bit matrices (including a padded last group)', () => {
    const m = qm.layers[0]!.w2; // 172 columns: the last group of 32 is padded
    expect(m.cols % cfg.wGroup).not.toBe(0);
    const x = Int8Array.from({ length: m.cols }, (_, i) => ((i * 37) % 255) - 127);
    expect(Array.from(wnGemvAcc(m, x, new Float64Array(m.rows)))).toEqual(Array.from(w2GemvAcc(m, x)));
  });

  it('Λ attention: identical to a longer cache until S+W positions, different after eviction', () => {
    const seq = sampleSequence(new FloatModel(ckpt!), 77, 48);
    const small = new GoldenDecoder(qm); // S=4, W=28: evicts from position 32
    const big = new GoldenDecoder(quantizeModel(ckpt!, engineConfig(shapeOf(ckpt!.dims), { sinks: 4, window: 60 }), { search: 'mse' }));
    let firstDiff = -1;
    for (let p = 0; p < seq.length; p++) {
      const a = Array.from(small.forward(seq[p]!, p));
      const b = Array.from(big.forward(seq[p]!, p));
      if (firstDiff < 0 && a.some((v, i) => v !== b[i])) firstDiff = p;
    }
    expect(firstDiff).toBe(32);
    expect(small.visiblePositions(100)).toEqual([0, 1, 2, 3, ...Array.from({ length: 28 }, (_, i) => 73 + i)]);
    expect(small.visiblePositions(5)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(small.position).toBe(48);
  });

  it('runs past seq_len with a bounded cache and rejects out-of-order positions', () => {
    const dec = new GoldenDecoder(qm);
    expect(() => dec.forward(1, 3)).toThrow(/out of order/);
    expect(() => dec.forward(9999, 0)).toThrow(/outside the vocabulary/);
  });

  it('a 2-bit classifier produces its own logits (its accumulator is the W2 GEMV result, not the shared buffer)', () => {
    const q2 = quantizeModel(ckpt!, engineConfig(shapeOf(ckpt!.dims), { clsBits: 2, sinks: 4, window: 28 }), { search: 'mse' });
    let clsOut: Float64Array | undefined;
    const dec = new GoldenDecoder(q2);
    dec.onGemv = (name, _l, _w, _x, out) => { if (name === 'cls') clsOut = Float64Array.from(out); };
    const logits = Array.from(dec.forward(TOKENS[0]!, 0));
    expect(new Set(logits).size).toBeGreaterThan(1);
    // same order as the accumulator: requantisation is monotonic with a positive scale
    expect(argmax(Float32Array.from(logits))).toBe(argmax(Float32Array.from(clsOut!)));
  });

  it('W8A8KV8 stays close to the float reference (catches gross datapath errors)', () => {
    const q8 = quantizeModel(ckpt!, engineConfig(shapeOf(ckpt!.dims), { wBits: 8, kvBits: 8, window: 124 }), { search: 'mse' });
    const dec = new GoldenDecoder(q8);
    const ref = new FloatModel(ckpt!);
    const seq = sampleSequence(new FloatModel(ckpt!), 5, 64);
    let agree = 0;
    for (let p = 0; p < seq.length; p++) if (argmax(dec.forward(seq[p]!, p)) === argmax(ref.forward(seq[p]!, p))) agree++;
    expect(agree / seq.length).toBeGreaterThan(0.6);
  });
});
