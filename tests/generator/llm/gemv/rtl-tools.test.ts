import { describe, expect, it } from 'vitest';
import { printDesign } from '../../../../generator/hdl';
import { gemvConfig, gemvGolden, gemvModule, packJob, unpackY } from '../../../../generator/llm/gemv';
import { Rng } from '../../../../generator/util/rng';
import { compileIcarus } from '../../../../sim/icarus';
import { lintVerilog } from '../../../../sim/lint';
import { runIcarus } from '../../../../sim/testbench';
import { randomConfig, randomMatrix, randomX } from './random-job';

describe('generated GEMV Verilog', () => {
  const rng = new Rng(2024);
  const configs = Array.from({ length: 20 }, () => randomConfig(rng));
  configs.push(gemvConfig({ lanes: 16, simd: 16, group: 64, maxCols: 4096, maxRows: 4096 }));

  it('passes verilator --lint-only -Wall and compiles in Icarus for every configuration', async () => {
    for (const cfg of configs) {
      const d = printDesign(gemvModule(cfg));
      const lint = await lintVerilog(d.files, d.top, { throwOnWarning: false });
      expect(lint.messages, `lanes=${cfg.lanes} simd=${cfg.simd} group=${cfg.group}`).toEqual([]);
      const ivl = await compileIcarus(d.files, d.top);
      expect(ivl.vvp).toMatch(/gemv\.vvp$/);
    }
  });

  it('computes the golden outputs under Icarus, with random stalls on every stream', async () => {
    const rng2 = new Rng(77);
    const cfg = gemvConfig({ lanes: 3, simd: 4, group: 8, maxCols: 48, maxRows: 12, outShift: 5, outBits: 12 });
    for (const stall of [0, 0.35]) {
      const rows = 7;
      const cols = 21;
      const m = randomMatrix(rng2, cfg, rows, cols);
      const x = randomX(rng2, cols);
      const words = packJob(cfg, m, x);
      const res = await runIcarus(gemvModule(cfg), {
        inputs: { job: words.job, x: words.x, w: words.weights, s: words.scales },
        outputs: { y: words.yWords },
        stall,
        seed: 9,
      });
      expect(unpackY(cfg, res.outputs.y ?? [], rows)).toEqual(gemvGolden(cfg, m, x));
    }
  });
});
