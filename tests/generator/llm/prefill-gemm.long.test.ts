import { describe, expect, it } from 'vitest';
import { printDesign } from '../../../generator/hdl';
import { loadCheckpoint } from '../../../generator/llm/checkpoint';
import type { W2Matrix } from '../../../generator/llm/gemv/golden';
import { GoldenDecoder } from '../../../generator/llm/golden/decoder';
import { engineConfig, shapeOf } from '../../../generator/llm/model-spec';
import { prefillGemmModule, type PrefillGemmConfig } from '../../../generator/llm/prefill/gemm';
import { quantizeModel } from '../../../generator/llm/quant/model';
import { buildSim } from '../../../sim';
import { hasModel, MODEL } from './helpers';
import { packGemmJob, readGemmY } from './prefill-helpers';

/**
 * Every linear-layer GEMM of a whole prompt's prefill (3 blocks of 8, all 5 layers, 7 matrices) through the GEMM
 * RTL, fed the golden's own int8 codes and expected to return its exact accumulators. With every GEMM equal, a
 * prefill whose GEMMs come from the RTL gives the golden's logits (each layer's inputs are then the golden's too).
 */
describe.skipIf(!hasModel)('prefill GEMM RTL: every GEMM of a stories260K prompt prefill', () => {
  for (const sparsity of ['2:4', 'dense'] as const) {
    it(`${sparsity}: 3 blocks x 5 layers x 7 matrices, with stalls`, async () => {
      const ckpt = loadCheckpoint(MODEL);
      const cfg = engineConfig(shapeOf(ckpt.dims), { sinks: 2, window: 10, wGroup: 32, ...(sparsity === '2:4' && { wSparsity: '2:4' as const }) });
      const qm = quantizeModel(ckpt, cfg, { search: 'mse' });
      const c: PrefillGemmConfig = { lanes: 4, dspPerLane: 8, sparse: sparsity === '2:4', tokens: 8, group: 32, scaleBits: cfg.scaleBits, accBits: 32, maxCols: 192, maxRows: 172 };
      const mod = prefillGemmModule(c);
      const sim = await buildSim({ iface: mod.interface(), files: printDesign(mod).files });
      const prompt = [1, 403, 27, 300, 12, 499, 64, 8, 250, 111, 7, 350, 45, 200, 33, 90, 410, 5, 61, 222, 18, 301, 77, 9];
      const dec = new GoldenDecoder(qm);
      let runs = 0;
      for (let b = 0; b < prompt.length; b += c.tokens) {
        const taps = new Map<string, { m: W2Matrix; xs: Int8Array[]; acc: Float64Array[] }>();
        dec.onGemv = (name, layer, m, x, acc) => {
          if (name === 'cls') return;
          const t = taps.get(`${layer}.${name}`) ?? { m, xs: [], acc: [] };
          t.xs.push(Int8Array.from(x));
          t.acc.push(Float64Array.from(acc));
          taps.set(`${layer}.${name}`, t);
        };
        dec.prefill(prompt.slice(b, b + c.tokens));
        expect(taps.size).toBe(5 * 7);
        for (const [name, t] of taps) {
          const p = packGemmJob(c, t.m, t.xs);
          const r = await sim.run({ seed: runs++, stall: { default: 0.15, y: 0.4 }, inputs: { job: p.job, x: p.x, w: p.w, s: p.s }, outputs: { y: p.yBeats } });
          expect({ block: b, name, got: readGemmY(c, r.outputs.y!.data, t.m.rows) }).toEqual({ block: b, name, got: t.acc.map((a) => Array.from(a)) });
        }
      }
      expect(runs).toBe(3 * 35);
    }, 900_000);
  }
});
