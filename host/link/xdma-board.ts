/**
 * The virtual XDMA card: a directory holding xdmaN_user, xdmaN_h2c_0 and xdmaN_c2h_0 as FIFOs (plus `.rsp` FIFOs for
 * answers), served by this process and bridged to a device (normally the Verilator virtual board behind the framed
 * link). Positional accesses are decoded with the card address map of xdma.ts.
 */
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { MEM_WORD_BYTES } from '../../generator/link/protocol';
import type { DeviceOps } from './ops';
import { XDMA_STREAM_BASE, XDMA_STREAM_STRIDE, pipeSocket, xdmaPaths } from './xdma';

type Handler = (op: 'R' | 'W', offset: bigint, len: number, data: Buffer) => Promise<Uint8Array>;

class FifoServer {
  private buf = Buffer.alloc(0);
  private busy = Promise.resolve();
  constructor(
    private readonly req: Socket,
    private readonly rsp: Socket,
    private readonly handler: Handler,
  ) {
    req.on('data', (d: Buffer | string) => {
      this.buf = Buffer.concat([this.buf, Buffer.from(d)]);
      this.busy = this.busy.then(() => this.drain());
    });
  }
  private async drain(): Promise<void> {
    for (;;) {
      if (this.buf.length < 13) return;
      const op = String.fromCharCode(this.buf[0]!) as 'R' | 'W';
      const offset = this.buf.readBigUInt64LE(1);
      const len = this.buf.readUInt32LE(9);
      const dataLen = op === 'W' ? len : 0;
      if (this.buf.length < 13 + dataLen) return;
      const data = Buffer.from(this.buf.subarray(13, 13 + dataLen));
      this.buf = this.buf.subarray(13 + dataLen);
      let out: Buffer;
      try {
        const r = await this.handler(op, offset, len, data);
        const h = Buffer.alloc(4);
        h.writeUInt32LE(r.length);
        out = Buffer.concat([h, Buffer.from(r)]);
      } catch (e) {
        const msg = Buffer.from((e as Error).message);
        const h = Buffer.alloc(8);
        h.writeUInt32LE(0xffffffff, 0);
        h.writeUInt32LE(msg.length, 4);
        out = Buffer.concat([h, msg]);
      }
      await new Promise<void>((res, rej) => this.rsp.write(out, (e) => (e ? rej(e) : res())));
    }
  }
  async close(): Promise<void> {
    this.req.destroy();
    this.rsp.destroy();
  }
}

export class XdmaVirtualBoard {
  private servers: FifoServer[] = [];
  private constructor(
    readonly dir: string,
    readonly index: number,
  ) {}

  /** Creates the FIFOs under dir and serves them; device ops run on `device` one access at a time. */
  static async serve(dir: string, index: number, device: DeviceOps): Promise<XdmaVirtualBoard> {
    await mkdir(dir, { recursive: true });
    const b = new XdmaVirtualBoard(dir, index);
    const p = xdmaPaths(dir, index);
    for (const f of [p.user, p.h2c, p.c2h]) {
      await rm(f, { force: true });
      await rm(`${f}.rsp`, { force: true });
      execFileSync('mkfifo', [f, `${f}.rsp`]);
    }
    const stream = (off: bigint): number => Number((off - XDMA_STREAM_BASE) / XDMA_STREAM_STRIDE);
    const handlers: Array<[string, Handler]> = [
      [
        p.user,
        async (op, off, len, data) => {
          if (len !== 4 || off % 4n) throw new Error(`xdma user: accesses must be 4 bytes at a multiple of 4 (got ${len} at ${off})`);
          if (op === 'R') {
            const v = await device.readReg(Number(off / 4n));
            const o = Buffer.alloc(4);
            o.writeUInt32LE(v);
            return o;
          }
          await device.writeReg(Number(off / 4n), data.readUInt32LE(0));
          return new Uint8Array(0);
        },
      ],
      [
        p.h2c,
        async (op, off, _len, data) => {
          if (op !== 'W') throw new Error('xdma h2c: read on a host-to-card channel');
          const writes: Promise<void>[] = [];
          if (off >= XDMA_STREAM_BASE) {
            for (let i = 0; i < data.length; i += device.chunk - 1) writes.push(device.streamWrite(stream(off), data.subarray(i, i + device.chunk - 1)));
          } else {
            const w0 = Number(off) / MEM_WORD_BYTES;
            const step = (device.chunk - 4) & ~3;
            for (let i = 0; i < data.length; i += step) writes.push(device.memWrite(w0 + i / MEM_WORD_BYTES, data.subarray(i, i + step)));
          }
          await Promise.all(writes);
          return new Uint8Array(0);
        },
      ],
      [
        p.c2h,
        async (op, off, len) => {
          if (op !== 'R') throw new Error('xdma c2h: write on a card-to-host channel');
          if (off >= XDMA_STREAM_BASE) return device.streamRead(stream(off), Math.min(len, device.maxPayload));
          const out = new Uint8Array(len);
          const per = Math.floor(Math.min(255 * 4, device.maxPayload) / 4) * 4;
          for (let i = 0; i < len; i += per) out.set(await device.memRead(Number(off) / 4 + i / 4, Math.min(per, len - i) / 4), i);
          return out;
        },
      ],
    ];
    for (const [f, h] of handlers) {
      const req = pipeSocket(f, constants.O_RDWR);
      const rsp = pipeSocket(`${f}.rsp`, constants.O_RDWR);
      b.servers.push(new FifoServer(req, rsp, h));
    }
    return b;
  }

  async close(): Promise<void> {
    for (const s of this.servers) await s.close();
    const p = xdmaPaths(this.dir, this.index);
    for (const f of [p.user, p.h2c, p.c2h]) {
      await rm(f, { force: true });
      await rm(`${f}.rsp`, { force: true });
    }
  }
}
