import { describe, expect, it } from 'vitest';
import { gemvConfig, gemvModule, gemvOutput, packJob, packX, randomInt8, randomSparse24Matrix, randomW2Matrix, unpackY, type GemvConfig, type W2Matrix } from '../../../../generator/llm/gemv';
import { w2GemmAcc } from '../../../../generator/llm/gemv/golden';
import { printDesign } from '../../../../generator/hdl';
import { Rng } from '../../../../generator/util/rng';
import { buildGemvSim } from '../../../../sim/designs/gemv';
import { compileIcarus } from '../../../../sim/icarus';
import { lintVerilog } from '../../../../sim/lint';

/** A multi-token job word, written from the documented layout: groups | rowBlocks | reuse | tokens - 1. */
function jobWord(cfg: GemvConfig, m: W2Matrix, tokens: number, reuse: boolean): bigint {
  const ng = Math.ceil(m.cols / cfg.group);
  const rb = Math.ceil(m.rows / cfg.lanes);
  const base = cfg.groupCountBits + cfg.rowBlockCountBits;
  return BigInt(ng) | (BigInt(rb) << BigInt(cfg.groupCountBits)) | (BigInt(reuse ? 1 : 0) << BigInt(base)) | (BigInt(tokens - 1) << BigInt(base + 1));
}

describe('GEMV unit with per-token accumulators (prefill: each weight word held for the block\'s tokens)', () => {
  const cases: GemvConfig[] = [
    gemvConfig({ lanes: 3, simd: 8, group: 16, maxCols: 96, maxRows: 20, xReuse: true, tokens: 4 }),
    gemvConfig({ lanes: 2, simd: 8, group: 8, maxCols: 64, maxRows: 12, xReuse: true, sparse: true, tokens: 3 }),
    // the DSP half: 3 tokens per held word (LUT lanes + two per DSP); blocks 7 / 6 and 5 / 4 end in full and partial steps
    gemvConfig({ lanes: 3, simd: 8, group: 16, maxCols: 96, maxRows: 20, xReuse: true, tokens: 7, dspTokens: 2 }),
    gemvConfig({ lanes: 2, simd: 8, group: 8, maxCols: 64, maxRows: 12, xReuse: true, sparse: true, tokens: 5, dspTokens: 2 }),
  ];
  for (const cfg of cases)
    it(`${cfg.sparse ? '2:4' : 'dense'} lanes=${cfg.lanes} tokens=${cfg.tokens}${cfg.dspTokens ? ' with the DSP half' : ''}: a full and a partial block, then a reuse job, with stalls, equal w2GemmAcc`, async () => {
      const d = printDesign(gemvModule(cfg));
      expect((await lintVerilog(d.files, d.top, { throwOnWarning: false })).messages).toEqual([]);
      if (cfg.dspTokens) expect((await compileIcarus(d.files, d.top)).vvp).toMatch(/\.vvp$/);
      const sim = await buildGemvSim(cfg);
      const rng = new Rng(cfg.tokens);
      const mk = (rows: number, cols: number) => (cfg.sparse ? randomSparse24Matrix(rng, cfg, rows, cols) : randomW2Matrix(rng, cfg, rows, cols));
      for (const [j, n] of [cfg.tokens, cfg.tokens - 1].entries()) {
        const cols = cfg.maxCols - 8 * j - 3;
        const [a, b] = [mk(cfg.maxRows - 1, cols), mk(cfg.lanes + 1, cols)];
        const xs = Array.from({ length: n }, () => randomInt8(rng, cols));
        const [pa, pb] = [packJob(cfg, a, xs[0]!), packJob(cfg, b, xs[0]!)];
        const res = await sim.run({
          seed: 3 + j,
          stall: j ? { default: 0.3 } : { default: 0.1, w: 0.5, y: 0.6, s: 0.2 },
          inputs: { job: [jobWord(cfg, a, n, false), jobWord(cfg, b, n, true)], x: xs.flatMap((x) => packX(cfg, x, cols)), w: [...pa.weights, ...pb.weights], s: [...pa.scales, ...pb.scales] },
          outputs: { y: (pa.yWords + pb.yWords) * n },
        });
        // y: one beat per row block and token (token order inside a row block)
        const beats = res.outputs.y!.data;
        for (const [mi, m] of [a, b].entries()) {
          const want = w2GemmAcc(m, xs);
          const off = mi ? pa.yWords * n : 0;
          const nrb = Math.ceil(m.rows / cfg.lanes);
          for (let t = 0; t < n; t++) {
            const got = unpackY(cfg, Array.from({ length: nrb }, (_, r) => beats[off + r * n + t]!), m.rows);
            expect(got, `matrix ${mi} token ${t} of ${n}`).toEqual(Array.from(want[t]!, (v) => gemvOutput(cfg, v)));
          }
        }
      }
    }, 300_000);
});

describe('the DSP half at the extremes of its packed operand', () => {
  // every level +3 / -3 at scale 255 over the largest column count, the two DSP tokens of a step at -128 / 127 and
  // mixed signs, so the packed low field reaches its largest |sum q x| and the high field needs the borrow
  const cfg = gemvConfig({ lanes: 2, simd: 16, group: 16, maxCols: 64, maxRows: 4, xReuse: true, tokens: 6, dspTokens: 2 });
  it('dense lanes=2 simd=16 tokens=6: equal w2GemmAcc, with stalls', async () => {
    const sim = await buildGemvSim(cfg);
    const cols = cfg.maxCols;
    const rows = 4;
    const codes = new Uint8Array(rows * cols).map((_, i) => (Math.floor(i / cols) % 2 ? 3 : 0));
    const a: W2Matrix = { rows, cols, group: cfg.group, codes, scales: new Uint32Array(rows * (cols / cfg.group)).fill(255) };
    // the DSP pairs are tokens (1, 2) and (4, 5): x_a = -128 makes the low field negative (the high field borrows)
    const vals = [127, -128, 127, 127, -128, 127];
    const xs = vals.map((v, t) => Int8Array.from({ length: cols }, (_, j) => (t === 5 && j % 2 ? -128 : v)));
    const pa = packJob(cfg, a, xs[0]!);
    const res = await sim.run({
      seed: 9,
      stall: { default: 0.3 },
      inputs: { job: [jobWord(cfg, a, xs.length, false)], x: xs.flatMap((x) => packX(cfg, x, cols)), w: pa.weights, s: pa.scales },
      outputs: { y: pa.yWords * xs.length },
    });
    const want = w2GemmAcc(a, xs);
    const nrb = Math.ceil(rows / cfg.lanes);
    for (let t = 0; t < xs.length; t++) {
      const got = unpackY(cfg, Array.from({ length: nrb }, (_, r) => res.outputs.y!.data[r * xs.length + t]!), rows);
      expect(got, `token ${t}`).toEqual(Array.from(want[t]!, (v) => gemvOutput(cfg, v)));
    }
  }, 300_000);
});
