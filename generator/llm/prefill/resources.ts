/**
 * The U280 resource budget of the decode + prefill engine (docs/llm-engine.md#prefill-resources): Yosys counts of
 * synthesised slices extrapolated per lane (the lanes are identical copies), the engine top as synthesised, the
 * on-chip memory in bits, and the shell's share reserved as UG1393 advises (10% of every resource for the platform
 * infrastructure: XDMA, HBM controllers, interconnect).
 */
import type { ResourceReport } from '../../flow/synth';

export type Counts = Pick<ResourceReport, 'luts' | 'ffs' | 'dsp'>;
const KEYS = ['luts', 'ffs', 'dsp'] as const;

/** XCU280: 1,303,680 LUT, 2,607,360 FF, 9,024 DSP48E2. */
export const U280_PART: Counts = { luts: 1_303_680, ffs: 2_607_360, dsp: 9024 };
/** Fraction of every resource left to the shell (UG1393: "10% of the available resources can be used by system infrastructure"). */
export const SHELL_SHARE = 0.1;

/** Linear per-lane extrapolation from two synthesised lane counts. */
export function extrapolate(a: { lanes: number; r: Counts }, b: { lanes: number; r: Counts }, lanes: number): Counts {
  const out = {} as Counts;
  for (const k of KEYS) out[k] = Math.round(a.r[k] + ((b.r[k] - a.r[k]) / (b.lanes - a.lanes)) * (lanes - a.lanes));
  return out;
}

export interface Budget {
  parts: Record<string, Counts>;
  shell: Counts;
  total: Counts;
  fraction: Record<keyof Counts, number>;
  fits: boolean;
}

export function budget(parts: Record<string, Counts>, part: Counts = U280_PART): Budget {
  const shell = {} as Counts;
  const total = {} as Counts;
  const fraction = {} as Record<keyof Counts, number>;
  for (const k of KEYS) {
    shell[k] = Math.round(part[k] * SHELL_SHARE);
    total[k] = shell[k] + Object.values(parts).reduce((s, c) => s + c[k], 0);
    fraction[k] = total[k] / part[k];
  }
  return { parts, shell, total, fraction, fits: KEYS.every((k) => total[k] <= part[k]) };
}
