import type { ModuleInterface } from '../generator/hdl/interface';
import { buildSimBinary, type BuildOptions, type BuildResult } from './build';
import type { Word } from './codec';
import { SimRun, type Beats, type SimStats, type StartOptions } from './run';
import type { VerilogFile } from './tools';

/** Public API of the Verilator driver. See docs/sim.md. */

export type { VerilogFile } from './tools';
export type { Word } from './codec';
export type { Beats, SimStats, StreamStats, StartOptions, StallSpec, PushOptions } from './run';
export { SimRun } from './run';
export type { BuildOptions, BuildResult } from './build';

export type StreamInput = readonly Word[] | Uint32Array | { data: readonly Word[] | Uint32Array; last?: boolean[] | boolean };

export interface RunOptions extends StartOptions {
  set?: Record<string, Word>;
  inputs?: Record<string, StreamInput>;
  /** Beats to collect per output stream. */
  outputs?: Record<string, number>;
}

export interface RunResult extends SimStats {
  outputs: Record<string, Beats>;
}

export class Sim {
  constructor(
    readonly iface: ModuleInterface,
    readonly build: BuildResult,
    readonly traced: boolean,
  ) {}

  get binary(): string {
    return this.build.binary;
  }
  get cacheHit(): boolean {
    return this.build.cacheHit;
  }

  /** Starts a simulator process. Reset is applied when the first run/collect/step/finish happens. */
  async start(opts: StartOptions = {}): Promise<SimRun> {
    if (opts.traceFile && !this.traced) throw new Error(`sim '${this.iface.name}': traceFile needs a build with trace: true`);
    return new SimRun(this.build.binary, this.iface, opts);
  }

  /** One shot: set ports, push every input, collect the requested outputs, finish. */
  async run(opts: RunOptions): Promise<RunResult> {
    const run = await this.start(opts);
    try {
      for (const [k, v] of Object.entries(opts.set ?? {})) run.set(k, v);
      const pushes: Promise<void>[] = [];
      for (const [k, v] of Object.entries(opts.inputs ?? {})) {
        if (Array.isArray(v) || v instanceof Uint32Array) pushes.push(run.push(k, v as readonly Word[] | Uint32Array));
        else {
          const s = v as { data: readonly Word[] | Uint32Array; last?: boolean[] | boolean };
          pushes.push(run.push(k, s.data, { last: s.last }));
        }
      }
      const names = Object.keys(opts.outputs ?? {});
      const collected = Promise.all(names.map((k) => run.collect(k, opts.outputs![k]!)));
      await Promise.all(pushes);
      const beats = await collected;
      const stats = await run.finish();
      const outputs: Record<string, Beats> = {};
      names.forEach((k, i) => (outputs[k] = beats[i]!));
      return { ...stats, outputs };
    } finally {
      run.kill();
    }
  }
}

export interface BuildSimOptions extends Omit<BuildOptions, 'iface' | 'files'> {
  iface: ModuleInterface;
  files: VerilogFile[];
}

/** Builds (or reuses from .cache/sim) the Verilated simulator of a design. */
export async function buildSim(opts: BuildSimOptions): Promise<Sim> {
  const build = await buildSimBinary(opts);
  return new Sim(opts.iface, build, !!opts.trace);
}
