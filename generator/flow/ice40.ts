/**
 * The open iCE40 flow from npm packages only: Yosys (@yowasp/yosys) -> nextpnr-ice40 -> icepack
 * (@yowasp/nextpnr-ice40). Reports resource use, the achieved Fmax per clock against the target, and returns the
 * .bin bitstream. Timing failure is reported, not hidden: `timingMet` is false and the caller refuses the build.
 */
import { runYosys } from '@yowasp/yosys';
import { runIcepack, runNextpnrIce40 } from '@yowasp/nextpnr-ice40';
import type { VerilogFile } from '../hdl';
import { classify, ICE40_MEMORY_ATTRS, type ResourceReport } from './synth';

export interface ClockTiming {
  clock: string;
  fmaxMhz: number;
  targetMhz: number;
  pass: boolean;
}

export interface Ice40Build {
  synth: ResourceReport;
  /** nextpnr's device utilisation: cell type -> [used, available]. */
  utilisation: Record<string, { used: number; available: number }>;
  clocks: ClockTiming[];
  timingMet: boolean;
  bin: Uint8Array;
  asc: string;
  log: string;
  seconds: { yosys: number; nextpnr: number; icepack: number };
}

const text = (x: unknown): string => (typeof x === 'string' ? x : new TextDecoder().decode(x as Uint8Array));

function sinkInto(acc: { log: string }) {
  return (d: Uint8Array | null) => {
    if (d) acc.log += new TextDecoder().decode(d);
  };
}

/** Parse nextpnr's "Max frequency for clock 'clk': 54.08 MHz (PASS at 12.00 MHz)" lines (the last report wins). */
export function parseFmax(log: string): ClockTiming[] {
  const by = new Map<string, ClockTiming>();
  for (const m of log.matchAll(/Max frequency for clock\s+'([^']+)':\s+([\d.]+) MHz \((PASS|FAIL) at ([\d.]+) MHz\)/g))
    by.set(m[1]!, { clock: m[1]!, fmaxMhz: Number(m[2]), pass: m[3] === 'PASS', targetMhz: Number(m[4]) });
  return [...by.values()];
}

export function parseUtilisation(log: string): Record<string, { used: number; available: number }> {
  const out: Record<string, { used: number; available: number }> = {};
  for (const m of log.matchAll(/^Info:\s+(\w+):\s+(\d+)\/\s*(\d+)\s+\d+%/gm)) out[m[1]!] = { used: Number(m[2]), available: Number(m[3]) };
  return out;
}

export async function buildIce40(
  files: readonly VerilogFile[],
  pcf: string,
  o: { top: string; device: string; package: string; freqMhz: number; seed?: number; afterSynth?: (r: ResourceReport) => void },
): Promise<Ice40Build> {
  const acc = { log: '' };
  const vfs: Record<string, string> = { 'top.pcf': pcf };
  for (const f of files) vfs[f.name] = f.text;
  const read = files.map((f) => `read_verilog ${f.name}`).join('; ');
  let t0 = performance.now();
  let ys: Record<string, unknown>;
  try {
    ys = (await runYosys(['-q', '-p', `${read}; ${ICE40_MEMORY_ATTRS}; synth_ice40 -dsp -spram -top ${o.top}; tee -q -o stat.json stat -json; write_json netlist.json`], vfs, {
      stdout: sinkInto(acc),
      stderr: sinkInto(acc),
    })) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`yosys synth_ice40 failed for ${o.top}: ${(e as Error).message}\n${acc.log.slice(-2000)}`);
  }
  const tYosys = (performance.now() - t0) / 1000;
  const stat = JSON.parse(text(ys['stat.json'])) as { design?: { num_cells_by_type?: Record<string, number> } };
  const cells = stat.design?.num_cells_by_type ?? {};
  const synth: ResourceReport = { target: 'ice40', top: o.top, luts: 0, ffs: 0, carry: 0, dsp: 0, bram: 0, lutram: 0, cells, seconds: tYosys };
  for (const [cell, n] of Object.entries(cells)) {
    const k = classify('ice40', cell);
    if (k) synth[k] += n;
  }
  o.afterSynth?.(synth);

  t0 = performance.now();
  const pnrLog = { log: '' };
  let pnr: Record<string, unknown>;
  const args = [`--${o.device}`, '--package', o.package, '--json', 'netlist.json', '--pcf', 'top.pcf', '--asc', 'top.asc', '--freq', String(o.freqMhz), '--seed', String(o.seed ?? 1), '--timing-allow-fail'];
  try {
    pnr = (await runNextpnrIce40(args, { 'netlist.json': text(ys['netlist.json']), 'top.pcf': pcf }, { stdout: sinkInto(pnrLog), stderr: sinkInto(pnrLog) })) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`nextpnr-ice40 failed: ${(e as Error).message}\n${pnrLog.log.slice(-3000)}`);
  }
  const tPnr = (performance.now() - t0) / 1000;
  const asc = text(pnr['top.asc']);
  t0 = performance.now();
  const packed = (await runIcepack(['top.asc', 'top.bin'], { 'top.asc': asc })) as Record<string, unknown>;
  const binRaw = packed['top.bin'];
  const bin = typeof binRaw === 'string' ? new TextEncoder().encode(binRaw) : (binRaw as Uint8Array);
  const tPack = (performance.now() - t0) / 1000;
  const clocks = parseFmax(pnrLog.log);
  return {
    synth,
    utilisation: parseUtilisation(pnrLog.log),
    clocks,
    timingMet: clocks.length > 0 && clocks.every((c) => c.pass),
    bin,
    asc,
    log: acc.log + pnrLog.log,
    seconds: { yosys: tYosys, nextpnr: tPnr, icepack: tPack },
  };
}
