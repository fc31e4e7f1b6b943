/**
 * `xdma:N[@DIR]`: an Alveo card through the Linux XDMA driver's character devices (DIR defaults to /dev):
 *   DIR/xdmaN_user     AXI-Lite registers: register word w at byte offset 4*w (pread/pwrite of 4 bytes)
 *   DIR/xdmaN_h2c_0    host-to-card DMA: pwrite at the card address
 *   DIR/xdmaN_c2h_0    card-to-host DMA: pread at the card address
 * Card address map (docs/protocol.md#xdma): memory word a at MEM_BASE + 4a; input channel k accepts bytes written at
 * STREAM_BASE + k*STREAM_STRIDE; output channel k returns up to the requested length (whole beats available) when
 * read there. No framing or CRC: PCIe is reliable.
 *
 * The virtual board (xdma-board.ts) serves the same three paths as FIFOs, because a plain file cannot answer a
 * read; on a FIFO each positional access travels as a record (op, offset, length, data) and its answer comes back
 * on `<path>.rsp`. Everything above the file layer is the same code for the card and the virtual board.
 */
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../generator/util/errors';
import { MEM_WORD_BYTES } from '../../generator/link/protocol';
import type { DeviceOps, OpOptions } from './ops';
import { TransportError } from './transport';

export const XDMA_MEM_BASE = 0n;
export const XDMA_STREAM_BASE = 0x1_0000_0000n;
export const XDMA_STREAM_STRIDE = 0x100_0000n;

export function parseXdmaSpec(spec: string): { index: number; dir: string } {
  const m = /^xdma:(\d+)(?:@(.+))?$/.exec(spec);
  if (!m) throw new ConfigError('device', "XDMA devices are written 'xdma:N[@DIR]'", spec);
  return { index: Number(m[1]), dir: m[2] ?? '/dev' };
}

export const xdmaPaths = (dir: string, n: number): { user: string; h2c: string; c2h: string } => ({
  user: path.join(dir, `xdma${n}_user`),
  h2c: path.join(dir, `xdma${n}_h2c_0`),
  c2h: path.join(dir, `xdma${n}_c2h_0`),
});

/** Positional access to one XDMA device node. */
interface PosFile {
  pread(offset: bigint, len: number, signal?: AbortSignal): Promise<Uint8Array>;
  pwrite(offset: bigint, data: Uint8Array, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

class CharDevice implements PosFile {
  constructor(private readonly fh: FileHandle) {}
  async pread(offset: bigint, len: number): Promise<Uint8Array> {
    const b = Buffer.alloc(len);
    const r = await this.fh.read(b, 0, len, Number(offset));
    return b.subarray(0, r.bytesRead);
  }
  async pwrite(offset: bigint, data: Uint8Array): Promise<void> {
    await this.fh.write(data, 0, data.length, Number(offset));
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Record form of pread/pwrite over a FIFO pair (virtual board only). Record: u8 op ('R'|'W'), u64 offset, u32 len, data. */
export class FifoDevice implements PosFile {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private chain: Promise<unknown> = Promise.resolve();
  private constructor(
    private readonly name: string,
    private readonly req: Socket,
    private readonly rsp: Socket,
  ) {
    rsp.on('data', (d: Buffer | string) => {
      this.buf = Buffer.concat([this.buf, Buffer.from(d)]);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(p: string): Promise<FifoDevice> {
    // Non-blocking pipe sockets: blocking FIFO reads would each hold a libuv pool thread.
    const rsp = pipeSocket(`${p}.rsp`, constants.O_RDONLY);
    const req = pipeSocket(p, constants.O_WRONLY);
    return new FifoDevice(p, req, rsp);
  }
  private async take(n: number, signal?: AbortSignal): Promise<Buffer> {
    while (this.buf.length < n) {
      if (signal?.aborted) throw new TransportError(`xdma(${path.basename(this.name)})`, 'virtual board did not answer before the deadline');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        const t = setTimeout(r, 50);
        t.unref();
      });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  private call(op: 'R' | 'W', offset: bigint, len: number, data: Uint8Array | null, signal?: AbortSignal): Promise<Buffer> {
    const run = async (): Promise<Buffer> => {
      const h = Buffer.alloc(13);
      h[0] = op.charCodeAt(0);
      h.writeBigUInt64LE(offset, 1);
      h.writeUInt32LE(len, 9);
      await new Promise<void>((res, rej) => this.req.write(data ? Buffer.concat([h, data]) : h, (e) => (e ? rej(e) : res())));
      const n = (await this.take(4, signal)).readUInt32LE(0);
      if (n === 0xffffffff) {
        const m = (await this.take(4, signal)).readUInt32LE(0);
        throw new Error((await this.take(m, signal)).toString('utf8'));
      }
      return Buffer.from(await this.take(n, signal));
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }
  async pread(offset: bigint, len: number, signal?: AbortSignal): Promise<Uint8Array> {
    return this.call('R', offset, len, null, signal);
  }
  async pwrite(offset: bigint, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.call('W', offset, data.length, data, signal);
  }
  async close(): Promise<void> {
    this.rsp.destroy();
    this.req.destroy();
  }
}

/** A FIFO opened non-blocking and wrapped in a net.Socket (libuv pipe handle). */
export function pipeSocket(p: string, flags: number): Socket {
  const fd = openSync(p, flags | constants.O_NONBLOCK);
  return new Socket({ fd, readable: (flags & 3) !== constants.O_WRONLY, writable: (flags & 3) !== constants.O_RDONLY });
}

async function openPos(p: string): Promise<PosFile> {
  const st = await stat(p).catch(() => null);
  if (!st) throw new TransportError(`xdma`, `${p} does not exist: install and load the XDMA driver (github.com/Xilinx/dma_ip_drivers, XDMA/linux-kernel: make install; modprobe xdma), check the card is programmed (lspci -d 10ee:), or start the virtual board`);
  if (st.isFIFO()) return FifoDevice.open(p);
  return new CharDevice(await open(p, 'r+'));
}

export class XdmaOps implements DeviceOps {
  readonly name: string;
  readonly chunk = 1 << 20;
  readonly maxPayload = 4096;
  private constructor(
    spec: string,
    private readonly user: PosFile,
    private readonly h2c: PosFile,
    private readonly c2h: PosFile,
  ) {
    this.name = spec;
  }

  static async open(spec: string): Promise<XdmaOps> {
    const { index, dir } = parseXdmaSpec(spec);
    const p = xdmaPaths(dir, index);
    const user = await openPos(p.user);
    const h2c = await openPos(p.h2c);
    const c2h = await openPos(p.c2h);
    return new XdmaOps(spec, user, h2c, c2h);
  }

  private guard<T>(what: string, p: Promise<T>, o: OpOptions): Promise<T> {
    if (!o.signal) return p;
    const signal = o.signal;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new TransportError(this.name, `${what} not completed before the deadline; is the card (or virtual board) alive?`));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async start(): Promise<void> {}
  configure(): void {}
  async readReg(addr: number, o: OpOptions = {}): Promise<number> {
    const b = await this.guard('register read', this.user.pread(BigInt(4 * addr), 4, o.signal), o);
    if (b.length !== 4) throw new TransportError(this.name, `register read at ${4 * addr} returned ${b.length} bytes`);
    return Buffer.from(b).readUInt32LE(0);
  }
  async writeReg(addr: number, value: number, o: OpOptions = {}): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    await this.guard('register write', this.user.pwrite(BigInt(4 * addr), b, o.signal), o);
  }
  async memWrite(addr: number, bytes: Uint8Array, o: OpOptions = {}): Promise<void> {
    await this.guard('h2c DMA', this.h2c.pwrite(XDMA_MEM_BASE + BigInt(addr * MEM_WORD_BYTES), bytes, o.signal), o);
  }
  async memRead(addr: number, words: number, o: OpOptions = {}): Promise<Uint8Array> {
    return this.guard('c2h DMA', this.c2h.pread(XDMA_MEM_BASE + BigInt(addr * MEM_WORD_BYTES), words * MEM_WORD_BYTES, o.signal), o);
  }
  async streamWrite(channel: number, bytes: Uint8Array, o: OpOptions = {}): Promise<void> {
    await this.guard('h2c stream', this.h2c.pwrite(XDMA_STREAM_BASE + BigInt(channel) * XDMA_STREAM_STRIDE, bytes, o.signal), o);
  }
  async streamRead(channel: number, maxBytes: number, o: OpOptions = {}): Promise<Uint8Array> {
    return this.guard('c2h stream', this.c2h.pread(XDMA_STREAM_BASE + BigInt(channel) * XDMA_STREAM_STRIDE, maxBytes, o.signal), o);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {
    await Promise.all([this.user.close(), this.h2c.close(), this.c2h.close()]);
  }
}
