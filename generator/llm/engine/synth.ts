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

export async function synthEngine(cfg: LlmEngineConfig, target: SynthTarget, opts: { gemvLanes?: [number, number]; perUnit?: boolean } = {}): Promise<EngineSynthReport> {
  const t0 = performance.now();
  const top = llmEngineModule(cfg);
  const printed = printDesign(top);
  const perUnit = opts.perUnit ?? (cfg.gemv.lanes * cfg.gemv.simd > FLAT_SYNTH_MAX_MACS || cfg.hw.wFifo > 0);
  if (!perUnit) return { ...(await synthesize(printed.files, printed.top, target)), method: 'flat', uram: 0 };
  const boxed = new Set([`${top.name}_gemv`, `${top.name}_wfifo`, `${top.name}_sfifo`]);
  const mods = new Map(collectModules(top).map((mm) => [mm.name, mm]));
  const files = printed.files.filter((f) => !boxed.has(f.name.replace(/\.v$/, '')));
  for (const b of boxed) if (mods.has(b)) files.push(blackboxStub(mods.get(b)!));
  const topReport = await synthesize(files, printed.top, target);
  const gemvAt: Array<{ lanes: number; report: ResourceReport }> = [];
  for (const lanes of opts.gemvLanes ?? [2, 4]) {
    const d = printDesign(gemvModule(gemvConfig({ ...cfg.gemv, lanes }), 'gemv_slice'));
    gemvAt.push({ lanes, report: await synthesize(d.files, d.top, target) });
  }
  const [a, b] = gemvAt as [(typeof gemvAt)[0], (typeof gemvAt)[0]];
  const gemv = {} as ResourceCounts;
  const out = { ...topReport, method: 'per-unit' as const, seconds: 0, cells: {} as Record<string, number> };
  for (const k of KEYS) {
    const slope = (b.report[k] - a.report[k]) / (b.lanes - a.lanes);
    gemv[k] = Math.round(a.report[k] + slope * (cfg.gemv.lanes - a.lanes));
    out[k] = topReport[k] + gemv[k];
  }
  const fifoUram = cfg.hw.wFifo ? uramBlocks(cfg.wPortBits, cfg.hw.wFifo) + uramBlocks(cfg.sPortBits, cfg.sFifo) : 0;
  for (const [c, n] of Object.entries(topReport.cells)) out.cells[c] = n;
  return { ...out, top: printed.top, seconds: (performance.now() - t0) / 1000, uram: fifoUram, units: { top: topReport, gemvAt, gemv, fifoUram } };
}
