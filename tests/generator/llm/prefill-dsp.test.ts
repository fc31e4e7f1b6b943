import { describe, expect, it } from 'vitest';
import { printDesign } from '../../../generator/hdl';
import { gemvConfig } from '../../../generator/llm/gemv/config';
import { w2GemmAcc, type W2Matrix } from '../../../generator/llm/gemv/golden';
import { randomInt8, randomSparse24Matrix, randomW2Matrix } from '../../../generator/llm/gemv/random';
import { quadField } from '../../../generator/llm/gemv/sparse';
import { dspArrayGeometry, dspArrayModule, type DspArrayConfig } from '../../../generator/llm/prefill/dsp-array';
import { Rng } from '../../../generator/util/rng';
import { buildSim } from '../../../sim';
import { compileIcarus } from '../../../sim/icarus';
import { lintVerilog } from '../../../sim/lint';

/** The input beat from a lanes x cols matrix and two tokens' x, by the documented layout (quad fields or 2-bit codes). */
function beat(c: DspArrayConfig, m: W2Matrix, xa: Int8Array, xb: Int8Array): bigint {
  const g = dspArrayGeometry(c);
  let w = 0n;
  if (c.sparse) {
    const quads = c.dspPerLane / 2;
    for (let l = 0; l < c.lanes; l++) for (let k = 0; k < quads; k++) w |= BigInt(quadField(m, l, 4 * k)) << BigInt(7 * (l * quads + k));
  } else for (let l = 0; l < c.lanes; l++) for (let j = 0; j < g.cols; j++) w |= BigInt(m.codes[l * g.cols + j]!) << BigInt(2 * (l * g.cols + j));
  const bytes = (x: Int8Array) => x.reduce((a, v, i) => a | (BigInt(v & 0xff) << BigInt(8 * i)), 0n);
  return w | (bytes(xa) << BigInt(g.wBits)) | (bytes(xb) << BigInt(g.wBits + g.xBits));
}

const signed = (v: bigint, bits: number) => Number(BigInt.asIntN(bits, v));

describe('prefill DSP array (two tokens per DSP48E2, WP486 packing) in Verilator', () => {
  const configs: DspArrayConfig[] = [
    { lanes: 3, dspPerLane: 8, sparse: true },
    { lanes: 2, dspPerLane: 6, sparse: false },
  ];
  for (const c of configs) {
    it(`${c.lanes} lanes x ${c.dspPerLane} DSPs${c.sparse ? ' 2:4' : ' dense'}: every group dot product equals the GEMM golden, with stalls`, async () => {
      const g = dspArrayGeometry(c);
      const mod = dspArrayModule(c);
      const d = printDesign(mod);
      expect((await lintVerilog(d.files, d.top, { throwOnWarning: false })).messages).toEqual([]);
      await compileIcarus(d.files, d.top);
      const sim = await buildSim({ iface: mod.interface(), files: d.files });
      const rng = new Rng(c.lanes * 7 + c.dspPerLane);
      const gc = gemvConfig({ lanes: c.lanes, simd: 1, group: g.cols, maxCols: g.cols });
      const n = 24;
      const jobs = Array.from({ length: n }, (_, i) => {
        const m0 = c.sparse ? randomSparse24Matrix(rng, gc, c.lanes, g.cols) : randomW2Matrix(rng, gc, c.lanes, g.cols);
        const m = { ...m0, scales: new Uint32Array(m0.scales.length).fill(1) };
        // the extremes: every code 0 (level -3) against x = -128
        if (i === 0) m.codes.fill(0);
        const [xa, xb] = i === 0 ? [new Int8Array(g.cols).fill(-128), new Int8Array(g.cols).fill(127)] : [randomInt8(rng, g.cols), randomInt8(rng, g.cols)];
        return { m, xa, xb };
      });
      for (const [k, stall] of [{ default: 0 }, { default: 0.3 }, { in: 0.5, y: 0.7 }].entries()) {
        const r = await sim.run({ seed: k + 3, stall, inputs: { in: jobs.map((j) => beat(c, j.m, j.xa, j.xb)) }, outputs: { y: n } });
        r.outputs.y!.data.forEach((word, i) => {
          const { m, xa, xb } = jobs[i]!;
          const [ga, gb] = w2GemmAcc(m, [xa, xb]);
          const lanes = (tok: number) => Array.from({ length: c.lanes }, (_, l) => signed(word >> BigInt((tok * c.lanes + l) * g.dotBits), g.dotBits));
          expect([lanes(0), lanes(1)]).toEqual([Array.from(ga!), Array.from(gb!)]);
        });
      }
    }, 300_000);
  }
});
