/**
 * The U280 resource budget of the decode + prefill engine (docs/llm-engine.md#prefill-resources): Yosys counts of
 * synthesised slices extrapolated per lane (the lanes are identical copies), the engine top as synthesised, the
 * on-chip memory in bits, and the shell's share reserved as UG1393 advises (10% of every resource for the platform
 * infrastructure: XDMA, HBM controllers, interconnect).
 */
import type { ResourceReport } from '../../flow/synth';
import { createHash } from 'node:crypto';
import { U280_BLOCKS, U280_ONCHIP_BITS, type LlmEngineConfig } from '../engine/hw-config';
import { fifoShapes, type BoxedMemory, type BoxedRom, type TopCone } from '../engine/synth';
import { placeMemories, type BlockPlacement } from '../../flow/xilinx-memory';

export type Counts = Pick<ResourceReport, 'luts' | 'ffs' | 'dsp'>;
const KEYS = ['luts', 'ffs', 'dsp'] as const;

/** XCU280: 1,303,680 LUT, 2,607,360 FF, 9,024 DSP48E2 (its URAM288 / BRAM36 counts: hw-config U280_BLOCKS). */
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

/**
 * LUT sites of the distributed-RAM and shift-register cells (UltraScale+ SLICEM: a RAM64M is four LUTs, an SRL one),
 * which Yosys counts apart from the LUT cells but which take LUTs of the part.
 */
const LUTRAM_SITES: Record<string, number> = {
  RAM32X1S: 1, RAM32X1D: 2, RAM32M: 4, RAM32M16: 8, RAM64X1S: 1, RAM64X1D: 2, RAM64M: 4, RAM64M8: 8,
  RAM128X1S: 2, RAM128X1D: 4, RAM256X1S: 4, RAM256X1D: 8, RAM512X1S: 8, SRL16E: 1, SRLC32E: 1,
};

/** LUTs a synthesised netlist takes: LUT cells plus the LUT sites of its LUTRAM / SRL cells. */
export function lutSites(r: Pick<ResourceReport, 'luts' | 'cells'>): { logic: number; lutram: number; total: number } {
  let lutram = 0;
  for (const [cell, n] of Object.entries(r.cells)) {
    if (/^(RAM|SRL)/.test(cell) && !/^RAMB/.test(cell)) {
      const sites = LUTRAM_SITES[cell];
      if (sites === undefined) throw new Error(`no LUT-site count for the distributed-RAM cell ${cell}`);
      lutram += sites * n;
    }
  }
  return { logic: r.luts, lutram, total: r.luts + lutram };
}

/** The budget() of synthesised parts plus on-chip memory in bits, the shell taking SHELL_SHARE of that too. */
export interface BudgetWithMemory extends Budget {
  onChip: { bits: number; shellBits: number; totalBits: number; partBits: number; fraction: number };
}

export function budgetWithMemory(parts: Record<string, Counts>, onChipBits: number, part: Counts = U280_PART, partBits = U280_ONCHIP_BITS): BudgetWithMemory {
  const b = budget(parts, part);
  const shellBits = Math.round(partBits * SHELL_SHARE);
  const totalBits = onChipBits + shellBits;
  return { ...b, fits: b.fits && totalBits <= partBits, onChip: { bits: onChipBits, shellBits, totalBits, partBits, fraction: totalBits / partBits } };
}

/**
 * A per-unit Yosys synthesis of one engine configuration, saved so benches can read it without re-running Yosys
 * (bench/llm-synth7b.ts writes it). Units are saved as they finish; a missing one is simply absent.
 */
export interface SavedEngineSynth {
  version: 1;
  /** synthConfigKey of the configuration synthesised. */
  configKey: string;
  description: string;
  target: string;
  /** Memories of the top of at least this many bits were boxed (counted as on-chip bits, not mapped). */
  boxMemoryBits: number;
  /** Every adder mapped to its own carry chain (flow/synth.ts carryChainAdders); absent in runs of the stock script. */
  carryChainAdders?: boolean;
  /** `roms`: the top's asynchronously read ROMs, boxed in its run and synthesised per read port (already in `report`). */
  top?: { report: ResourceReport; boxed: BoxedMemory[]; roms?: BoxedRom[]; cones?: TopCone[]; wallSeconds: number };
  /** Parts of a split top run that has not finished yet (synthEngineTop's partCache), by part name. */
  topParts?: Record<string, ResourceReport>;
  /** The top synthesised at smaller attention parallelism (slotPar), when the full one is beyond Yosys. */
  topAt?: Array<{ slotPar: number; report: ResourceReport; boxed: BoxedMemory[]; roms?: BoxedRom[]; cones?: TopCone[]; wallSeconds: number }>;
  gemvAt: Array<{ lanes: number; report: ResourceReport; wallSeconds: number }>;
}

/** Identifies an engine configuration (every hardware and engine parameter, the model shape). */
export function synthConfigKey(cfg: LlmEngineConfig): string {
  return createHash('sha256').update(JSON.stringify({ hw: cfg.hw, engine: cfg.engine })).digest('hex').slice(0, 16);
}

/**
 * The engine top's counts: as synthesised, or extrapolated linearly in slotPar from two smaller runs (the attention
 * unit's slots are identical copies: score and P.V products, exp, the KV banks' read logic; the vector unit, the
 * controller and the per-slot sums' final adds are the intercept).
 */
function engineTop(saved: SavedEngineSynth, cfg: LlmEngineConfig) {
  const runs = saved.top ? [{ slotPar: cfg.hw.slotPar, ...saved.top }] : [...(saved.topAt ?? [])].sort((a, b) => a.slotPar - b.slotPar);
  if (!runs.length) throw new Error('the saved synthesis has no engine top yet: synthesise it');
  const counts = (r: ResourceReport): Counts => ({ luts: lutSites(r).total, ffs: r.ffs, dsp: r.dsp });
  if (saved.top) return { counts: counts(saved.top.report), lutram: lutSites(saved.top.report).lutram, boxed: saved.top.boxed, runs, how: 'synthesised' };
  const [a, b] = [runs[0]!, runs[runs.length - 1]!];
  if (a.slotPar === b.slotPar) throw new Error(`the saved synthesis has the top at slotPar ${a.slotPar} only; two slotPar values are needed to extrapolate`);
  const at = (x: typeof a, f: (r: ResourceReport) => Counts) => ({ lanes: x.slotPar, r: f(x.report) });
  const lutram = extrapolate(at(a, (r) => ({ luts: lutSites(r).lutram, ffs: 0, dsp: 0 })), at(b, (r) => ({ luts: lutSites(r).lutram, ffs: 0, dsp: 0 })), cfg.hw.slotPar).luts;
  return { counts: extrapolate(at(a, counts), at(b, counts), cfg.hw.slotPar), lutram, boxed: b.boxed, runs, how: `synthesised at slotPar ${a.slotPar} and ${b.slotPar}, extrapolated per slot to ${cfg.hw.slotPar}` };
}

export interface EngineBudget extends BudgetWithMemory {
  /** False for a lower bound without the engine top (then `fits: true` proves nothing, `fits: false` does). */
  complete: boolean;
  /**
   * The boxed memories and the prefetch FIFOs placed in the URAM288 / BRAM36 blocks the shell leaves (flow/xilinx-memory.ts):
   * the on-chip check at block granularity, beside the one in bits (`fits` needs both).
   */
  blocks: BlockPlacement;
  /** LUT cells and LUTRAM / SRL sites of each synthesised part (the budget's LUTs are their sum). */
  lutSplit: Record<string, { logic: number; lutram: number }>;
  boxed: BoxedMemory[];
  boxedBits: number;
  gemvAt: Array<{ lanes: number; luts: number; ffs: number; dsp: number; yosysSeconds: number; wallSeconds: number }>;
  /** The top's run(s): one at the configured slotPar, or two smaller ones. */
  topAt: Array<{ slotPar: number; luts: number; ffs: number; dsp: number; yosysSeconds: number; wallSeconds: number }>;
  yosysSeconds: { top: number; gemvSlices: number; total: number };
  wallSeconds: { top: number; gemvSlices: number; total: number };
}

/**
 * The XCU280 budget of a saved per-unit synthesis: the engine top as synthesised, the GEMV unit extrapolated per lane
 * from its two slices to the configured lanes, the configuration's on-chip bits (hw-config's total, which includes the
 * boxed memories and the prefetch FIFOs), and the shell's share of every resource.
 */
export function engineBudget(saved: SavedEngineSynth, cfg: LlmEngineConfig, label: string, opts: { withoutTop?: boolean; topDspCensus?: number } = {}): EngineBudget {
  const key = synthConfigKey(cfg);
  if (saved.configKey !== key) throw new Error(`the saved synthesis is of another configuration (key ${saved.configKey}, this one ${key}): synthesise again`);
  // withoutTop: a lower bound (the GEMV unit, the on-chip bits and the shell) for when the top has not been synthesised;
  // its DSPs may come from the census (flow/dsp-census.ts: Yosys' mapping rule applied to the IR)
  const census = opts.topDspCensus;
  const top0 = opts.withoutTop
    ? {
        counts: { luts: 0, ffs: 0, dsp: census ?? 0 },
        lutram: 0,
        boxed: [] as BoxedMemory[],
        runs: [] as Array<{ slotPar: number; report: ResourceReport; wallSeconds: number }>,
        how: census === undefined ? 'NOT synthesised (counted as 0: a lower bound)' : 'LUT / FF NOT synthesised (counted as 0: a lower bound); DSPs from the census of its multipliers (Yosys mul2dsp rule)',
      }
    : engineTop(saved, cfg);
  const slices = [...saved.gemvAt].sort((a, b) => a.lanes - b.lanes);
  if (slices.length < 2 || slices[0]!.lanes === slices[slices.length - 1]!.lanes) throw new Error(`the saved synthesis has ${slices.length} GEMV slice(s); two lane counts are needed to extrapolate`);
  const [a, b] = [slices[0]!, slices[slices.length - 1]!];
  const counts = (r: ResourceReport): Counts => ({ luts: lutSites(r).total, ffs: r.ffs, dsp: r.dsp });
  const top = top0.counts;
  const gemv = extrapolate({ lanes: a.lanes, r: counts(a.report) }, { lanes: b.lanes, r: counts(b.report) }, cfg.gemv.lanes);
  const lr = (r: ResourceReport) => lutSites(r);
  const gemvLutram = extrapolate({ lanes: a.lanes, r: { luts: lr(a.report).lutram, ffs: 0, dsp: 0 } }, { lanes: b.lanes, r: { luts: lr(b.report).lutram, ffs: 0, dsp: 0 } }, cfg.gemv.lanes).luts;
  const topName = `engine top, ${label} (GEMV unit and FIFOs black-boxed, memories of >= ${saved.boxMemoryBits / 1024} Kbit counted as on-chip bits), ${top0.how}`;
  const gemvName = `GEMV unit with the DSP half, ${cfg.gemv.lanes} lanes (synthesised at ${a.lanes} and ${b.lanes} lanes, extrapolated per lane)`;
  const boxedBits = top0.boxed.reduce((s, m) => s + m.bits, 0);
  const ys = { top: top0.runs.reduce((s, x) => s + x.report.seconds, 0), gemvSlices: slices.reduce((s, x) => s + x.report.seconds, 0), total: 0 };
  ys.total = ys.top + ys.gemvSlices;
  const ws = { top: top0.runs.reduce((s, x) => s + x.wallSeconds, 0), gemvSlices: slices.reduce((s, x) => s + x.wallSeconds, 0), total: 0 };
  ws.total = ws.top + ws.gemvSlices;
  const avail = { uram: Math.floor(U280_BLOCKS.uram * (1 - SHELL_SHARE)), bram: Math.floor(U280_BLOCKS.bram * (1 - SHELL_SHARE)) };
  const blocks = placeMemories([...top0.boxed, ...fifoShapes(cfg)], avail);
  const inBits = budgetWithMemory({ [topName]: top, [gemvName]: gemv }, cfg.onChipBits);
  return {
    ...inBits,
    fits: inBits.fits && blocks.fits,
    blocks,
    complete: !opts.withoutTop,
    lutSplit: { [topName]: { logic: top.luts - top0.lutram, lutram: top0.lutram }, [gemvName]: { logic: gemv.luts - gemvLutram, lutram: gemvLutram } },
    boxed: top0.boxed,
    boxedBits,
    gemvAt: slices.map((x) => ({ lanes: x.lanes, luts: lr(x.report).total, ffs: x.report.ffs, dsp: x.report.dsp, yosysSeconds: x.report.seconds, wallSeconds: x.wallSeconds })),
    topAt: top0.runs.map((x) => ({ slotPar: x.slotPar, luts: lr(x.report).total, ffs: x.report.ffs, dsp: x.report.dsp, yosysSeconds: x.report.seconds, wallSeconds: x.wallSeconds })),
    yosysSeconds: ys,
    wallSeconds: ws,
  };
}
