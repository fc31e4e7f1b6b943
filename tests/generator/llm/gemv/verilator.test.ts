import { describe, expect, it } from 'vitest';
import { gemvConfig, gemvGolden } from '../../../../generator/llm/gemv';
import { Rng } from '../../../../generator/util/rng';
import { buildGemvSim, runGemvJob } from '../../../../sim/designs/gemv';
import { runIcarus } from '../../../../sim/testbench';
import { gemvModule, packJob, unpackY } from '../../../../generator/llm/gemv';
import { extremeJob, randomConfig, randomMatrix, randomX } from './random-job';

describe('GEMV in Verilator equals the golden model bit for bit', () => {
  // 8 seeded random unit configurations x 3 random jobs each = 24 (lanes, simd, group, rows, cols, stall) combinations.
  const rng = new Rng(0x6e3f);
  const configs = Array.from({ length: 8 }, () => randomConfig(rng));
  configs.forEach((cfg, i) => {
    it(`config ${i}: lanes=${cfg.lanes} simd=${cfg.simd} group=${cfg.group} maxCols=${cfg.maxCols} outShift=${cfg.outShift}`, async () => {
      const sim = await buildGemvSim(cfg);
      const jobRng = new Rng(1000 + i);
      for (let j = 0; j < 3; j++) {
        const rows = jobRng.int(1, cfg.maxRows);
        const cols = jobRng.int(1, cfg.maxCols);
        const m = randomMatrix(jobRng, cfg, rows, cols);
        const x = randomX(jobRng, cols);
        // stall patterns: none, everything at one rate, and different rates per stream
        const stall = [{ default: 0 }, { default: 0.3 }, { default: 0.1, w: 0.5, y: 0.6, s: 0.2 }][j]!;
        const run = await runGemvJob(sim, cfg, m, x, { seed: 17 * i + j, stall });
        expect(run.y, `job ${j}: ${rows}x${cols} stall ${JSON.stringify(stall)}`).toEqual(gemvGolden(cfg, m, x));
        expect(run.weightBeats).toBe(Math.ceil(rows / cfg.lanes) * Math.ceil(cols / cfg.group) * cfg.stepsPerGroup);
        if (j === 0) expect(run.weightCycles).toBe(run.weightBeats); // one weight word every cycle without stalls
      }
    });
  });

  it('does not overflow on the extreme values at the largest supported cols', async () => {
    // Every code -3, every x = -128, every scale at its maximum: the accumulator reaches its stated bound.
    const cfg = gemvConfig({ lanes: 2, simd: 32, group: 64, maxCols: 21_888, maxRows: 4 });
    const { m, x } = extremeJob(cfg);
    const sim = await buildGemvSim(cfg);
    const run = await runGemvJob(sim, cfg, m, x, { seed: 3, stall: { default: 0.2 } });
    expect(run.y).toEqual(gemvGolden(cfg, m, x));
    expect(run.y[0]).toBe(384 * 255 * 21_888);
    // and the most negative extreme: code +3 against -128
    m.codes.fill(3);
    const neg = await runGemvJob(sim, cfg, m, x, { seed: 4 });
    expect(neg.y[0]).toBe(-384 * 255 * 21_888);
  });

  it('agrees with Icarus on the same configuration and job', async () => {
    const cfg = gemvConfig({ lanes: 4, simd: 4, group: 12, maxCols: 60, maxRows: 20, outShift: 7, outBits: 14 });
    const rng2 = new Rng(99);
    const m = randomMatrix(rng2, cfg, 11, 50);
    const x = randomX(rng2, 50);
    const sim = await buildGemvSim(cfg);
    const v = await runGemvJob(sim, cfg, m, x, { seed: 1, stall: { default: 0.25 } });
    const words = packJob(cfg, m, x);
    const ivl = await runIcarus(gemvModule(cfg), {
      inputs: { job: words.job, x: words.x, w: words.weights, s: words.scales },
      outputs: { y: words.yWords },
      stall: 0.25,
      seed: 1,
    });
    expect(unpackY(cfg, ivl.outputs.y ?? [], 11)).toEqual(v.y);
    expect(v.y).toEqual(gemvGolden(cfg, m, x));
  });
});
