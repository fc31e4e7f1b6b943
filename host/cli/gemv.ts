import type { Command } from 'commander';
import { gemvConfig, gemvGolden, randomInt8, randomW2Matrix, type GemvConfig } from '../../generator/llm/gemv';
import { Rng } from '../../generator/util/rng';
import { buildGemvSim, runGemvJob, type GemvRun } from '../../sim/designs/gemv';
import { emit, parseIntOpt } from './common';
import { designParams } from './design-params';

export interface GemvCheck {
  config: GemvConfig;
  rows: number;
  cols: number;
  seed: number;
  stall: number;
  bitExact: boolean;
  mismatches: number;
  cycles: number;
  weightBeats: number;
  /** Weight words consumed per cycle while the weights streamed. */
  weightPortUtilisation: number;
  cacheHit: boolean;
  traceFile?: string;
}

/** Simulate one seeded random job in Verilator and compare every output with the golden model. */
export async function checkGemvInVerilator(
  params: Record<string, number>,
  job: { rows: number; cols: number; seed: number; stall: number; traceFile?: string },
): Promise<GemvCheck & { run: GemvRun }> {
  const cfg = gemvConfig(params);
  const rng = new Rng(job.seed);
  const m = randomW2Matrix(rng, cfg, job.rows, job.cols);
  const x = randomInt8(rng, job.cols);
  const sim = await buildGemvSim(cfg, { trace: Boolean(job.traceFile) });
  const run = await runGemvJob(sim, cfg, m, x, { seed: job.seed, stall: { default: job.stall }, traceFile: job.traceFile });
  const want = gemvGolden(cfg, m, x);
  const mismatches = want.filter((v, i) => v !== run.y[i]).length;
  return {
    config: cfg,
    ...job,
    bitExact: mismatches === 0 && run.y.length === want.length,
    mismatches,
    cycles: run.cycles,
    weightBeats: run.weightBeats,
    weightPortUtilisation: run.weightBeats / Math.max(1, run.weightCycles),
    cacheHit: sim.cacheHit,
    run,
  };
}

export function registerGemvSim(sim: Command, paramOptions: (c: Command) => Command): void {
  paramOptions(
    sim
      .command('gemv')
      .description('simulate a seeded random GEMV job in Verilator and check it bit for bit against the golden model')
      .option('--rows <n>', 'matrix rows', '256')
      .option('--cols <n>', 'matrix columns', '1000')
      .option('--seed <n>', 'seed for the job and the stalls', '1')
      .option('--stall <p>', 'probability of a stall on each stream side per cycle', '0.2')
      .option('--trace <file.fst>', 'write an FST waveform')
      .option('--json', 'print one JSON object', false),
  ).action(async (opts: Record<string, string | boolean | undefined>) => {
    const stall = Number(opts.stall);
    if (!(stall >= 0 && stall < 1)) throw new Error(`--stall: '${opts.stall}' must be a probability in [0, 1)`);
    const r = await checkGemvInVerilator(designParams('gemv', opts), {
      rows: parseIntOpt('--rows', String(opts.rows)),
      cols: parseIntOpt('--cols', String(opts.cols)),
      seed: parseIntOpt('--seed', String(opts.seed)),
      stall,
      traceFile: typeof opts.trace === 'string' ? opts.trace : undefined,
    });
    const { run: _run, ...result } = r;
    emit(opts, result, () =>
      [
        `GEMV ${r.rows}x${r.cols} (lanes=${r.config.lanes} simd=${r.config.simd} group=${r.config.group}), stalls ${r.stall}, seed ${r.seed}`,
        `  ${r.bitExact ? 'bit-exact with the golden model' : `MISMATCH in ${r.mismatches} of ${r.rows} outputs`}`,
        `  ${r.cycles} cycles, ${r.weightBeats} weight words, weight-port utilisation ${r.weightPortUtilisation.toFixed(4)}${r.traceFile ? `, trace ${r.traceFile}` : ''}`,
      ].join('\n'),
    );
    if (!r.bitExact) process.exitCode = 1;
  });
}
