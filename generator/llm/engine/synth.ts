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
import { uramBlocks, type MemoryShape } from '../../flow/xilinx-memory';
import { collectModules, printDesign, Module, type Memory, type Signal, type VerilogFile } from '../../hdl';
import { distinctExprs, walkStmts } from '../../hdl/checks';
import { extractCone, readsMemory } from '../../hdl/extract';
import { MemRead } from '../../hdl/module';
import { synthesize, type ResourceReport, type SynthTarget } from '../../flow/synth';
import { dspCensus, type DspCensus } from '../../flow/dsp-census';
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

/** Names of the units synthesised apart from the engine top (black boxes in its run). */
export const topBoxedUnits = (top: Module): Set<string> => new Set([`${top.name}_gemv`, `${top.name}_wfifo`, `${top.name}_sfifo`]);

/**
 * The DSP48E2s of the engine top (GEMV unit and FIFOs excluded) by the census of its multipliers: Yosys' own
 * mapping rule applied to the IR, for tops too large for Yosys/WebAssembly (the 7B shape).
 */
export function engineTopDspCensus(cfg: LlmEngineConfig): DspCensus {
  const top = llmEngineModule(cfg);
  return dspCensus(top, topBoxedUnits(top));
}

/** A ROM of the top read asynchronously: boxed in the top's run, its read ports synthesised on their own. */
export interface BoxedRom {
  name: string;
  width: number;
  depth: number;
  /** Asynchronous read ports (distinct reads in the IR). */
  ports: number;
  /** The ROM synthesised alone with 1 and 2 read ports, extrapolated per port to `ports`. */
  at: Array<{ ports: number; report: ResourceReport }>;
  counts: ResourceCounts;
}

/**
 * The top's ROMs (memories with contents) that are only read asynchronously, with their read-port counts. Each
 * port is a full decoder of the table in LUTs; Yosys builds it by mapping the memory to a mux tree per port, which
 * at the 7B shape (64 ports of the 4,096-entry RoPE table, 64 of the sigmoid table) is millions of cells before
 * optimisation: synthesised on their own, per port, they take seconds.
 */
export function asyncRoms(top: Module): Array<{ mem: Memory; ports: number }> {
  const syncRead = new Set<Memory>();
  for (const p of top.processes)
    if (p.kind === 'sync')
      walkStmts(p.body, (st) => {
        if (st.kind === 'assign' && st.value instanceof MemRead) syncRead.add(st.value.mem);
      });
  const ports = new Map<Memory, number>();
  for (const e of distinctExprs(top)) if (e instanceof MemRead && e.mem.init && !syncRead.has(e.mem)) ports.set(e.mem, (ports.get(e.mem) ?? 0) + 1);
  return [...ports].map(([mem, n]) => ({ mem, ports: n }));
}

/** A ROM alone with `ports` asynchronous read ports (address in, word out), for per-port synthesis. */
export function romPortsModule(rom: Memory, ports: number): Module {
  const m = new Module(`rom_${rom.name}_x${ports}`);
  const mem = m.memory(rom.name, rom.width, rom.depth, rom.init);
  const aw = Math.max(1, Math.ceil(Math.log2(rom.depth)));
  for (let p = 0; p < ports; p++) m.assign(m.output(`d${p}`, rom.width), mem.read(m.input(`a${p}`, aw)));
  return m;
}

async function synthRom(rom: Memory, ports: number, target: SynthTarget): Promise<BoxedRom> {
  const at: BoxedRom['at'] = [];
  for (const n of ports === 1 ? [1] : [1, 2]) {
    const d = printDesign(romPortsModule(rom, n));
    at.push({ ports: n, report: await synthesize(d.files, d.top, target) });
  }
  const counts = ports === 1 ? pickCounts(at[0]!.report) : extrapolateLanes({ lanes: 1, report: at[0]!.report }, { lanes: 2, report: at[1]!.report }, ports);
  return { name: rom.name, width: rom.width, depth: rom.depth, ports, at, counts };
}

const pickCounts = (r: ResourceCounts): ResourceCounts => Object.fromEntries(KEYS.map((k) => [k, r[k]])) as ResourceCounts;

/** A combinational cone of the top synthesised as its own module (synthEngineTop's splitCones). */
export interface TopCone {
  name: string;
  moved: number;
  inputs: number;
  outputs: number;
  report: ResourceReport;
}

/** Options of synthEngineTop. */
export interface EngineTopSynthOptions {
  /** Memories of at least this many bits are boxed (counted as on-chip bits by the caller, not mapped). */
  boxMemoryBits?: number;
  /** The asynchronously read ROMs are boxed and synthesised alone per read port. */
  boxRoms?: boolean;
  /**
   * Split the top's combinational logic into modules synthesised one at a time: the attention unit's, then the rest
   * cut into this many parts in assign order (true: 4).
   */
  splitCones?: boolean | number;
  carryChainAdders?: boolean;
  /** Reports of parts already synthesised (by part name: 'top' or a cone's module name), not run again. */
  partCache?: Readonly<Record<string, ResourceReport>>;
  /** Called with each part as it finishes (to save it: a long run can then resume). */
  onPart?: (name: string, report: ResourceReport) => void | Promise<void>;
}

/**
 * The top's combinational logic moved into cone modules: the attention unit's, then `parts` chunks of the rest in
 * assign order, the first of them in two halves (on the 7B top, as one module it kept Yosys/WebAssembly busy for
 * over 20 minutes without finishing; its halves take minutes).
 */
function splitTopCones(top: Module, parts: number) {
  const cones = [extractCone(top, `${top.name}_attn`, (s) => s.name.startsWith('at_') || s.name.startsWith('a_at'))];
  const movable = top.assigns.filter((a) => !readsMemory(a.value)).map((a) => a.target);
  const per = Math.ceil(movable.length / parts);
  const cut = (name: string, targets: Signal[]) => {
    const chunk = new Set(targets);
    cones.push(extractCone(top, name, (s) => chunk.has(s)));
  };
  for (let i = 0; i * per < movable.length; i++) {
    const chunk = movable.slice(i * per, (i + 1) * per);
    const mid = Math.ceil(chunk.length / 2);
    if (i === 0 && chunk.length > 1) {
      cut(`${top.name}_comb0a`, chunk.slice(0, mid));
      cut(`${top.name}_comb0b`, chunk.slice(mid));
    } else cut(`${top.name}_comb${i}`, chunk);
  }
  return cones;
}

/**
 * The engine top with the GEMV unit and the prefetch FIFOs as black boxes; with `boxMemoryBits`, its memories of at
 * least that many bits are boxed too (synthesize's boxMemories: their address / data logic is synthesised, their
 * storage is not, and is returned for the caller to count as on-chip bits); with `boxRoms`, its asynchronously read
 * ROMs are boxed and synthesised per read port; with `splitCones`, its combinational logic is moved into cone
 * modules (hdl/extract.ts: the attention unit's, then the rest in parts) synthesised one at a time, and the top keeps
 * its registers, processes and memory reads: no single Yosys run holds the whole top.
 */
export async function synthEngineTop(
  cfg: LlmEngineConfig,
  target: SynthTarget,
  opts: EngineTopSynthOptions = {},
): Promise<{ report: ResourceReport; boxed: BoxedMemory[]; roms: BoxedRom[]; cones: TopCone[] }> {
  const top = llmEngineModule(cfg);
  const boxed = topBoxedUnits(top);
  const coneParts = opts.splitCones ? splitTopCones(top, opts.splitCones === true ? 4 : opts.splitCones) : [];
  for (const c of coneParts) boxed.add(c.sub.name);
  const printed = printDesign(top);
  const mods = new Map(collectModules(top).map((mm) => [mm.name, mm]));
  const files = printed.files.filter((f) => !boxed.has(f.name.replace(/\.v$/, '')));
  for (const b of boxed) if (mods.has(b)) files.push(blackboxStub(mods.get(b)!));
  const mems = opts.boxMemoryBits === undefined ? [] : memoriesToBox(top, opts.boxMemoryBits);
  const roms = opts.boxRoms ? asyncRoms(top) : [];
  // no logic-depth pass on the split parts: its ltp runs Yosys/WebAssembly out of memory on the 7B top
  const logicDepth = !opts.splitCones;
  const carryChainAdders = opts.carryChainAdders;
  const part = async (name: string, run: () => Promise<ResourceReport>): Promise<ResourceReport> => {
    const cached = opts.partCache?.[name];
    if (cached) return structuredClone(cached);
    const r = await run();
    await opts.onPart?.(name, structuredClone(r));
    return r;
  };
  const report = await part('top', () => synthesize(files, printed.top, target, { boxMemories: [...mems.map((mm) => mm.name), ...roms.map((r) => r.mem.name)], logicDepth, carryChainAdders }));
  const cones: TopCone[] = [];
  for (const c of coneParts) {
    const d = printDesign(c.sub);
    cones.push({ name: c.sub.name, moved: c.moved, inputs: c.inputs, outputs: c.outputs, report: await part(c.sub.name, () => synthesize(d.files, d.top, target, { logicDepth, carryChainAdders })) });
  }
  const romReports: BoxedRom[] = [];
  for (const r of roms) romReports.push(await synthRom(r.mem, r.ports, target));
  for (const k of KEYS) report[k] += [...romReports.map((r) => r.counts[k]), ...cones.map((c) => c.report[k])].reduce((a, b) => a + b, 0);
  for (const c of cones) for (const [cell, n] of Object.entries(c.report.cells)) report.cells[cell] = (report.cells[cell] ?? 0) + n;
  report.seconds += cones.reduce((a, c) => a + c.report.seconds, 0);
  return { report, boxed: mems, roms: romReports, cones };
}

/** The engine's GEMV unit (everything as configured, including the DSP half) at `lanes` lanes. */
export async function synthGemvSlice(cfg: LlmEngineConfig, lanes: number, target: SynthTarget, opts: { carryChainAdders?: boolean } = {}): Promise<ResourceReport> {
  const d = printDesign(gemvModule(gemvConfig({ ...cfg.gemv, lanes }), 'gemv_slice'));
  return synthesize(d.files, d.top, target, opts);
}

/** Linear per-lane extrapolation of every count from two synthesised lane counts. */
export function extrapolateLanes(a: { lanes: number; report: ResourceCounts }, b: { lanes: number; report: ResourceCounts }, lanes: number): ResourceCounts {
  if (a.lanes === b.lanes) throw new Error(`extrapolation needs two different lane counts (got ${a.lanes} twice)`);
  const out = {} as ResourceCounts;
  for (const k of KEYS) out[k] = Math.round(a.report[k] + ((b.report[k] - a.report[k]) / (b.lanes - a.lanes)) * (lanes - a.lanes));
  return out;
}

/** The prefetch FIFOs as URAM288 blocks from their geometry. */
export const fifoUramBlocks = (cfg: LlmEngineConfig): number => fifoShapes(cfg).reduce((s, f) => s + uramBlocks(f.width, f.depth), 0);

/** The prefetch FIFOs' storage (none when hw.wFifo is 0). */
export const fifoShapes = (cfg: LlmEngineConfig): MemoryShape[] =>
  cfg.hw.wFifo ? [{ name: 'w_fifo', width: cfg.wPortBits, depth: cfg.hw.wFifo }, { name: 's_fifo', width: cfg.sPortBits, depth: cfg.sFifo }] : [];

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
