/**
 * `tcp:HOST:PORT[@baud]`: the link over a TCP socket, to a board served by `lutforge vboard --tcp` or a real board
 * behind a TCP serial bridge (ser2net and similar). The bytes are the same framed link bytes as on a UART; `baud`
 * (default 115200) only sizes the link's timeouts, like the line rate of a serial port.
 */
import { connect, type Socket } from 'node:net';
import { ConfigError } from '../../generator/util/errors';
import { TransportError, type ByteTransport } from './transport';

/** What `lutforge vboard` sends a client when another one is connected, before it closes the socket. */
export const VBOARD_BUSY = 'lutforge vboard: busy: another client is connected\n';

export function parseTcpSpec(spec: string): { host: string; port: number; baud: number } {
  const m = /^tcp:(\[[^\]]+\]|[^:@]+):(\d+)(?:@(\d+))?$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new ConfigError('device', "TCP devices are written 'tcp:HOST:PORT[@baud]' with PORT in 1..65535", spec);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, baud: m[3] ? Number(m[3]) : 115_200 };
}

export class TcpTransport implements ByteTransport {
  readonly name: string;
  private listener: ((d: Uint8Array) => void) | null = null;
  private closeListener: ((e: Error) => void) | null = null;
  private closing = false;
  /** The first bytes received, to recognise the server's busy reply. */
  private head = '';

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
    readonly baud: number,
  ) {
    this.name = `tcp:${host}:${port}`;
    socket.setNoDelay(true);
    socket.on('data', (b: Buffer) => {
      if (this.head.length < VBOARD_BUSY.length) this.head += b.toString('latin1', 0, Math.min(b.length, VBOARD_BUSY.length));
      this.listener?.(new Uint8Array(b.buffer, b.byteOffset, b.length));
    });
    socket.on('error', () => {
      /* reported by 'close' */
    });
    socket.on('close', () => {
      if (this.closing) return;
      const busy = this.head.startsWith(VBOARD_BUSY.slice(0, 20));
      this.closeListener?.(new TransportError(this.name, busy ? 'the board is busy: another client is connected to it' : 'the peer closed the connection'));
    });
  }

  static open(spec: string, timeoutMs = 5000): Promise<TcpTransport> {
    const { host, port, baud } = parseTcpSpec(spec);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError(`tcp:${host}:${port}`, `no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why = e.code === 'ECONNREFUSED' ? 'connection refused (is `lutforge vboard --tcp` or a serial bridge listening there?)' : e.message;
        reject(new TransportError(`tcp:${host}:${port}`, `cannot connect: ${why}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new TcpTransport(socket, host, port, baud));
      });
    });
  }

  write(data: Uint8Array): void {
    if (this.socket.destroyed) throw new TransportError(this.name, 'connection closed');
    this.socket.write(data);
  }

  onData(cb: (d: Uint8Array) => void): void {
    this.listener = cb;
  }

  /** Called once if the peer goes away (with the reason: busy board, closed connection). */
  onClose(cb: (e: Error) => void): void {
    this.closeListener = cb;
  }

  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 500).unref();
    });
  }
}
