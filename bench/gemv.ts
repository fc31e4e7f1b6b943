/**
 * GEMV throughput at a U280-like configuration: a 4096x4096 W2 matrix in Verilator.
 * One 512-bit weight port = one U280 HBM pseudo-channel at 225 MHz (14.4 GB/s); 32 such units fill all 32 channels.
 * Prints MAC utilisation = useful MACs / (cycles x lanes x simd) and weight-port utilisation =
 * weight bits consumed / (cycles x port width), with and without injected stalls, and simulated cycles per second.
 */
import { gemvConfig, gemvGolden, packJob, randomInt8, randomW2Matrix, type GemvParams } from '../generator/llm/gemv';
import { Rng } from '../generator/util/rng';
import { buildGemvSim, runPackedGemvJob } from '../sim/designs/gemv';
import { fmt, report, table } from './table';

const CLOCK_MHZ = 225;

export async function main(argv: string[]): Promise<void> {
  const size = Number(argv.find((a) => a.startsWith('--size='))?.slice(7) ?? 4096);
  const params: Partial<GemvParams> = { lanes: 16, simd: 16, group: 64, maxCols: size, maxRows: size };
  const cfg = gemvConfig(params);
  const tBuild = performance.now();
  const sim = await buildGemvSim(cfg);
  const buildSeconds = (performance.now() - tBuild) / 1000;
  const rng = new Rng(42);
  const m = randomW2Matrix(rng, cfg, size, size);
  const x = randomInt8(rng, size);
  const golden = gemvGolden(cfg, m, x);
  const words = packJob(cfg, m, x);
  const rows: Array<Record<string, number | string | boolean>> = [];
  for (const [label, stall] of [
    ['no stalls', 0],
    ['10% stalls on every stream', 0.1],
  ] as const) {
    const t0 = performance.now();
    const run = await runPackedGemvJob(sim, cfg, words, size, { seed: 1, stall: { default: stall } });
    const wall = (performance.now() - t0) / 1000;
    const usefulMacs = size * size;
    // the whole job: x load, weight streaming, pipeline drain
    const cycles = run.lastOutputCycle + 1;
    rows.push({
      case: label,
      bitExact: JSON.stringify(run.y) === JSON.stringify(golden),
      cycles,
      us: cycles / CLOCK_MHZ,
      macUtilisation: usefulMacs / (cycles * cfg.lanes * cfg.simd),
      weightPortUtilisation: (usefulMacs * 2) / (cycles * cfg.weightPortBits),
      streamingWeightPortUtilisation: run.weightBeats / run.weightCycles,
      simCyclesPerSecond: run.cycles / wall,
    });
  }
  const json = { bench: 'gemv', clockMHz: CLOCK_MHZ, rows: size, cols: size, config: cfg, buildSeconds, results: rows };
  report(argv, json, () =>
    [
      `GEMV ${size}x${size}, lanes=${cfg.lanes} simd=${cfg.simd} group=${cfg.group}: ${cfg.weightPortBits}-bit weight port, ${cfg.scalePortBits}-bit scale port, at ${CLOCK_MHZ} MHz`,
      table(
        ['case', 'bit-exact', 'cycles', `µs @${CLOCK_MHZ}MHz`, 'MAC util', 'weight-port util', 'util while streaming', 'sim cycles/s'],
        rows.map((r) => [String(r.case), String(r.bitExact), r.cycles as number, r.us as number, r.macUtilisation as number, r.weightPortUtilisation as number, r.streamingWeightPortUtilisation as number, Math.round(r.simCyclesPerSecond as number)]),
      ),
      `targets: >= 0.95 for both utilisations without stalls (FlightLLM 0.66, llama-fpga 0.85, Hummingbird 0.94 of bandwidth)`,
      `Verilator build ${fmt(buildSeconds)} s (0 when cached)`,
    ].join('\n'),
  );
}
