import { describe, expect, it } from 'vitest';
import {
  bitsPerWeight,
  checkSparse24,
  gemvConfig,
  gemvGolden,
  gemvOutput,
  gemvModule,
  packJob,
  randomInt8,
  randomSparse24Matrix,
  randomW2Matrix,
  SPARSE_PATTERNS,
  sparseSimd,
  type GemvConfig,
  type W2Matrix,
} from '../../../../generator/llm/gemv';
import { printDesign } from '../../../../generator/hdl';
import { InputError } from '../../../../generator/util/errors';
import { Rng } from '../../../../generator/util/rng';
import { buildGemvSim, runGemvJob } from '../../../../sim/designs/gemv';
import { compileIcarus } from '../../../../sim/icarus';
import { lintVerilog } from '../../../../sim/lint';

/** Reference written from the format's definition: a pruned weight is 0, a kept one (2q-3) * scale. */
function maskedReference(m: W2Matrix, x: Int8Array): number[] {
  const ng = Math.ceil(m.cols / m.group);
  return Array.from({ length: m.rows }, (_, r) => {
    let acc = 0;
    for (let c = 0; c < m.cols; c++) {
      const level = m.keep![r * m.cols + c] ? 2 * m.codes[r * m.cols + c]! - 3 : 0;
      acc += m.scales[r * ng + Math.floor(c / m.group)]! * level * x[c]!;
    }
    return acc;
  });
}

/** Decode one weight word back into (row, column, code) triples by the documented bit layout. */
function decodeWord(cfg: GemvConfig, word: bigint, rb: number, step: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  const q = cfg.simd / 4;
  for (let l = 0; l < cfg.lanes; l++)
    for (let k = 0; k < q; k++) {
      const f = Number((word >> BigInt(7 * (l * q + k))) & 0x7fn);
      const [p0, p1] = SPARSE_PATTERNS[f >> 4]!;
      const c0 = step * cfg.simd + 4 * k;
      out.push([rb * cfg.lanes + l, c0 + p0, f & 3], [rb * cfg.lanes + l, c0 + p1, (f >> 2) & 3]);
    }
  return out;
}

describe('2:4 sparse W2 format and golden GEMV', () => {
  const cfg = gemvConfig({ lanes: 3, simd: 8, group: 16, maxCols: 96, maxRows: 20, sparse: true });

  it('the golden GEMV skips exactly the pruned products', () => {
    const rng = new Rng(5);
    const m = randomSparse24Matrix(rng, cfg, 7, 90);
    checkSparse24(m);
    const x = randomInt8(rng, 90);
    expect(gemvGolden(cfg, m, x)).toEqual(maskedReference(m, x));
  });

  it('packs two codes and their pattern per quad: 7 bits per 4 weights', () => {
    const rng = new Rng(6);
    const m = randomSparse24Matrix(rng, cfg, 5, 40);
    const words = packJob(cfg, m, randomInt8(rng, 40));
    expect(cfg.weightPortBits).toBe((7 * 3 * 8) / 4);
    const steps = Math.ceil(40 / cfg.group) * cfg.stepsPerGroup;
    const seen = new Set<string>();
    words.weights.forEach((w, i) => {
      expect(w < 1n << BigInt(cfg.weightPortBits)).toBe(true);
      for (const [r, c, code] of decodeWord(cfg, w, Math.floor(i / steps), i % steps)) {
        if (r >= m.rows || c >= m.cols) continue;
        expect(m.keep![r * m.cols + c], `(${r}, ${c}) is stored, so it must be kept`).toBe(1);
        expect(code).toBe(m.codes[r * m.cols + c]);
        seen.add(`${r},${c}`);
      }
    });
    expect(seen.size).toBe(m.keep!.reduce((a, b) => a + b, 0)); // every kept weight is stored once
    expect(bitsPerWeight(true, 64, 8)).toBe(1.875);
    expect(bitsPerWeight(false, 64, 8)).toBe(2.125);
  });

  it('refuses a dense matrix on a sparse unit, a sparse one on a dense unit, and a mask that keeps 3 of 4', () => {
    const rng = new Rng(7);
    const dense = gemvConfig({ lanes: 3, simd: 8, group: 16, maxCols: 96, maxRows: 20 });
    const sp = randomSparse24Matrix(rng, cfg, 4, 32);
    expect(() => packJob(dense, sp, randomInt8(rng, 32))).toThrow(/2:4 sparse matrix cannot run on a dense/);
    expect(() => packJob(cfg, randomW2Matrix(rng, dense, 4, 32), randomInt8(rng, 32))).toThrow(/dense matrix cannot run on a 2:4/);
    const bad = { ...sp, keep: Uint8Array.from(sp.keep!) };
    bad.keep[0] = bad.keep[1] = bad.keep[2] = 1;
    expect(() => packJob(cfg, bad, randomInt8(rng, 32))).toThrow(InputError);
    expect(() => gemvConfig({ lanes: 2, simd: 6, group: 12, sparse: true })).toThrow(/multiple of 4/);
  });

  it('sparseUse: area keeps the columns per cycle with half the products, throughput doubles the columns', () => {
    const area = gemvConfig({ lanes: 4, simd: sparseSimd(16, 'area'), group: 64, sparse: true });
    const thr = gemvConfig({ lanes: 4, simd: sparseSimd(16, 'throughput'), group: 64, sparse: true });
    expect([area.simd, area.macsPerLane]).toEqual([16, 8]);
    expect([thr.simd, thr.macsPerLane]).toEqual([32, 16]);
    expect(() => sparseSimd(16, 'both' as 'area')).toThrow(/sparseUse/);
  });
});

describe('2:4 sparse GEMV in Verilator equals the masked golden model bit for bit', () => {
  const configs = [
    gemvConfig({ lanes: 3, simd: 8, group: 16, maxCols: 96, maxRows: 20, sparse: true, outShift: 5, outBits: 20 }),
    gemvConfig({ lanes: 2, simd: sparseSimd(8, 'throughput'), group: 32, maxCols: 128, maxRows: 9, sparse: true }),
  ];
  configs.forEach((cfg, i) => {
    it(`lanes=${cfg.lanes} simd=${cfg.simd} group=${cfg.group}: random jobs with stalls`, async () => {
      const sim = await buildGemvSim(cfg);
      const rng = new Rng(300 + i);
      for (let j = 0; j < 3; j++) {
        const rows = rng.int(1, cfg.maxRows);
        const cols = rng.int(1, cfg.maxCols);
        const m = randomSparse24Matrix(rng, cfg, rows, cols);
        const x = randomInt8(rng, cols);
        const stall = [{ default: 0 }, { default: 0.3 }, { default: 0.1, w: 0.5, y: 0.6, s: 0.2 }][j]!;
        const run = await runGemvJob(sim, cfg, m, x, { seed: 31 * i + j, stall });
        expect(run.y, `${rows}x${cols} ${JSON.stringify(stall)}`).toEqual(maskedReference(m, x).map((a) => gemvOutput(cfg, a)));
        if (j === 0) expect(run.weightCycles).toBe(run.weightBeats); // one packed word every cycle
      }
    });
  });

  it('is lint-clean (verilator -Wall) and compiles in Icarus', async () => {
    for (const cfg of configs) {
      const d = printDesign(gemvModule(cfg));
      expect((await lintVerilog(d.files, d.top, { throwOnWarning: false })).messages).toEqual([]);
      expect((await compileIcarus(d.files, d.top)).vvp).toMatch(/gemv\.vvp$/);
    }
  });
});
