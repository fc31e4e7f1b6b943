/**
 * Yosys synthesis of the decode engine. Small engines (the tiny and sim-small presets) are synthesised flat.
 * Large ones (the u280 preset: an 8,192-MAC GEMV array and a 32 Mbit prefetch FIFO) are too large for Yosys in
 * WebAssembly in reasonable time, so they are synthesised per unit at the engine's hierarchy boundaries
 * (docs/llm-engine.md#synthesis):
 *  - the engine top (controller, vector / attention units, KV cache, vector memories, ROMs) with the GEMV unit and
 *    the prefetch FIFOs as black boxes;
 *  - the GEMV unit at two small lane counts, extrapolated linearly to the configured lanes (every lane is an
 *    identical copy of the same adder trees, scale multiplier and accumulators; the shared control and the Σx tree
 *    are the intercept);
 *  - the prefetch FIFOs as UltraRAM, counted from their geometry (URAM288: 4K x 72 bits).
 * Optionally the top's large memories (the Llama-2-7B shape's per-token vector regions and KV cache banks, read
 * asynchronously, which Yosys would otherwise build from LUTRAM or flip-flops) are boxed: their address and data
 * logic is synthesised, their bits are counted as on-chip storage against the part's BRAM + URAM.
 * The reported counts are the sum; `units` keeps every part.
 */
import { collectModules, printDesign, type Module, type VerilogFile } from '../../hdl';
import { synthesize, type ResourceReport, type SynthTarget } from '../../flow/synth';
import { gemvConfig } from '../gemv/config';
import { gemvModule } from '../gemv/rtl';
import type { LlmEngineConfig } from './hw-config';
import { llmEngineModule } from './rtl';

export type ResourceCounts = Pick<ResourceReport, 'luts' | 'ffs' | 'carry' | 'dsp' | 'bram' | 'lutram'>;
const KEYS = ['luts', 'ffs', 'carry', 'dsp', 'bram', 'lutram'] as const;

export interface EngineSynthReport extends ResourceReport {
  method: 'flat' | 'per-unit';
  /** Per-unit runs: the top with black boxes, the GEMV slices, the extrapolated GEMV, the FIFOs' UltraRAMs. */
  units?: {
    top: ResourceReport;
    gemvAt: Array<{ lanes: number; report: ResourceReport }>;
    gemv: ResourceCounts;
    fifoUram: number;
    /** Memories of the top left out of mapping (synthEngineTop's boxMemoryBits), counted as on-chip bits. */
    boxedMemories: BoxedMemory[];
  };
  /** UltraRAM blocks (per-unit runs only; Yosys' counts have no URAM column). */
  uram: number;
}

/** Above this many weight MACs per cycle the engine is synthesised per unit. */
export const FLAT_SYNTH_MAX_MACS = 1024;

/** A port-only Verilog module with the blackbox attribute, so Yosys keeps it as an opaque cell. */
export function blackboxStub(m: Module): VerilogFile {
  const ports = m.interface().ports.map((p) => `  ${p.dir} wire ${p.width > 1 ? `[${p.width - 1}:0] ` : ''}${p.name}`);
  return { name: `${m.name}.v`, text: `(* blackbox *)\nmodule ${m.name} (\n${ports.join(',\n')}\n);\nendmodule\n` };
}

/** URAM288 blocks (4,096 x 72 bits, cascaded in depth) for a width x depth memory. */
export const uramBlocks = (width: number, depth: number): number => Math.ceil(width / 72) * Math.ceil(depth / 4096);

/** A memory of the engine top left out of mapping (its bits are counted as on-chip storage instead). */
export interface BoxedMemory {
  name: string;
  width: number;
  depth: number;
  bits: number;
}

/** The top's memories of at least `minBits` bits, largest first. */
export function memoriesToBox(top: Module, minBits: number): BoxedMemory[] {
  return top.memories
    .map((mm) => ({ name: mm.name, width: mm.width, depth: mm.depth, bits: mm.width * mm.depth }))
    .filter((mm) => mm.bits >= minBits)
    .sort((a, b) => b.bits - a.bits);
}

/**
 * The engine top with the GEMV unit and the prefetch FIFOs as black boxes; with `boxMemoryBits`, its memories of at
 * least that many bits are boxed too (synthesize's boxMemories: their address / data logic is synthesised, their
 * storage is not, and is returned for the caller to count as on-chip bits).
 */
export async function synthEngineTop(cfg: LlmEngineConfig, target: SynthTarget, opts: { boxMemoryBits?: number } = {}): Promise<{ report: ResourceReport; boxed: BoxedMemory[] }> {
  const top = llmEngineModule(cfg);
  const printed = printDesign(top);
  const boxed = new Set([`${top.name}_gemv`, `${top.name}_wfifo`, `${top.name}_sfifo`]);
  const mods = new Map(collectModules(top).map((mm) => [mm.name, mm]));
  const files = printed.files.filter((f) => !boxed.has(f.name.replace(/\.v$/, '')));
  for (const b of boxed) if (mods.has(b)) files.push(blackboxStub(mods.get(b)!));
  const mems = opts.boxMemoryBits === undefined ? [] : memoriesToBox(top, opts.boxMemoryBits);
  const report = await synthesize(files, printed.top, target, { boxMemories: mems.map((mm) => mm.name) });
  return { report, boxed: mems };
}

/** The engine's GEMV unit (everything as configured, including the DSP half) at `lanes` lanes. */
export async function synthGemvSlice(cfg: LlmEngineConfig, lanes: number, target: SynthTarget): Promise<ResourceReport> {
  const d = printDesign(gemvModule(gemvConfig({ ...cfg.gemv, lanes }), 'gemv_slice'));
  return synthesize(d.files, d.top, target);
}

/** Linear per-lane extrapolation of every count from two synthesised lane counts. */
export function extrapolateLanes(a: { lanes: number; report: ResourceCounts }, b: { lanes: number; report: ResourceCounts }, lanes: number): ResourceCounts {
  if (a.lanes === b.lanes) throw new Error(`extrapolation needs two different lane counts (got ${a.lanes} twice)`);
  const out = {} as ResourceCounts;
  for (const k of KEYS) out[k] = Math.round(a.report[k] + ((b.report[k] - a.report[k]) / (b.lanes - a.lanes)) * (lanes - a.lanes));
  return out;
}

/** The prefetch FIFOs as URAM288 blocks from their geometry. */
export const fifoUramBlocks = (cfg: LlmEngineConfig): number => (cfg.hw.wFifo ? uramBlocks(cfg.wPortBits, cfg.hw.wFifo) + uramBlocks(cfg.sPortBits, cfg.sFifo) : 0);

export async function synthEngine(cfg: LlmEngineConfig, target: SynthTarget, opts: { gemvLanes?: [number, number]; perUnit?: boolean; boxMemoryBits?: number } = {}): Promise<EngineSynthReport> {
  const t0 = performance.now();
  const perUnit = opts.perUnit ?? (cfg.gemv.lanes * cfg.gemv.simd > FLAT_SYNTH_MAX_MACS || cfg.hw.wFifo > 0);
  if (!perUnit) {
    const printed = printDesign(llmEngineModule(cfg));
    return { ...(await synthesize(printed.files, printed.top, target)), method: 'flat', uram: 0 };
  }
  const { report: topReport, boxed } = await synthEngineTop(cfg, target, { boxMemoryBits: opts.boxMemoryBits });
  const gemvAt: Array<{ lanes: number; report: ResourceReport }> = [];
  for (const lanes of opts.gemvLanes ?? [2, 4]) gemvAt.push({ lanes, report: await synthGemvSlice(cfg, lanes, target) });
  const gemv = extrapolateLanes(gemvAt[0]!, gemvAt[1]!, cfg.gemv.lanes);
  const out = { ...topReport, method: 'per-unit' as const, seconds: 0, cells: { ...topReport.cells } };
  for (const k of KEYS) out[k] = topReport[k] + gemv[k];
  const fifoUram = fifoUramBlocks(cfg);
  return { ...out, seconds: (performance.now() - t0) / 1000, uram: fifoUram, units: { top: topReport, gemvAt, gemv, fifoUram, boxedMemories: boxed } };
}
