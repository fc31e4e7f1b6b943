/** `serial:PATH[@baud]`: a UART through the serialport package (iCEBreaker, Arty, ULX3S, or a socat pty). */
import { SerialPort } from 'serialport';
import { ConfigError } from '../../generator/util/errors';
import { TransportError, type ByteTransport } from './transport';

export function parseSerialSpec(spec: string): { path: string; baud: number } {
  const m = /^serial:([^@]+)(?:@(\d+))?$/.exec(spec);
  if (!m) throw new ConfigError('device', "serial devices are written 'serial:PATH[@baud]'", spec);
  return { path: m[1]!, baud: m[2] ? Number(m[2]) : 115_200 };
}

export class SerialTransport implements ByteTransport {
  readonly name: string;
  private constructor(
    private readonly port: SerialPort,
    readonly path: string,
    readonly baud: number,
  ) {
    this.name = `serial:${path}@${baud}`;
  }

  static open(path: string, baud: number): Promise<SerialTransport> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
      port.open((err) => {
        if (err) reject(new TransportError(`serial:${path}@${baud}`, `cannot open: ${err.message}`));
        else resolve(new SerialTransport(port, path, baud));
      });
    });
  }

  write(data: Uint8Array): void {
    this.port.write(Buffer.from(data));
  }

  onData(cb: (d: Uint8Array) => void): void {
    this.port.on('data', (b: Buffer) => cb(new Uint8Array(b.buffer, b.byteOffset, b.length)));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.close(() => resolve());
    });
  }
}
