import { describe, expect, it } from 'vitest';
import { printDesign } from '../../../generator/hdl';
import { gemvConfig } from '../../../generator/llm/gemv/config';
import { w2GemmAcc, type W2Matrix } from '../../../generator/llm/gemv/golden';
import { randomInt8, randomSparse24Matrix, randomW2Matrix } from '../../../generator/llm/gemv/random';
import { prefillGemmModule, type PrefillGemmConfig } from '../../../generator/llm/prefill/gemm';
import { Rng } from '../../../generator/util/rng';
import { loadCheckpoint } from '../../../generator/llm/checkpoint';
import { GoldenDecoder } from '../../../generator/llm/golden/decoder';
import { engineConfig, shapeOf } from '../../../generator/llm/model-spec';
import { quantizeModel } from '../../../generator/llm/quant/model';
import { hasModel, MODEL } from './helpers';
import { packGemmJob as pack, readGemmY } from './prefill-helpers';
import { buildSim } from '../../../sim';
import { compileIcarus } from '../../../sim/icarus';
import { lintVerilog } from '../../../sim/lint';

describe('prefill GEMM on the DSP array in Verilator: weights stationary over a block of tokens', () => {
  const configs: PrefillGemmConfig[] = [
    { lanes: 2, dspPerLane: 4, sparse: true, tokens: 6, group: 16, scaleBits: 8, accBits: 32, maxCols: 64, maxRows: 16 },
    { lanes: 3, dspPerLane: 4, sparse: false, tokens: 4, group: 8, scaleBits: 8, accBits: 32, maxCols: 64, maxRows: 16 },
    // one column step per group and 8 tokens: a one-group row block ends before the previous one has left
    { lanes: 2, dspPerLane: 4, sparse: true, tokens: 8, group: 8, scaleBits: 8, accBits: 32, maxCols: 64, maxRows: 16 },
  ];
  for (const c of configs) {
    it(`${c.lanes} lanes x ${c.dspPerLane} DSPs${c.sparse ? ' 2:4' : ' dense'}, ${c.tokens} tokens: Y equals the GEMM golden for every token, with stalls`, async () => {
      const mod = prefillGemmModule(c);
      const d = printDesign(mod);
      expect((await lintVerilog(d.files, d.top, { throwOnWarning: false })).messages).toEqual([]);
      await compileIcarus(d.files, d.top);
      const sim = await buildSim({ iface: mod.interface(), files: d.files });
      const rng = new Rng(11 + c.lanes);
      const gc = gemvConfig({ lanes: c.lanes, simd: 1, group: c.group, maxCols: c.maxCols });
      const shapes: Array<[number, number]> = [[2 * c.lanes, 2 * c.group], [c.lanes, c.maxCols], [5 * c.lanes, c.group]];
      for (const [k, [rows, cols]] of shapes.entries()) {
        const mat = c.sparse ? randomSparse24Matrix(rng, gc, rows, cols) : randomW2Matrix(rng, gc, rows, cols);
        const xs = Array.from({ length: c.tokens }, () => randomInt8(rng, cols));
        if (k === 1) (mat.codes.fill(0), mat.scales.fill(255), xs.forEach((x) => x.fill(-128)));
        const p = pack(c, mat, xs);
        const stall = [{ default: 0 }, { default: 0.3 }, { w: 0.6, s: 0.5, y: 0.7, x: 0.2 }][k]!;
        const r = await sim.run({ seed: k, stall, inputs: { job: p.job, x: p.x, w: p.w, s: p.s }, outputs: { y: p.yBeats } });
        const want = w2GemmAcc(mat, xs);
        expect(readGemmY(c, r.outputs.y!.data, rows)).toEqual(want.map((a) => Array.from(a)));
      }
    }, 300_000);
  }
});

describe.skipIf(!hasModel)('prefill GEMM RTL on stories260K (2:4): the prefill golden\'s own GEMMs of an 8-token block', () => {
  it('every accumulator of every layer-0 matrix equals GoldenDecoder.prefill\'s, with stalls', async () => {
    const ckpt = loadCheckpoint(MODEL);
    const cfg = engineConfig(shapeOf(ckpt.dims), { sinks: 2, window: 10, wGroup: 32, wSparsity: '2:4' });
    const qm = quantizeModel(ckpt, cfg, { search: 'mse' });
    // the decoder's GEMMs of layer 0 for a block of 8 prompt tokens (after a first block, so the cache is in use)
    const taps = new Map<string, { m: W2Matrix; xs: Int8Array[]; acc: Float64Array[] }>();
    const dec = new GoldenDecoder(qm);
    dec.prefill([1, 403, 27, 300, 12, 499, 64, 8]);
    dec.onGemv = (name, layer, m, x, acc) => {
      if (layer !== 0 || name === 'cls') return;
      const t = taps.get(name) ?? { m, xs: [], acc: [] };
      t.xs.push(Int8Array.from(x));
      t.acc.push(Float64Array.from(acc));
      taps.set(name, t);
    };
    dec.prefill([250, 111, 7, 350, 45, 200, 33, 90]);
    expect([...taps.keys()]).toEqual(['wq', 'wk', 'wv', 'wo', 'w1', 'w3', 'w2']);
    const c: PrefillGemmConfig = { lanes: 4, dspPerLane: 8, sparse: true, tokens: 8, group: 32, scaleBits: cfg.scaleBits, accBits: 32, maxCols: 192, maxRows: 172 };
    const mod = prefillGemmModule(c);
    const d = printDesign(mod);
    const sim = await buildSim({ iface: mod.interface(), files: d.files });
    for (const [k, [name, t]] of [...taps.entries()].entries()) {
      expect(t.xs.length).toBe(8);
      const p = pack(c, t.m, t.xs);
      const r = await sim.run({ seed: k, stall: { default: 0.2, y: 0.5 }, inputs: { job: p.job, x: p.x, w: p.w, s: p.s }, outputs: { y: p.yBeats } });
      expect({ name, got: readGemmY(c, r.outputs.y!.data, t.m.rows) }).toEqual({ name, got: t.acc.map((a) => Array.from(a)) });
    }
  }, 300_000);
});
