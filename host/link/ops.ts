/**
 * Device operations, one interface for every transport: the framed link (sim, serial) implements them with
 * requests; XDMA implements them with positional reads and writes on its character devices.
 */
import { MEM_WORD_BYTES, REQ } from '../../generator/link/protocol';
import { parseLinkCaps } from '../../generator/regmap/regmap';
import { Link, type LinkOptions } from './link';
import type { ByteTransport } from './transport';

export interface OpOptions {
  signal?: AbortSignal;
}

export interface DeviceOps {
  readonly name: string;
  /** Payload bytes per bulk call (adapts to loss on noisy lines). */
  readonly chunk: number;
  readonly maxPayload: number;
  start(o?: OpOptions): Promise<void>;
  /** Adopt the device's limits from its link_caps register. */
  configure(linkCaps: number): void;
  readReg(addr: number, o?: OpOptions): Promise<number>;
  writeReg(addr: number, value: number, o?: OpOptions): Promise<void>;
  /** Word address, whole words (bytes.length % 4 == 0, <= maxPayload). */
  memWrite(addr: number, bytes: Uint8Array, o?: OpOptions): Promise<void>;
  memRead(addr: number, words: number, o?: OpOptions): Promise<Uint8Array>;
  streamWrite(channel: number, bytes: Uint8Array, o?: OpOptions): Promise<void>;
  /** Whole beats currently available, at most maxBytes. */
  streamRead(channel: number, maxBytes: number, o?: OpOptions): Promise<Uint8Array>;
  /** Waits for every write to be acknowledged. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** DeviceOps over the framed link protocol. Writes are pipelined: their promises settle when acknowledged. */
export class FramedOps implements DeviceOps {
  readonly link: Link;
  constructor(transport: ByteTransport, opts: LinkOptions = {}) {
    this.link = new Link(transport, opts);
  }
  get name(): string {
    return this.link.name;
  }
  get chunk(): number {
    return this.link.chunk;
  }
  get maxPayload(): number {
    return this.link.maxPayload;
  }
  async start(o: OpOptions = {}): Promise<void> {
    await this.link.request(REQ.HELLO, new Uint8Array(0), o);
  }
  configure(linkCaps: number): void {
    this.link.configure(parseLinkCaps(linkCaps));
  }
  async readReg(addr: number, o: OpOptions = {}): Promise<number> {
    const r = await this.link.request(REQ.REG_READ, Uint8Array.from(u16(addr)), o);
    if (r.payload.length !== 4) throw new Error(`link ${this.name}: REG_READ answered ${r.payload.length} bytes, expected 4`);
    return Buffer.from(r.payload).readUInt32LE(0);
  }
  async writeReg(addr: number, value: number, o: OpOptions = {}): Promise<void> {
    await this.link.request(REQ.REG_WRITE, Uint8Array.from([...u16(addr), ...u32(value >>> 0)]), o);
  }
  async memWrite(addr: number, bytes: Uint8Array, o: OpOptions = {}): Promise<void> {
    const p = new Uint8Array(4 + bytes.length);
    p.set(u32(addr), 0);
    p.set(bytes, 4);
    await this.link.request(REQ.MEM_WRITE, p, o);
  }
  async memRead(addr: number, words: number, o: OpOptions = {}): Promise<Uint8Array> {
    const r = await this.link.request(REQ.MEM_READ, Uint8Array.from([...u32(addr), words]), o);
    if (r.payload.length !== words * MEM_WORD_BYTES) throw new Error(`link ${this.name}: MEM_READ of ${words} words answered ${r.payload.length} bytes`);
    return r.payload;
  }
  async streamWrite(channel: number, bytes: Uint8Array, o: OpOptions = {}): Promise<void> {
    const p = new Uint8Array(1 + bytes.length);
    p[0] = channel;
    p.set(bytes, 1);
    await this.link.request(REQ.STREAM_WRITE, p, o);
  }
  async streamRead(channel: number, maxBytes: number, o: OpOptions = {}): Promise<Uint8Array> {
    const r = await this.link.request(REQ.STREAM_READ, Uint8Array.from([channel, ...u16(maxBytes)]), o);
    return r.payload;
  }
  flush(): Promise<void> {
    return this.link.idle();
  }
  close(): Promise<void> {
    return this.link.close();
  }
}
