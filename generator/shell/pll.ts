/**
 * PLL/MMCM settings for a requested fabric clock, per family. Searches the divider space under the data-sheet
 * limits and picks the closest output (ties: lowest VCO error), the way icepll / ecppll / the Vivado clocking
 * wizard do. The achieved frequency (not the requested one) goes into the constraints.
 */
import { ConfigError } from '../util/errors';
import type { SynthTarget } from '../flow/synth';

export type ClockPlan =
  | { kind: 'direct'; inMhz: number; outMhz: number }
  | { kind: 'ice40'; inMhz: number; outMhz: number; params: { DIVR: number; DIVF: number; DIVQ: number; FILTER_RANGE: number } }
  | { kind: 'ecp5'; inMhz: number; outMhz: number; params: { CLKI_DIV: number; CLKFB_DIV: number; CLKOP_DIV: number; CLKOP_CPHASE: number } }
  | {
      kind: 'mmcm';
      primitive: 'MMCME2_BASE' | 'MMCME3_BASE' | 'MMCME4_BASE';
      inMhz: number;
      outMhz: number;
      params: { CLKIN1_PERIOD: number; CLKFBOUT_MULT_F: number; DIVCLK_DIVIDE: number; CLKOUT0_DIVIDE_F: number };
    };

/** Largest relative error accepted between the requested and the achieved clock. */
export const CLOCK_TOLERANCE = 0.01;

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/** iCE40 SB_PLL40 in SIMPLE feedback (iCE40 sysCLOCK PLL design guide limits, as in icepll). */
export function ice40Pll(inMhz: number, outMhz: number) {
  let best: { err: number; p: { DIVR: number; DIVF: number; DIVQ: number; FILTER_RANGE: number }; f: number } | undefined;
  if (outMhz < 16 || outMhz > 275) return undefined;
  for (let divr = 0; divr <= 15; divr++) {
    const pfd = inMhz / (divr + 1);
    if (pfd < 10 || pfd > 133) continue;
    for (let divf = 0; divf <= 127; divf++) {
      const vco = pfd * (divf + 1);
      if (vco < 533 || vco > 1066) continue;
      for (let divq = 1; divq <= 6; divq++) {
        const f = vco / 2 ** divq;
        const err = Math.abs(f - outMhz);
        if (!best || err < best.err - 1e-12) {
          const filter = pfd < 17 ? 1 : pfd < 26 ? 2 : pfd < 44 ? 3 : pfd < 66 ? 4 : pfd < 101 ? 5 : 6;
          best = { err, f, p: { DIVR: divr, DIVF: divf, DIVQ: divq, FILTER_RANGE: filter } };
        }
      }
    }
  }
  return best && { outMhz: best.f, params: best.p };
}

/** ECP5 EHXPLLL, CLKOP feedback (limits as in Trellis' ecppll). */
export function ecp5Pll(inMhz: number, outMhz: number) {
  let best: { err: number; f: number; p: { CLKI_DIV: number; CLKFB_DIV: number; CLKOP_DIV: number; CLKOP_CPHASE: number } } | undefined;
  for (let ri = 1; ri <= 128; ri++) {
    const pfd = inMhz / ri;
    if (pfd < 3.125 || pfd > 400) continue;
    for (let fb = 1; fb <= 80; fb++) {
      const f = pfd * fb;
      if (f < 3.125 || f > 400) continue;
      // Any CLKOP_DIV with the VCO in range gives the same output; aim for the middle of the VCO range.
      const op = Math.min(128, Math.max(1, Math.round(600 / f)));
      const vco = f * op;
      if (vco < 400 || vco > 800) continue;
      const err = Math.abs(f - outMhz);
      if (!best || err < best.err - 1e-12) best = { err, f, p: { CLKI_DIV: ri, CLKFB_DIV: fb, CLKOP_DIV: op, CLKOP_CPHASE: op - 1 } };
    }
  }
  return best && { outMhz: best.f, params: best.p };
}

const MMCM_LIMITS = {
  MMCME2_BASE: { vco: [600, 1200], pfd: [10, 450] },
  MMCME3_BASE: { vco: [800, 1600], pfd: [10, 500] },
  MMCME4_BASE: { vco: [800, 1600], pfd: [10, 500] },
} as const;

/** Xilinx MMCM with integer multiply/divide (7-series -1 / UltraScale(+) -2 data-sheet limits). */
export function mmcm(primitive: keyof typeof MMCM_LIMITS, inMhz: number, outMhz: number) {
  const lim = MMCM_LIMITS[primitive];
  let best: { err: number; f: number; m: number; d: number; o: number } | undefined;
  for (let d = 1; d <= 10; d++) {
    const pfd = inMhz / d;
    if (pfd < lim.pfd[0] || pfd > lim.pfd[1]) continue;
    for (let m = 2; m <= 64; m++) {
      const vco = pfd * m;
      if (vco < lim.vco[0] || vco > lim.vco[1]) continue;
      const o = Math.min(128, Math.max(1, Math.round(vco / outMhz)));
      const f = vco / o;
      const err = Math.abs(f - outMhz);
      if (!best || err < best.err - 1e-12) best = { err, f, m, d, o };
    }
  }
  return (
    best && {
      outMhz: best.f,
      params: { CLKIN1_PERIOD: Number((1000 / inMhz).toFixed(3)), CLKFBOUT_MULT_F: best.m, DIVCLK_DIVIDE: best.d, CLKOUT0_DIVIDE_F: best.o },
    }
  );
}

/** The clocking for a board clock of inMhz and a requested fabric clock. */
export function planClock(family: SynthTarget, inMhz: number, outMhz: number): ClockPlan {
  if (!(outMhz > 0) || !Number.isFinite(outMhz)) throw new ConfigError('clock', 'must be a positive frequency in MHz', outMhz);
  if (close(inMhz, outMhz)) return { kind: 'direct', inMhz, outMhz: inMhz };
  let plan: ClockPlan | undefined;
  if (family === 'ice40') {
    const r = ice40Pll(inMhz, outMhz);
    if (r) plan = { kind: 'ice40', inMhz, ...r };
  } else if (family === 'ecp5') {
    const r = ecp5Pll(inMhz, outMhz);
    if (r) plan = { kind: 'ecp5', inMhz, ...r };
  } else {
    const primitive = family === 'xc7' ? 'MMCME2_BASE' : family === 'xcu' ? 'MMCME3_BASE' : 'MMCME4_BASE';
    const r = mmcm(primitive, inMhz, outMhz);
    if (r) plan = { kind: 'mmcm', primitive, inMhz, ...r };
  }
  if (!plan || Math.abs(plan.outMhz - outMhz) > CLOCK_TOLERANCE * outMhz)
    throw new ConfigError(
      'clock',
      `no ${family} PLL setting reaches ${outMhz} MHz from ${inMhz} MHz within ${CLOCK_TOLERANCE * 100}%` +
        (plan ? ` (closest ${plan.outMhz.toFixed(3)} MHz)` : ''),
      outMhz,
    );
  return plan;
}
