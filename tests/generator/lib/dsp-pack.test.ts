import { describe, expect, it } from 'vitest';
import { Module, lit, printDesign } from '../../../generator/hdl';
import { parseLogicDepth, synthesize } from '../../../generator/flow/synth';
import {
  borrowBit,
  dotProducts,
  packSpec,
  packedDot,
  packedOperand,
  packedProduct,
  unpackHi,
  unpackLo,
  type PackSpec,
} from '../../../generator/lib/dsp-pack';
import { Rng } from '../../../generator/util/rng';

const SPECS = (['wp486', 'offset'] as const).map((p) => packSpec(p, 8, 8)!);

describe('DSP48E2 packing of two int8 products (TS model)', () => {
  it('uses WP486 geometry for uint8 x int8: S = 18, a 27-bit pre-adder sum (26-bit concatenation) on A', () => {
    expect(SPECS.map((s) => [s.shift, s.operandBits, s.prodBits])).toEqual([[18, 27, 17], [18, 26, 17]]);
    expect(packSpec('wp486', 16, 8)).toBeUndefined(); // 25-bit products: the operand would need 33 bits
    expect(packSpec('offset', 8, 12)).toBeUndefined();
    expect(packSpec('none', 8, 8)).toBeUndefined();
    expect(packSpec('wp486', 8, 4)!.operandBits).toBe(23);
  });

  for (const s of SPECS)
    it(`${s.packing}: both fields equal the two plain products for every uint8 x int8 x int8`, () => {
      let bad = 0;
      const m = 2 ** s.shift;
      for (let wLo = -128; wLo < 128; wLo++)
        for (let wHi = -128; wHi < 128; wHi++) {
          const op = packedOperand(s, wLo, wHi);
          if (op < -(2 ** (s.operandBits - 1)) || op >= 2 ** (s.operandBits - 1)) bad++;
          for (let x = 0; x < 256; x++) {
            const p = x * op;
            const lo = unpackLo(s, p);
            const hi = unpackHi(s, p);
            if (s.packing === 'wp486') {
              // the lower product's sign borrows one from the upper field
              const sign = x * wLo < 0 ? 1 : 0;
              if (lo !== x * wLo || hi !== x * wHi - sign || borrowBit(s, p) !== sign) bad++;
            } else if (lo !== x * (wLo + 128) || hi !== x * wHi || lo < 0 || lo >= m) bad++;
          }
        }
      expect(bad).toBe(0);
    });

  for (const s of SPECS)
    it(`${s.packing}: corrected dot products equal the plain ones (random, extreme and zero operands)`, () => {
      const rng = new Rng(13);
      const cases: Array<[number[], number[], number[]]> = [];
      for (const n of [1, 9, 144, 1600]) {
        const r = (lo: number, hi: number) => Array.from({ length: n }, () => lo + Math.floor(rng.next() * (hi - lo + 1)));
        cases.push([r(0, 255), r(-128, 127), r(-128, 127)]);
        cases.push([new Array(n).fill(255), new Array(n).fill(-128), new Array(n).fill(-128)]);
        cases.push([new Array(n).fill(255), new Array(n).fill(127), new Array(n).fill(-128)]);
        cases.push([new Array(n).fill(0), r(-128, 127), r(-128, 127)]);
      }
      for (const [xs, a, b] of cases) {
        const want = [xs.reduce((t, x, j) => t + x * a[j]!, 0), xs.reduce((t, x, j) => t + x * b[j]!, 0)];
        expect(packedDot(s, xs, a, b)).toEqual(want);
      }
    });

  it('the product stays inside the DSP48E2 45-bit multiplier output', () => {
    for (const s of SPECS as PackSpec[])
      for (const [x, a, b] of [[255, -128, -128], [255, 127, 127], [255, -128, 127], [255, 127, -128]] as const)
        expect(Math.abs(packedProduct(s, x, a, b))).toBeLessThan(2 ** 44);
  });
});

describe('dotProducts (IR)', () => {
  /** Two outputs over four activations: one DSP per activation when packed. */
  function pairModule(packing: 'none' | 'wp486' | 'offset', n = 4, levelsPerStage = 1): Module {
    const m = new Module(`dotpair_${packing}_${n}_${levelsPerStage}`);
    const xs = Array.from({ length: n }, (_, i) => m.input(`x${i}`, 8));
    const ws = [0, 1].map((o) => xs.map((_, i) => m.input(`w${o}_${i}`, 8, { signed: true })));
    const d = dotProducts(m, { prefix: 'd', xs, ws, extras: [[lit(5, 20, true)], [lit(-3, 20, true)]], accBits: 20, levelsPerStage, packing });
    d.sums.forEach((s, o) => m.assign(m.output(`y${o}`, 20, { signed: true }), s));
    expect(d.multipliers).toBe(packing === 'none' ? 2 * n : n);
    return m;
  }

  it('Yosys synth_xilinx maps one DSP48E2 per packed pair (4 for 2 x 4 products), 8 unpacked', async () => {
    for (const packing of ['wp486', 'offset', 'none'] as const) {
      const p = printDesign(pairModule(packing));
      const r = await synthesize(p.files, p.top, 'xcu');
      expect(r.dsp, packing).toBe(packing === 'none' ? 8 : 4);
    }
  }, 120_000);

  it('a register per adder level shortens the longest register-to-register path that synth reports', async () => {
    const levels: number[] = [];
    for (const lps of [1, 6]) {
      const p = printDesign(pairModule('wp486', 16, lps));
      const r = await synthesize(p.files, p.top, 'xcu');
      expect(r.logicLevels).toBeGreaterThan(0);
      expect(r.logicCarry!).toBeLessThanOrEqual(r.logicLevels!);
      levels.push(r.logicLevels!);
    }
    expect(levels[0]!).toBeLessThan(levels[1]!);
  }, 120_000);
});

describe('parseLogicDepth', () => {
  it('reads the ltp length and counts the carry cells on the printed path', () => {
    const log = [
      'Longest topological path in t (length=3):',
      '    0: \\a [0]',
      '    1: $x [1] (via $abc$1$lut)',
      '    2: $y [3] (via $alu$2.carry4)',
      '    3: \\q [0] (via $alu$3.carry4)',
      '',
    ].join('\n');
    expect(parseLogicDepth(log, 't/$alu$2.carry4\nt/$alu$3.carry4\n')).toEqual({ levels: 3, carry: 2 });
    expect(parseLogicDepth('no path here')).toBeUndefined();
  });
});
