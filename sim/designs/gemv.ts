/**
 * Drive the GEMV unit in Verilator: pack a job, stream it in with optional stalls, collect and unpack y.
 * Shared by the tests, the CLI (`lutforge sim gemv`, `demo`) and bench/gemv.ts.
 */
import { printDesign } from '../../generator/hdl';
import { gemvModule, packJob, unpackY, type GemvConfig, type GemvJobWords, type W2Matrix } from '../../generator/llm/gemv';
import { buildSim, type Sim, type StallSpec } from '../index';

export async function buildGemvSim(cfg: GemvConfig, opts: { trace?: boolean } = {}): Promise<Sim> {
  const module = gemvModule(cfg);
  const printed = printDesign(module);
  return buildSim({ iface: module.interface(), files: printed.files, trace: opts.trace });
}

export interface GemvRun {
  y: number[];
  cycles: number;
  /** Cycles from the first to the last weight beat, inclusive. */
  weightCycles: number;
  weightBeats: number;
  /** Cycle at which the last y beat left the unit. */
  lastOutputCycle: number;
}

export async function runGemvJob(
  sim: Sim,
  cfg: GemvConfig,
  m: W2Matrix,
  x: ArrayLike<number>,
  opts: { seed?: number; stall?: StallSpec; traceFile?: string } = {},
): Promise<GemvRun> {
  return runPackedGemvJob(sim, cfg, packJob(cfg, m, x), m.rows, opts);
}

/** Run an already packed job (benches time the simulation apart from the packing). */
export async function runPackedGemvJob(
  sim: Sim,
  cfg: GemvConfig,
  words: GemvJobWords,
  rows: number,
  opts: { seed?: number; stall?: StallSpec; traceFile?: string } = {},
): Promise<GemvRun> {
  const res = await sim.run({
    seed: opts.seed,
    stall: opts.stall,
    traceFile: opts.traceFile,
    inputs: { job: words.job, x: words.x, w: words.weights, s: words.scales },
    outputs: { y: words.yWords },
  });
  const w = res.streams.w!;
  const yBeats = res.outputs.y!;
  return {
    y: unpackY(cfg, yBeats.data, rows),
    cycles: res.cycles,
    weightCycles: w.firstCycle === null || w.lastCycle === null ? 0 : w.lastCycle - w.firstCycle + 1,
    weightBeats: w.beats,
    lastOutputCycle: yBeats.cycles[yBeats.cycles.length - 1] ?? 0,
  };
}
