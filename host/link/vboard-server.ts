/**
 * The virtual board as a server (`lutforge vboard`): one running Verilator board whose UART bytes are served on a TCP
 * port (one client at a time; a second is told it is busy and closed) or on a pty that any serial client can open.
 * The board keeps running between clients: a client that leaves mid-frame leaves a partial frame that the link's
 * receiver drops at the next FLAG (resynchronisation), and the next client starts with HELLO as always.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { SerialPort } from 'serialport';
import { InputError } from '../../generator/util/errors';
import { VBOARD_BUSY } from './tcp';
import type { ByteTransport } from './transport';

export interface ServeStats {
  clients: number;
  refused: number;
  bytesToBoard: number;
  bytesFromBoard: number;
}

export interface BoardServer {
  /** Where clients connect: `tcp:HOST:PORT` or the pty path. */
  readonly address: string;
  readonly stats: ServeStats;
  close(): Promise<void>;
}

/** Parses `HOST:PORT` for --tcp (port 0 = any free port). */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new InputError(`--tcp ${text}: expected HOST:PORT with PORT in 0..65535`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Serves `board` on a TCP port. Rejects with a clear error if the port is in use or the address is not local. */
export function serveTcp(board: ByteTransport, host: string, port: number, log: (msg: string) => void = () => undefined): Promise<BoardServer> {
  const stats: ServeStats = { clients: 0, refused: 0, bytesToBoard: 0, bytesFromBoard: 0 };
  let client: Socket | null = null;
  const sockets = new Set<Socket>();
  board.onData((d) => {
    stats.bytesFromBoard += d.length;
    if (client && !client.destroyed) client.write(d);
  });
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {
      /* a client that vanished: its 'close' follows */
    });
    const who = `${s.remoteAddress}:${s.remotePort}`;
    if (client) {
      stats.refused++;
      log(`refused ${who}: busy`);
      s.end(VBOARD_BUSY);
      return;
    }
    client = s;
    stats.clients++;
    s.setNoDelay(true);
    log(`client ${who} connected`);
    s.on('data', (b: Buffer) => {
      stats.bytesToBoard += b.length;
      board.write(new Uint8Array(b.buffer, b.byteOffset, b.length));
    });
    s.on('close', () => {
      if (client === s) client = null;
      log(`client ${who} left`);
    });
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(host, port, e)));
    server.listen({ host, port, exclusive: true }, () => {
      const a = server.address();
      const bound = typeof a === 'object' && a ? a.port : port;
      resolvePromise({
        address: `tcp:${host}:${bound}`,
        stats,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/**
 * Serves `board` on a pty: socat makes a pty pair and links `path` to one end; we hold the other end. Any serial
 * client opens `path` at any baud (a pty has no line rate). Refuses a path that exists or whose folder is missing
 * or not writable.
 */
export async function servePty(board: ByteTransport, path: string, log: (msg: string) => void = () => undefined): Promise<BoardServer> {
  const abs = checkPtyPath(path);
  const stats: ServeStats = { clients: 0, refused: 0, bytesToBoard: 0, bytesFromBoard: 0 };
  const { child, inner } = await startSocat(abs);
  const port = new SerialPort({ path: inner, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((r, j) => port.open((e) => (e ? j(new InputError(`--pty ${path}: cannot open the inner pty ${inner}: ${e.message}`)) : r())));
  board.onData((d) => {
    stats.bytesFromBoard += d.length;
    port.write(Buffer.from(d));
  });
  port.on('data', (b: Buffer) => {
    stats.bytesToBoard += b.length;
    board.write(new Uint8Array(b.buffer, b.byteOffset, b.length));
  });
  log(`serving on ${abs}`);
  return {
    address: abs,
    stats,
    close: async () => {
      await new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r()));
      await new Promise<void>((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      });
      if (isLink(abs)) unlinkSync(abs);
    },
  };
}

/** The absolute pty path, if it can be created there: its folder exists and is writable, and nothing is at the path. */
export function checkPtyPath(path: string): string {
  const abs = resolve(path);
  const dir = dirname(abs);
  if (!existsSync(dir)) throw new InputError(`--pty ${path}: cannot create it: folder ${dir} does not exist`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InputError(`--pty ${path}: cannot create it: folder ${dir} is not writable`);
  }
  if (existsSync(abs) || isLink(abs)) throw new InputError(`--pty ${path}: already exists (another vboard, or a file); remove it or pick another path`);
  return abs;
}

/** Fails with the same message serveTcp would if the address cannot be listened on (checked before a long build). */
export async function checkTcpFree(host: string, port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((r, j) => {
    server.once('error', (e: NodeJS.ErrnoException) => j(listenError(host, port, e)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => r()));
  });
}

function listenError(host: string, port: number, e: NodeJS.ErrnoException): Error {
  const why = e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.code === 'EACCES' ? 'permission denied' : e.message;
  return new InputError(`--tcp ${host}:${port}: cannot listen: ${why}`);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function startSocat(link: string, timeoutMs = 5000): Promise<{ child: ChildProcess; inner: string }> {
  return new Promise((resolvePromise, reject) => {
    // First address: the client's end, linked at `link` (socat removes the link when it exits); second: ours.
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${link}`, 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new InputError(`--pty ${link}: socat did not report its ptys within ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new InputError(`--pty: cannot start socat (apt-get install socat): ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new InputError(`--pty ${link}: socat exited (code ${code}): ${err.trim()}`));
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const names = [...err.matchAll(/PTY is (\S+)/g)].map((x) => x[1]!);
      if (names.length === 2) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        resolvePromise({ child, inner: names[1]! });
      }
    });
  });
}
