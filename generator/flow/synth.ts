/**
 * Yosys synthesis through @yowasp/yosys (WebAssembly; no system Yosys needed) and a resource summary
 * per target family. The 2-bit x 8-bit products are written as selects in the RTL, so DSPs count only the
 * per-group scale multiplies.
 */
import { runYosys } from '@yowasp/yosys';
import { ConfigError } from '../util/errors';
import type { VerilogFile } from '../hdl';
import { ICE40_MEMORY_ATTRS } from './memory-names';

export { SPRAM_SUFFIX, ICE40_MEMORY_ATTRS } from './memory-names';

export const SYNTH_TARGETS = {
  xcup: { script: 'synth_xilinx -family xcup', family: 'xilinx', description: 'Xilinx UltraScale+ (Alveo U280 class)' },
  xcu: { script: 'synth_xilinx -family xcu', family: 'xilinx', description: 'Xilinx Kintex UltraScale (KU035 class)' },
  xc7: { script: 'synth_xilinx -family xc7', family: 'xilinx', description: 'Xilinx 7-series (Arty A7 class)' },
  ice40: { script: `${ICE40_MEMORY_ATTRS}; synth_ice40 -dsp -spram`, family: 'ice40', description: 'Lattice iCE40 UltraPlus (UP5K class)' },
  ecp5: { script: 'synth_ecp5', family: 'ecp5', description: 'Lattice ECP5 (ULX3S class)' },
} as const;
export type SynthTarget = keyof typeof SYNTH_TARGETS;

/** Cell type a boxed memory becomes (an opaque cell: its address and data logic stays, its storage is not mapped). */
export const BOXED_MEMORY_CELL = '$__lutforge_boxed_mem';

/**
 * Cells that end a timing path (flip-flops, block RAM, shift registers, DSP blocks: every multiplier the generators
 * build has its product registered inside the DSP), boxed memories and I/O buffers, which are not logic levels. `ltp -noff` then
 * counts the cells on the longest path that remains: LUTs, carry blocks and muxes (docs/cellnet.md#timing).
 */
const PATH_BOUNDARIES: Record<string, string[]> = {
  xilinx: ['FD*', 'RAMB*', 'SRL*', 'DSP48*', 'URAM*', '*BUF*', BOXED_MEMORY_CELL],
  ice40: ['SB_DFF*', 'SB_RAM40_4K', 'SB_SPRAM256KA', 'SB_MAC16', 'SB_IO', 'SB_GB*'],
  ecp5: ['TRELLIS_FF', 'DP16KD', 'PDPW16KD', 'MULT18X18D', 'ALU54B', 'TRELLIS_IO'],
};

/** The Yosys command reporting the longest register-to-register path of the mapped netlist. */
export function logicDepthCommand(family: string): string {
  return `ltp -noff * ${(PATH_BOUNDARIES[family] ?? []).map((t) => `t:${t} %d`).join(' ')}`;
}

/** Carry-chain cells: a hop through one is a few tens of ps, not a LUT level (docs/cellnet.md#timing). */
const CARRY_CELLS: Record<string, string> = { xilinx: 'CARRY*', ice40: 'SB_CARRY', ecp5: 'CCU2C' };

export interface LogicDepth {
  /** Cells on the longest register-to-register path (`ltp` length). */
  levels: number;
  /** Of those, carry-chain cells (CARRY4/CARRY8 segments); the rest are LUTs and muxes. */
  carry: number;
}

/**
 * Parse `ltp`'s "Longest topological path in M (length=N)" and the path it prints ("  k: signal (via cell)"),
 * counting the hops through cells named in `carryList` (`select -list` output, "module/cell" per line).
 */
export function parseLogicDepth(log: string, carryList = ''): LogicDepth | undefined {
  const m = /Longest topological path in \S+ \(length=(-?\d+)\):\n((?:\s+\d+: .*\n?)*)/.exec(log);
  if (!m) return undefined;
  const carryNames = new Set(carryList.split('\n').map((l) => l.trim().replace(/^[^/]*\//, '')).filter(Boolean));
  const via = [...m[2]!.matchAll(/\(via (.+)\)\s*$/gm)].map((v) => v[1]!.trim());
  return { levels: Number(m[1]), carry: via.filter((c) => carryNames.has(c) || carryNames.has(c.replace(/^\\/, ''))).length };
}

export function parseTarget(t: string): SynthTarget {
  if (!(t in SYNTH_TARGETS)) throw new ConfigError('target', `must be one of ${Object.keys(SYNTH_TARGETS).join(', ')}`, t);
  return t as SynthTarget;
}

export interface ResourceReport {
  target: SynthTarget;
  top: string;
  luts: number;
  ffs: number;
  carry: number;
  dsp: number;
  /** Block RAMs in the family's native unit: RAMB36 (RAMB18 = 0.5) / SB_RAM40_4K / DP16KD. */
  bram: number;
  /** Distributed RAM and shift-register cells (they also occupy LUT sites). */
  lutram: number;
  cells: Record<string, number>;
  /** Logic levels (LUT, carry and mux cells) on the longest path between registers of the mapped netlist. */
  logicLevels?: number;
  /** How many of those levels are carry-chain segments. */
  logicCarry?: number;
  seconds: number;
}

export function classify(family: string, cell: string): keyof Pick<ResourceReport, 'luts' | 'ffs' | 'carry' | 'dsp' | 'bram' | 'lutram'> | null {
  if (family === 'xilinx') {
    if (/^LUT[1-6]$/.test(cell)) return 'luts';
    if (/^FD[RSCPE]{2}$/.test(cell) || /^FD/.test(cell)) return 'ffs';
    if (/^CARRY/.test(cell)) return 'carry';
    if (/^DSP48/.test(cell)) return 'dsp';
    if (/^RAMB(18|36)/.test(cell)) return 'bram';
    if (/^(RAM\d+[MX]|RAM\d+M\d+|SRL)/.test(cell)) return 'lutram';
  } else if (family === 'ice40') {
    if (cell === 'SB_LUT4') return 'luts';
    if (/^SB_DFF/.test(cell)) return 'ffs';
    if (cell === 'SB_CARRY') return 'carry';
    if (cell === 'SB_MAC16') return 'dsp';
    if (cell === 'SB_RAM40_4K' || cell === 'SB_SPRAM256KA') return 'bram';
  } else if (family === 'ecp5') {
    if (cell === 'LUT4') return 'luts';
    if (cell === 'TRELLIS_FF') return 'ffs';
    if (cell === 'CCU2C') return 'carry';
    if (/^MULT18X18/.test(cell) || cell === 'ALU54B') return 'dsp';
    if (cell === 'DP16KD' || cell === 'PDPW16KD') return 'bram';
    if (cell === 'TRELLIS_DPR16X4') return 'lutram';
  }
  return null;
}

export interface SynthOptions {
  /**
   * Memories of the top module (IR names) to leave out of mapping (Xilinx targets only): right after proc each
   * becomes an opaque BOXED_MEMORY_CELL, so the logic around it is synthesised and counted but its storage is not
   * (the caller counts those bits as on-chip memory; docs/llm-engine.md#synthesis). Registers on their read data
   * stay flip-flops (a block RAM would absorb them). Warnings are not printed (-qq): less log for a long run.
   */
  boxMemories?: readonly string[];
  /**
   * Report the longest register-to-register path (`ltp`, after flattening; default true). Off for very large netlists:
   * on the 7B engine top it takes Yosys/WebAssembly past its 4 GB after synthesis itself has finished.
   */
  logicDepth?: boolean;
  /**
   * Map every adder to its own carry-chain adder (Xilinx targets only): synth_xilinx's coarse step without `alumacc`'s
   * merging of adder trees into $macc cells, which maccmap turns into carry-save trees of LUT full adders — about five
   * LUTs (plus MUXF7-9s) per operand bit for a 32-term sum, against one LUT and a carry bit per bit as carry-chain
   * adders, the way Vivado maps `+` (docs/llm-engine.md#synthesis).
   */
  carryChainAdders?: boolean;
}

/**
 * synth_xilinx's `coarse` step without `alumacc`: each $add / $sub is then techmapped to its own $alu. Its first
 * command (cmp2lut / cmp2lcu, comparisons to LUTs and lookahead-carry units) is left out too: on a quarter of the 7B
 * engine top's combinational logic it ran for more than 30 minutes, and comparisons then map like subtractions, to
 * carry chains.
 */
const XILINX_COARSE_NO_MACC = 'share; opt; memory -nomap; opt_clean';

/** The Yosys script: read, synthesise (with memories boxed between the coarse and memory-mapping steps), report. */
function synthScript(files: readonly VerilogFile[], top: string, target: SynthTarget, opts: SynthOptions): string {
  const t = SYNTH_TARGETS[target];
  const read = files.map((f) => `read_verilog ${f.name}`).join('; ');
  const box = opts.boxMemories ?? [];
  if (box.length && t.family !== 'xilinx') throw new ConfigError('boxMemories', 'boxing memories is supported on the Xilinx targets only', target);
  // boxed memories become opaque right after proc, before any memory pass sees them, and drop their (all-x)
  // INIT parameter: at 181 Mbit (the 7B engine's vector regions and KV cache) the memory passes otherwise take
  // Yosys/WebAssembly past its 2 GB heap
  if (opts.carryChainAdders && t.family !== 'xilinx') throw new ConfigError('carryChainAdders', 'is a Xilinx-target option', target);
  const sel = box.map((m) => `t:$mem_v2 ${top}/${m} %i`).join(' ');
  const run = (from: string, to: string) => `${t.script} -top ${top} -run ${from}:${to}`;
  // the rest of the script from `prepare` (split around coarse with carryChainAdders)
  const fromPrepare = opts.carryChainAdders ? `${run('prepare', 'coarse')}; ${XILINX_COARSE_NO_MACC}; ${run('map_memory', '')}` : run('prepare', '');
  const synth = box.length
    ? `${run('begin', 'prepare')}; proc; memory_collect; chtype -set ${BOXED_MEMORY_CELL} ${sel}; setparam -unset INIT t:${BOXED_MEMORY_CELL}; ${fromPrepare}`
    : opts.carryChainAdders
      ? `${run('begin', 'prepare')}; ${fromPrepare}`
      : `${t.script} -top ${top}`;
  const depth = opts.logicDepth === false ? '' : `; flatten; tee -q -o ltp.txt ${logicDepthCommand(t.family)}; tee -q -o carry.txt select -list t:${CARRY_CELLS[t.family] ?? 'CARRY*'}`;
  return `${read}; ${synth}; tee -q -o stat.json stat -json${depth}`;
}

export async function synthesize(files: readonly VerilogFile[], top: string, target: SynthTarget, opts: SynthOptions = {}): Promise<ResourceReport> {
  const t = SYNTH_TARGETS[target];
  const vfs: Record<string, string> = {};
  for (const f of files) vfs[f.name] = f.text;
  let log = '';
  const sink = (d: Uint8Array | null) => {
    if (d) log += new TextDecoder().decode(d);
  };
  const script = synthScript(files, top, target, opts);
  const t0 = performance.now();
  let out: Record<string, unknown>;
  try {
    // a boxed memory is a cell Yosys knows no ports of, so every bit its read data drives is reported as "used but
    // has no driver": millions of unique warnings on the 7B top, which Yosys keeps in memory until it runs out of
    // its 4 GB; -w turns them into plain (unprinted, unkept) log messages
    const quiet = opts.boxMemories?.length ? ['-qq', '-w', 'is used but has no driver'] : ['-q'];
    out = (await runYosys([...quiet, '-p', script], vfs, {
      stdout: sink,
      stderr: sink,
    })) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`yosys (${t.script}) failed for ${top}: ${(e as Error).message}\n${log.slice(-2000)}`);
  }
  const raw = out['stat.json'];
  if (raw === undefined) throw new Error(`yosys produced no statistics for ${top}\n${log.slice(-2000)}`);
  const stat = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw as Uint8Array)) as {
    design?: { num_cells_by_type?: Record<string, number> };
  };
  const cells = stat.design?.num_cells_by_type ?? {};
  const text = (k: string) => {
    const v = out[k];
    return v === undefined ? undefined : typeof v === 'string' ? v : new TextDecoder().decode(v as Uint8Array);
  };
  const ltp = text('ltp.txt');
  const depth = ltp === undefined ? undefined : parseLogicDepth(ltp, text('carry.txt'));
  const r: ResourceReport = {
    target,
    top,
    luts: 0,
    ffs: 0,
    carry: 0,
    dsp: 0,
    bram: 0,
    lutram: 0,
    cells,
    logicLevels: depth?.levels,
    logicCarry: depth?.carry,
    seconds: (performance.now() - t0) / 1000,
  };
  for (const [cell, n] of Object.entries(cells)) {
    const k = classify(t.family, cell);
    if (!k) continue;
    r[k] += k === 'bram' && /^RAMB18/.test(cell) ? n / 2 : n;
  }
  // a memory to box that proc removed is not an error (the counts are still right); say so
  const boxed = cells[BOXED_MEMORY_CELL] ?? 0;
  if (boxed !== (opts.boxMemories?.length ?? 0))
    process.stderr.write(`synth: ${boxed} of the ${opts.boxMemories?.length ?? 0} memories to box were found in ${top} after proc\n`);
  return r;
}
