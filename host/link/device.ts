/**
 * The device API: identify the design, then registers by name, memory (pack -> transfer -> readback-verify) and
 * stream channels as beats. Every call is async and takes an AbortSignal. Single requests get a default deadline;
 * pipelined bulk writes rely on the link's no-progress detection (retransmission rounds), so a long transfer over
 * a noisy line is not cut short while it still advances. Either way a silent device ends in a TransportError
 * naming the transport.
 */
import { MEM_WORD_BYTES, PROTOCOL_REVISION } from '../../generator/link/protocol';
import { channel, reg, type ChannelDesc, type RegMap } from '../../generator/regmap/regmap';
import type { DeviceOps, OpOptions } from './ops';
import type { Progress } from './progress';
import { TransportError } from './transport';

export class DeviceMismatchError extends Error {
  constructor(
    message: string,
    /** What the device reported, so a caller can say which build it runs. */
    readonly reported?: { designId: number; version: number },
  ) {
    super(message);
    this.name = 'DeviceMismatchError';
  }
}

export interface DeviceOptions {
  /** Deadline for each call that has no signal of its own (ms). */
  timeoutMs?: number;
}

export interface Beats {
  data: bigint[];
  last: boolean[];
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

export class Device {
  private constructor(
    readonly ops: DeviceOps,
    readonly map: RegMap,
    private readonly timeoutMs: number,
  ) {}

  get transport(): string {
    return this.ops.name;
  }

  /** Opens the link, checks design id and version against `map`, adopts the device's link limits. */
  static async open(ops: DeviceOps, map: RegMap, opts: DeviceOptions = {}): Promise<Device> {
    const d = new Device(ops, map, opts.timeoutMs ?? 30_000);
    try {
      await ops.start(d.o());
      const id = await ops.readReg(reg(map, 'design_id').addr, d.o());
      const version = await ops.readReg(reg(map, 'version').addr, d.o());
      if (id !== map.designId)
        throw new DeviceMismatchError(`device on ${ops.name} reports design id ${hex(id)}, not ${hex(map.designId)} ('${map.design}'); refusing to drive it (wrong bitstream or wrong --device?)`, { designId: id, version });
      if (version !== map.version)
        throw new DeviceMismatchError(
          `device on ${ops.name} runs '${map.design}' version ${hex(version)}, host expects ${hex(map.version)} (this register layout with link protocol revision ${PROTOCOL_REVISION}, selective repeat); rebuild the bitstream or the host register map. A bitstream built before link protocol revision ${PROTOCOL_REVISION} cannot be driven by this host (docs/protocol.md#reliability)`,
          { designId: id, version },
        );
      ops.configure(await ops.readReg(reg(map, 'link_caps').addr, d.o()));
    } catch (e) {
      await ops.close().catch(() => undefined);
      throw e;
    }
    return d;
  }

  private o(x: OpOptions = {}): OpOptions {
    return { signal: x.signal ?? AbortSignal.timeout(this.timeoutMs) };
  }

  async readReg(name: string, o: OpOptions = {}): Promise<number> {
    return this.ops.readReg(reg(this.map, name).addr, this.o(o));
  }

  async writeReg(name: string, value: number, o: OpOptions = {}): Promise<void> {
    const r = reg(this.map, name);
    if (r.access !== 'rw') throw new Error(`register ${name} of ${this.map.design} is ${r.access}, not writable`);
    if (r.width < 32 && (value < 0 || value >= 2 ** r.width)) throw new RangeError(`register ${name} is ${r.width} bits; ${value} does not fit`);
    await this.ops.writeReg(r.addr, value, this.o(o));
  }

  /** Writes a register-mapped core port of any width (split over its 32-bit parts). */
  async writePort(port: string, value: bigint, o: OpOptions = {}): Promise<void> {
    const parts = this.map.registers.filter((r) => r.port?.name === port).sort((a, b) => a.port!.part - b.port!.part);
    if (!parts.length) throw new Error(`design ${this.map.design} has no register-mapped port '${port}'`);
    for (const r of parts) await this.writeReg(r.name, Number((value >> BigInt(32 * r.port!.part)) & ((1n << BigInt(r.width)) - 1n)), o);
  }

  async readPort(port: string, o: OpOptions = {}): Promise<bigint> {
    const parts = this.map.registers.filter((r) => r.port?.name === port);
    if (!parts.length) throw new Error(`design ${this.map.design} has no register-mapped port '${port}'`);
    let v = 0n;
    for (const r of parts) v |= BigInt(await this.readReg(r.name, o)) << BigInt(32 * r.port!.part);
    return v;
  }

  /** Transfers words to memory, then (unless verify is false) reads them back and compares. */
  async writeMemory(addr: number, words: Uint32Array, opts: OpOptions & { verify?: boolean; progress?: Progress } = {}): Promise<{ bytes: number; seconds: number; verifySeconds: number }> {
    if (!this.map.memory) throw new Error(`design ${this.map.design} has no memory bus`);
    const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    const total = bytes.length;
    const t0 = performance.now();
    await sendPipelined(
      total,
      Math.max(MEM_WORD_BYTES, (this.ops.chunk - 4) & ~3),
      (off, n) => this.ops.memWrite(addr + off / MEM_WORD_BYTES, bytes.subarray(off, off + n), { signal: opts.signal }),
      (done) => opts.progress?.(done, total * (opts.verify === false ? 1 : 2)),
    );
    await this.ops.flush();
    const seconds = (performance.now() - t0) / 1000;
    let verifySeconds = 0;
    if (opts.verify !== false) {
      const t1 = performance.now();
      const back = await this.readMemory(addr, words.length, { ...opts, progress: (d) => opts.progress?.(total + d, 2 * total) });
      verifySeconds = (performance.now() - t1) / 1000;
      for (let i = 0; i < words.length; i++)
        if (back[i] !== words[i])
          throw new Error(`readback verify failed on ${this.transport}: word ${addr + i} is ${hex(back[i]!)}, wrote ${hex(words[i]!)}`);
    }
    return { bytes: total, seconds, verifySeconds };
  }

  async readMemory(addr: number, count: number, opts: OpOptions & { progress?: Progress } = {}): Promise<Uint32Array> {
    const out = new Uint32Array(count);
    const perReq = Math.min(255, Math.floor(this.ops.maxPayload / MEM_WORD_BYTES));
    for (let i = 0; i < count; ) {
      const n = Math.min(perReq, count - i, Math.max(1, Math.floor(this.ops.chunk / MEM_WORD_BYTES)));
      const b = await this.ops.memRead(addr + i, n, this.o(opts));
      out.set(new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), i);
      i += n;
      opts.progress?.(i * MEM_WORD_BYTES, count * MEM_WORD_BYTES);
    }
    return out;
  }

  channel(dir: 'in' | 'out', name: string): ChannelDesc {
    return channel(this.map, dir, name);
  }

  /** Packs beats for a channel: little-endian data bytes, then a flag byte (bit 0 = last) if it has last. */
  static packBeats(c: ChannelDesc, data: readonly bigint[] | readonly number[], last?: readonly boolean[]): Uint8Array {
    const out = new Uint8Array(data.length * c.bytes);
    const db = Math.ceil(c.width / 8);
    const mask = (1n << BigInt(c.width)) - 1n;
    data.forEach((v, i) => {
      let x = BigInt(v) & mask;
      for (let k = 0; k < db; k++, x >>= 8n) out[i * c.bytes + k] = Number(x & 0xffn);
      if (c.hasLast) out[i * c.bytes + db] = last?.[i] ? 1 : 0;
    });
    return out;
  }

  static unpackBeats(c: ChannelDesc, bytes: Uint8Array): Beats {
    if (bytes.length % c.bytes) throw new Error(`channel ${c.name}: ${bytes.length} bytes is not a whole number of ${c.bytes}-byte beats`);
    const db = Math.ceil(c.width / 8);
    const data: bigint[] = [];
    const last: boolean[] = [];
    for (let i = 0; i < bytes.length; i += c.bytes) {
      let v = 0n;
      for (let k = db - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[i + k]!);
      data.push(v);
      last.push(c.hasLast ? (bytes[i + db]! & 1) === 1 : false);
    }
    return { data, last };
  }

  /** Sends beats on an input channel (pipelined; resolves when all are acknowledged). */
  async writeStream(name: string, data: readonly bigint[] | readonly number[], opts: OpOptions & { last?: readonly boolean[]; progress?: Progress } = {}): Promise<void> {
    const c = this.channel('in', name);
    const bytes = Device.packBeats(c, data, opts.last);
    await sendPipelined(
      bytes.length,
      Math.max(1, this.ops.chunk - 1),
      (off, n) => this.ops.streamWrite(c.index, bytes.subarray(off, off + n), { signal: opts.signal }),
      (done) => opts.progress?.(done, bytes.length),
    );
  }

  /** Beats available now on an output channel (possibly none). */
  async readStream(name: string, opts: OpOptions & { maxBeats?: number } = {}): Promise<Beats> {
    const c = this.channel('out', name);
    // At most the link's current chunk (it shrinks on a noisy line, where long answers rarely get through).
    const fit = Math.floor(Math.min(this.ops.maxPayload, Math.max(this.ops.chunk, c.bytes)) / c.bytes);
    const beats = Math.max(1, Math.min(fit, opts.maxBeats ?? fit));
    return Device.unpackBeats(c, await this.ops.streamRead(c.index, beats * c.bytes, this.o(opts)));
  }

  /** Polls an output channel until n beats arrived; the signal (or the default deadline) bounds the wait. */
  async collectStream(name: string, n: number, opts: OpOptions & { pollMs?: number; onBeats?: (b: Beats) => void } = {}): Promise<Beats> {
    const signal = opts.signal ?? AbortSignal.timeout(this.timeoutMs);
    const acc: Beats = { data: [], last: [] };
    while (acc.data.length < n) {
      if (signal.aborted)
        throw new TransportError(this.transport, `timed out waiting for ${n} beat(s) on channel '${name}' (got ${acc.data.length}); the device is answering but the core produced nothing more`);
      const b = await this.readStream(name, { signal, maxBeats: n - acc.data.length });
      acc.data.push(...b.data);
      acc.last.push(...b.last);
      opts.onBeats?.(b);
      if (!b.data.length) await new Promise((r) => setTimeout(r, opts.pollMs ?? 2));
    }
    return acc;
  }

  async close(): Promise<void> {
    await this.ops.close();
  }
}

/**
 * Send `total` bytes in chunks of at most `chunk`, keeping many requests queued (the link window bounds what is
 * actually in flight) but at most 64 promises; stops queueing at the first failure and rethrows it.
 */
async function sendPipelined(
  total: number,
  chunk: number,
  send: (off: number, n: number) => Promise<unknown>,
  progress: (doneBytes: number) => void,
): Promise<void> {
  const writes: Promise<void>[] = [];
  let done = 0;
  let failure: Error | null = null;
  for (let off = 0; off < total && !failure; ) {
    const n = Math.min(total - off, chunk);
    writes.push(
      send(off, n).then(
        () => {
          done += n;
          progress(done);
        },
        (e: Error) => {
          failure ??= e;
        },
      ),
    );
    off += n;
    if (writes.length > 64) await writes.shift();
  }
  await Promise.all(writes);
  if (failure) throw failure;
}
