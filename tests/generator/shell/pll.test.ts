import { describe, expect, it } from 'vitest';
import { CLOCK_TOLERANCE, planClock } from '../../../generator/shell/pll';
import { ConfigError } from '../../../generator/util/errors';

/** Output frequency from the primitive's parameters, by the data-sheet formulas (independent of the search). */
function fout(p: ReturnType<typeof planClock>): number {
  if (p.kind === 'direct') return p.inMhz;
  if (p.kind === 'ice40') return (p.inMhz * (p.params.DIVF + 1)) / ((p.params.DIVR + 1) * 2 ** p.params.DIVQ);
  if (p.kind === 'ecp5') return (p.inMhz * p.params.CLKFB_DIV) / p.params.CLKI_DIV;
  return (p.inMhz * p.params.CLKFBOUT_MULT_F) / (p.params.DIVCLK_DIVIDE * p.params.CLKOUT0_DIVIDE_F);
}

describe('PLL planning', () => {
  const cases: Array<[Parameters<typeof planClock>[0], number, number]> = [
    ['ice40', 12, 48],
    ['ice40', 12, 24],
    ['ice40', 12, 36],
    ['ecp5', 25, 50],
    ['ecp5', 25, 125],
    ['xcup', 100, 225],
    ['xcu', 125, 250],
    ['xc7', 100, 150],
    ['xc7', 100, 100],
  ];
  it.each(cases)('%s %d MHz -> %d MHz is within tolerance and inside the VCO/PFD limits', (fam, fin, fo) => {
    const p = planClock(fam, fin, fo);
    expect(Math.abs(fout(p) - fo)).toBeLessThanOrEqual(CLOCK_TOLERANCE * fo);
    expect(fout(p)).toBeCloseTo(p.outMhz, 6);
    if (p.kind === 'ice40') {
      const pfd = fin / (p.params.DIVR + 1);
      expect(pfd).toBeGreaterThanOrEqual(10);
      expect(pfd * (p.params.DIVF + 1)).toBeGreaterThanOrEqual(533);
      expect(pfd * (p.params.DIVF + 1)).toBeLessThanOrEqual(1066);
    } else if (p.kind === 'ecp5') {
      const vco = p.outMhz * p.params.CLKOP_DIV;
      expect(vco).toBeGreaterThanOrEqual(400);
      expect(vco).toBeLessThanOrEqual(800);
      expect(p.params.CLKOP_CPHASE).toBe(p.params.CLKOP_DIV - 1);
    } else if (p.kind === 'mmcm') {
      const vco = (fin * p.params.CLKFBOUT_MULT_F) / p.params.DIVCLK_DIVIDE;
      expect(vco).toBeGreaterThanOrEqual(p.primitive === 'MMCME2_BASE' ? 600 : 800);
      expect(vco).toBeLessThanOrEqual(p.primitive === 'MMCME2_BASE' ? 1200 : 1600);
    } else expect(fo).toBe(fin);
  });

  it('refuses a clock the PLL cannot make', () => {
    expect(() => planClock('ice40', 12, 500)).toThrow(ConfigError);
    expect(() => planClock('ice40', 12, -1)).toThrow(/positive/);
  });
});
