/**
 * A ByteTransport to the TS device model (generator/link/model.ts) over an emulated serial line: bytes take
 * len x 10 / baud seconds each way plus a fixed latency, in order; the device files frames in its reorder buffer
 * as link_rx does (generator/link/model.ts) and sends one response at a time.
 * Optional seeded byte faults each way. Everything runs on setTimeout and performance.now(), so under fake timers
 * a run is fully deterministic (tests/host/link-model.test.ts).
 */
import { LinkDeviceModel } from '../../generator/link/model';
import { encodeFrame, FrameDecoder } from './codec';
import { FaultInjector, type FaultSpec } from './faults';
import type { ByteTransport } from './transport';

export interface ModelLineOptions {
  baud?: number;
  /** Line rate the host is told (sizes its timeouts); default `baud`. A higher one makes timeouts fire early. */
  declaredBaud?: number;
  /** One-way latency in ms on top of the line time (USB/pty buffering). */
  latencyMs?: number;
  faults?: FaultSpec;
}

export class ModelLine implements ByteTransport {
  readonly name = 'model';
  readonly baud: number;
  private readonly lineBaud: number;
  readonly toDevice: FaultInjector;
  readonly toHost: FaultInjector;
  private listener: ((d: Uint8Array) => void) | null = null;
  private readonly decoder: FrameDecoder;
  private downFree = 0;
  private upFree = 0;
  private execTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Good frames the device dropped (duplicates of held frames, control slot busy, too long). */
  overflows = 0;

  constructor(
    readonly model: LinkDeviceModel,
    private readonly opts: ModelLineOptions = {},
  ) {
    this.lineBaud = opts.baud ?? 115_200;
    this.baud = opts.declaredBaud ?? this.lineBaud;
    this.toDevice = new FaultInjector(opts.faults ?? {});
    this.toHost = new FaultInjector({ ...(opts.faults ?? {}), seed: (opts.faults?.seed ?? 1) + 7777 });
    this.decoder = new FrameDecoder((f) => this.commit(f), model.map.link.maxPayload + 8);
  }

  private byteMs(n: number): number {
    return (n * 10 * 1000) / this.lineBaud;
  }

  /** Schedules `d` on a line that is busy until `free`; returns when its last byte arrives. */
  private carry(d: Uint8Array, free: number, deliver: (d: Uint8Array) => void): number {
    const now = performance.now();
    const start = Math.max(now, free);
    const end = start + this.byteMs(d.length);
    setTimeout(() => !this.closed && deliver(d), end + (this.opts.latencyMs ?? 0) - now);
    return end;
  }

  write(data: Uint8Array): void {
    const d = this.toDevice.apply(data);
    this.downFree = this.carry(d, this.downFree, (x) => this.decoder.feed(x));
  }

  onData(cb: (d: Uint8Array) => void): void {
    this.listener = cb;
  }

  private commit(body: Uint8Array): void {
    if (!this.model.receive(body)) this.overflows++;
    this.execute();
  }

  /** The executor takes the next frame once the previous response has left. */
  private execute(): void {
    if (this.execTimer || this.closed) return;
    const wait = this.upFree - performance.now();
    if (wait > 0) {
      this.execTimer = setTimeout(() => {
        this.execTimer = null;
        this.execute();
      }, wait);
      return;
    }
    const r = this.model.next();
    if (!r) return;
    const resp = encodeFrame(r);
    this.upFree = this.carry(this.toHost.apply(resp), this.upFree, (x) => this.listener?.(x));
    this.execute();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.execTimer) clearTimeout(this.execTimer);
  }
}
