/**
 * Fault injection between host and device: each byte is independently corrupted, dropped or duplicated with the
 * given probabilities (seeded, generator/util/rng.ts). Wraps any ByteTransport, both directions.
 */
import { Rng } from '../../generator/util/rng';
import type { ByteTransport } from './transport';

export interface FaultSpec {
  corrupt?: number;
  drop?: number;
  duplicate?: number;
  seed?: number;
}

export interface FaultCounts {
  corrupted: number;
  dropped: number;
  duplicated: number;
}

/** Applies faults to a byte chunk. */
export class FaultInjector {
  private readonly rng: Rng;
  readonly counts: FaultCounts = { corrupted: 0, dropped: 0, duplicated: 0 };
  constructor(private readonly spec: FaultSpec) {
    this.rng = new Rng(spec.seed ?? 1);
  }
  apply(d: Uint8Array): Uint8Array {
    const { corrupt = 0, drop = 0, duplicate = 0 } = this.spec;
    if (!corrupt && !drop && !duplicate) return d;
    const out: number[] = [];
    for (const b of d) {
      const r = this.rng.next();
      if (r < drop) {
        this.counts.dropped++;
        continue;
      }
      if (r < drop + corrupt) {
        this.counts.corrupted++;
        out.push(b ^ (1 << Math.floor(this.rng.next() * 8)));
        continue;
      }
      out.push(b);
      if (r < drop + corrupt + duplicate) {
        this.counts.duplicated++;
        out.push(b);
      }
    }
    return Uint8Array.from(out);
  }
}

export class FaultyTransport implements ByteTransport {
  readonly toDevice: FaultInjector;
  readonly toHost: FaultInjector;
  constructor(
    private readonly inner: ByteTransport,
    spec: FaultSpec,
  ) {
    this.toDevice = new FaultInjector(spec);
    this.toHost = new FaultInjector({ ...spec, seed: (spec.seed ?? 1) + 7777 });
  }
  get name(): string {
    return this.inner.name;
  }
  get baud(): number {
    return this.inner.baud;
  }
  write(d: Uint8Array): void {
    this.inner.write(this.toDevice.apply(d));
  }
  onData(cb: (d: Uint8Array) => void): void {
    this.inner.onData((d) => cb(this.toHost.apply(d)));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
