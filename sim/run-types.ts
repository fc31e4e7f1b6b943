/** Options and results of a simulator run (sim/run.ts); shared with the wire protocol (sim/wire.ts). */

/** Stall probability per stream name; `default` applies to every stream not named. Each in [0, 1). */
export type StallSpec = Record<string, number | undefined> & { default?: number };

export interface StartOptions {
  seed?: number;
  stall?: StallSpec;
  /** Write an FST waveform here (needs a build with trace: true). */
  traceFile?: string;
  /** Hard limit on simulated cycles (after reset). Default 1e8. */
  maxCycles?: number;
  /** Watchdog: cycles without any stream transfer while work is pending. Default 1e6. */
  idleCycles?: number;
  /** Cycles reset is held before cycle 0. Default 4. */
  resetCycles?: number;
  /** Record the cycle of every input transfer (inputCycles()). Default false. */
  stampInputs?: boolean;
  /** Simulator stderr ($display etc.): kept as a tail for errors ('tail', default), also copied to our stderr ('inherit'), or appended to a file path. */
  log?: 'tail' | 'inherit' | string;
}

export interface Beats {
  data: bigint[];
  /** Cycle of each transfer (cycle 0 = first cycle after reset release). */
  cycles: number[];
  /** Present when the stream has a last signal. */
  last?: boolean[];
}

export interface StreamStats {
  dir: 'in' | 'out';
  beats: number;
  firstCycle: number | null;
  lastCycle: number | null;
}

export interface SimStats {
  cycles: number;
  streams: Record<string, StreamStats>;
}

export interface PushOptions {
  /** Per-beat last flags, or true = last on the final beat of this push only. */
  last?: boolean[] | boolean;
  /** More beats will follow: the simulator runs on this data now and pauses when it runs dry (streaming mode). */
  more?: boolean;
}
