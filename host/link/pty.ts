/**
 * A socat pty pair and a byte bridge from one end to a device-side ByteTransport (the virtual board), so the host
 * can use the real serial stack (serialport on the other end) without hardware. Optional fault injection and
 * line-rate pacing (a pty has no baud rate of its own) sit in the bridge.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SerialPort } from 'serialport';
import { FaultInjector, type FaultSpec } from './faults';
import { TransportError, type ByteTransport } from './transport';

export class PtyPair {
  private constructor(
    private readonly child: ChildProcess,
    readonly host: string,
    readonly device: string,
  ) {}

  static open(timeoutMs = 5000): Promise<PtyPair> {
    return new Promise((resolve, reject) => {
      const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`socat did not report two ptys within ${timeoutMs} ms: ${err}`));
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start socat (install it: scripts/setup.mjs): ${e.message}`));
      });
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const names = [...err.matchAll(/PTY is (\S+)/g)].map((x) => x[1]!);
        if (names.length === 2) {
          clearTimeout(timer);
          child.stderr!.removeAllListeners('data');
          child.stderr!.resume();
          resolve(new PtyPair(child, names[0]!, names[1]!));
        }
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill();
    });
  }
}

/** Releases bytes at most at baud/10 bytes per second (8N1), in order. */
export class Pacer {
  private q: Uint8Array[] = [];
  private qBytes = 0;
  private credit = 0;
  private last = performance.now();
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly bytesPerSecond: number,
    private readonly out: (d: Uint8Array) => void,
  ) {}
  push(d: Uint8Array): void {
    if (!this.bytesPerSecond) return this.out(d);
    this.q.push(d);
    this.qBytes += d.length;
    this.tick();
  }
  private tick(): void {
    const now = performance.now();
    this.credit = Math.min(this.credit + ((now - this.last) / 1000) * this.bytesPerSecond, Math.max(64, this.bytesPerSecond / 100));
    this.last = now;
    let n = Math.floor(this.credit);
    const parts: Uint8Array[] = [];
    while (n > 0 && this.q.length) {
      const h = this.q[0]!;
      if (h.length <= n) {
        parts.push(h);
        this.q.shift();
        n -= h.length;
        this.credit -= h.length;
        this.qBytes -= h.length;
      } else {
        parts.push(h.subarray(0, n));
        this.q[0] = h.subarray(n);
        this.credit -= n;
        this.qBytes -= n;
        n = 0;
      }
    }
    if (parts.length) this.out(Buffer.concat(parts));
    if (this.q.length && !this.timer)
      this.timer = setTimeout(() => {
        this.timer = null;
        this.tick();
      }, 2);
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export interface BridgeOptions {
  faults?: FaultSpec;
  /** Emulated line rate in bit/s (0 = as fast as the pty goes). */
  baud?: number;
}

/** Bridges the device end of a pty pair to a device ByteTransport, byte for byte. */
export class PtyBridge {
  readonly toDevice: FaultInjector;
  readonly toHost: FaultInjector;
  private readonly pacers: Pacer[] = [];
  private constructor(
    private readonly port: SerialPort,
    private readonly device: ByteTransport,
    opts: BridgeOptions,
  ) {
    this.toDevice = new FaultInjector(opts.faults ?? {});
    this.toHost = new FaultInjector({ ...(opts.faults ?? {}), seed: (opts.faults?.seed ?? 1) + 7777 });
    const bps = (opts.baud ?? 0) / 10;
    const down = new Pacer(bps, (d) => device.write(this.toDevice.apply(d)));
    const up = new Pacer(bps, (d) => port.write(Buffer.from(this.toHost.apply(d))));
    this.pacers.push(down, up);
    port.on('data', (b: Buffer) => down.push(new Uint8Array(b)));
    device.onData((d) => up.push(d));
  }

  static open(ptyPath: string, device: ByteTransport, opts: BridgeOptions = {}): Promise<PtyBridge> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path: ptyPath, baudRate: 115_200, autoOpen: false });
      port.open((err) => (err ? reject(new TransportError(`pty:${ptyPath}`, err.message)) : resolve(new PtyBridge(port, device, opts))));
    });
  }

  async close(): Promise<void> {
    for (const p of this.pacers) p.stop();
    await new Promise<void>((r) => (this.port.isOpen ? this.port.close(() => r()) : r()));
  }
}
