import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printDesign } from '../../../generator/hdl';
import { linkConfig } from '../../../generator/link/config';
import { REQ, crc } from '../../../generator/link/protocol';
import { linkTestCore } from '../../../generator/link/testcore';
import { linkBoardTop, linkVirtualBoard } from '../../../generator/link/top';
import { regMapFromJson, regMapJson, regMapTypeScript } from '../../../generator/regmap/emit';
import { Rng } from '../../../generator/util/rng';
import { encodeFrame, FrameDecoder } from '../../../host/link/codec';
import { Device, DeviceMismatchError } from '../../../host/link/device';
import { FramedOps } from '../../../host/link/ops';
import { buildVirtualBoard, VirtualBoardTransport, type VirtualBoardBuild } from '../../../host/link/vboard';
import { lintVerilog } from '../../../sim/lint';
import { REPO_ROOT } from '../../../sim/build';

const top = { design: 'linktest', memWords: 1024 };

describe('link RTL', () => {
  it('derives the UART divisor from the board clock, and refuses bad rates', () => {
    expect(linkConfig({ clockHz: 100_000_000, baud: 115_200 }).clocksPerBit).toBe(868);
    expect(linkConfig({ clockHz: 12_000_000, baud: 3_000_000 }).clocksPerBit).toBe(4);
    expect(linkConfig({ simClocksPerBit: 8 }).simulated).toBe(true);
    expect(() => linkConfig({ clockHz: 12_000_000, baud: 5_000_000 })).toThrow(/baud/);
    expect(() => linkConfig({ clockHz: 12_000_000, baud: 2_500_000 })).toThrow(/rate error/);
  });

  it('passes verilator lint -Wall for a board top and the virtual board', async () => {
    for (const cfg of [linkConfig({ clockHz: 12_000_000, baud: 115_200 }), linkConfig({ simClocksPerBit: 8 })]) {
      const { board } = linkBoardTop(linkTestCore(), cfg, top);
      await lintVerilog(printDesign(board).files, board.name);
      const vb = linkVirtualBoard(board, cfg);
      await lintVerilog(printDesign(vb).files, vb.name);
    }
    // The byte-bridge virtual board (no UART) used by the 3 Mbaud bench.
    const { board: bb } = linkBoardTop(linkTestCore(), linkConfig({ simClocksPerBit: 4 }), { ...top, phy: 'bytes' });
    expect(bb.interface().streams.map((s) => s.name)).toEqual(['h2d', 'd2h']);
    await lintVerilog(printDesign(bb).files, bb.name);
  });
});

describe('register map and virtual board', () => {
  let b: VirtualBoardBuild;
  beforeAll(async () => {
    b = await buildVirtualBoard(linkTestCore(), top);
  });

  it('regmap.json round-trips and the generated TS module matches the Verilog bank', async () => {
    const json = regMapJson(b.regmap);
    expect(regMapFromJson(JSON.parse(JSON.stringify(json)))).toEqual({ ...b.regmap, registers: b.regmap.registers.map(({ port: _p, ...r }) => r) });
    const dir = await mkdtemp(path.join(REPO_ROOT, '.cache', 'regmap-test-'));
    try {
      const file = path.join(dir, 'linktest.regmap.ts');
      await writeFile(file, regMapTypeScript(b.regmap, path.relative(dir, path.join(REPO_ROOT, 'generator/regmap/regmap')).split(path.sep).join('/')));
      const mod = (await import(file)) as { REGMAP: typeof b.regmap; DESIGN_ID: number; VERSION: number; Reg: Record<string, number> };
      expect(mod.DESIGN_ID).toBe(b.regmap.designId);
      expect(mod.VERSION).toBe(b.regmap.version);
      expect(mod.REGMAP).toEqual(b.regmap);
      expect(mod.Reg.Scratch).toBe(b.regmap.registers.find((r) => r.name === 'scratch')!.addr);
      // Every register of the TS map, read from the simulated Verilog bank.
      const dev = await Device.open(new FramedOps(new VirtualBoardTransport(b)), mod.REGMAP);
      try {
        const rng = new Rng(3);
        const written = new Map<string, number>();
        for (const r of mod.REGMAP.registers.filter((x) => x.access === 'rw')) {
          const v = Math.floor(rng.next() * 2 ** r.width);
          await dev.writeReg(r.name, v);
          written.set(r.name, v);
        }
        const a = BigInt(written.get('a')!);
        const bb = BigInt(written.get('b')!);
        const wide = BigInt(written.get('wide_0')!) | (BigInt(written.get('wide_1')!) << 32n);
        const expectRo: Record<string, bigint> = {
          rx_frames_bad: 0n,
          sum_0: (a + bb) & 0xffffffffn,
          sum_1: (a + bb) >> 32n,
          wide_not_0: ~wide & 0xffffffffn,
          wide_not_1: (~wide >> 32n) & 0xffn,
          beats: 0n,
        };
        for (const r of mod.REGMAP.registers) {
          const v = await dev.readReg(r.name);
          if (r.access === 'const') expect(v, r.name).toBe(r.value >>> 0);
          else if (r.access === 'rw') expect(v, r.name).toBe(written.get(r.name));
          else if (r.name === 'rx_frames_ok') expect(v).toBeGreaterThan(10);
          else expect(BigInt(v), r.name).toBe(expectRo[r.name]);
        }
        await expect(dev.writeReg('sum_0', 1)).rejects.toThrow(/not writable/);
        // The bank refuses writes to read-only addresses (status BAD_TARGET), even when the host asks.
        await expect(dev.ops.writeReg(b.regmap.registers.find((r) => r.name === 'design_id')!.addr, 5)).rejects.toThrow(/bad target/);
        await expect(dev.ops.readReg(999)).rejects.toThrow(/bad target/);
      } finally {
        await dev.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a device whose design id or version differs, saying why', async () => {
    const wrongId = { ...b.regmap, designId: b.regmap.designId ^ 1, design: 'cellnet' };
    await expect(Device.open(new FramedOps(new VirtualBoardTransport(b)), wrongId)).rejects.toThrow(DeviceMismatchError);
    await expect(Device.open(new FramedOps(new VirtualBoardTransport(b)), wrongId)).rejects.toThrow(/design id 0x[0-9a-f]{8}, not 0x[0-9a-f]{8} \('cellnet'\); refusing/);
    const wrongVersion = { ...b.regmap, version: (b.regmap.version + 1) >>> 0 };
    await expect(Device.open(new FramedOps(new VirtualBoardTransport(b)), wrongVersion)).rejects.toThrow(/version 0x[0-9a-f]{8}, host expects 0x[0-9a-f]{8} \(this register layout with link protocol revision 3, selective repeat\); rebuild the bitstream.*built before link protocol revision 3 cannot be driven/);
  });

  it('fuzz: random bytes into the RTL frame decoder never hang it, and it resynchronises', async () => {
    const t = new VirtualBoardTransport(b, { seed: 5 });
    const frames: Uint8Array[] = [];
    const dec = new FrameDecoder((f) => frames.push(f));
    t.onData((d) => dec.feed(d));
    const rng = new Rng(11);
    const waitFor = async (n: number): Promise<void> => {
      const t0 = performance.now();
      while (frames.length < n) {
        if (performance.now() - t0 > 20_000) throw new Error(`RTL decoder hung: ${frames.length}/${n} responses`);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    try {
      let seq = rng.int(0, 255);
      t.write(encodeFrame([REQ.HELLO, seq]));
      await waitFor(1);
      for (let round = 0; round < 12; round++) {
        // Garbage: random bytes, biased towards FLAG/ESC and valid-looking headers, sometimes longer than any frame.
        const n = round % 4 === 3 ? 700 : rng.int(1, 120);
        const junk = Array.from({ length: n }, () => (rng.next() < 0.1 ? rng.pick([0x7e, 0x7d, 0x01, 0x03]) : rng.int(0, 255)));
        // A frame with a valid CRC inside the garbage would be a real request; avoid executing one by accident.
        t.write(Uint8Array.from(junk));
        seq = (seq + 1) & 0xff;
        const before = frames.length;
        // The first FLAG of a good frame ends whatever the garbage left open; the request must then work.
        t.write(encodeFrame([REQ.HELLO, seq]));
        t.write(encodeFrame([REQ.REG_READ, (seq + 1) & 0xff, 4, 0]));
        seq = (seq + 1) & 0xff;
        await waitFor(before + 2);
        const last = frames[frames.length - 1]!;
        expect(last[0]).toBe(REQ.REG_READ | 0x80);
        expect(Buffer.from(last.subarray(3)).readUInt32LE(0)).toBe(0x5a5a5a5a);
      }
    } finally {
      await t.close();
    }
  });
});

describe('SYNC barrier in the RTL (same rules as generator/link/model.ts)', () => {
  let b: VirtualBoardBuild;
  beforeAll(async () => {
    b = await buildVirtualBoard(linkTestCore(), top);
  });

  it('answers SYNC with a NAK echoing its nonce, executes nothing and keeps the response cache', async () => {
    const { t, next } = rawSession(b, 9);
    try {
      t.write(encodeFrame([REQ.HELLO, 40]));
      expect((await next()).slice(0, 3)).toEqual([REQ.HELLO | 0x80, 40, 0]);
      t.write(encodeFrame([REQ.REG_WRITE, 41, 4, 0, 0x11, 0x22, 0x33, 0x44]));
      expect(await next()).toEqual([REQ.REG_WRITE | 0x80, 41, 0]);
      t.write(encodeFrame([REQ.REG_READ, 42, 4, 0]));
      const answer = await next();
      expect(answer).toEqual([REQ.REG_READ | 0x80, 42, 0, 0x11, 0x22, 0x33, 0x44]);
      // SYNC with a nonce equal to `expected` and to `expected - 1`: neither executes anything.
      for (const nonce of [43, 42, 200]) {
        t.write(encodeFrame([REQ.SYNC, nonce]));
        expect(await next()).toEqual([0xff, 43, 0, 0, REQ.SYNC, nonce, 0, 0]); // + the held bitmap (16 slots): empty
      }
      // The cached response of seq 42 survived the SYNCs.
      t.write(encodeFrame([REQ.REG_READ, 42, 4, 0]));
      expect(await next()).toEqual(answer);
      // And seq 43 is still the next to execute.
      t.write(encodeFrame([REQ.REG_READ, 43, 0, 0]));
      expect((await next()).slice(0, 3)).toEqual([REQ.REG_READ | 0x80, 43, 0]);
    } finally {
      await t.close();
    }
  });

  it('holds frames that arrive after a lost one, reports the hole, and executes them in seq order', async () => {
    const { t, next } = rawSession(b, 10);
    const scratch = (seq: number, v: number): Uint8Array => encodeFrame([REQ.REG_WRITE, seq, 4, 0, v, 0, 0, 0]);
    try {
      t.write(encodeFrame([REQ.HELLO, 60]));
      expect((await next()).slice(0, 3)).toEqual([REQ.HELLO | 0x80, 60, 0]);
      // 61 is "lost": 62 and 63 are held, each arrival reports the hole (NAK_HOLE = 0, its seq, held bitmap).
      t.write(scratch(62, 0x62));
      expect(await next()).toEqual([0xff, 61, 0, 0, 0, 62, 0b10, 0]);
      t.write(scratch(63, 0x63));
      expect(await next()).toEqual([0xff, 61, 0, 0, 0, 63, 0b110, 0]);
      // A copy of a held frame is dropped; a frame beyond the window (61 + 16) goes to the control slot and is NAKed.
      t.write(scratch(62, 0x99));
      t.write(scratch(61 + 16, 0x99));
      expect(await next()).toEqual([0xff, 61, 0, 0, REQ.REG_WRITE, 61 + 16, 0b110, 0]);
      t.write(encodeFrame([REQ.SYNC, 7]));
      expect(await next()).toEqual([0xff, 61, 0, 0, REQ.SYNC, 7, 0b110, 0]);
      // The resend of 61 fills the hole: 61, 62, 63 execute in order (the last write wins).
      t.write(scratch(61, 0x61));
      for (const seq of [61, 62, 63]) expect(await next()).toEqual([REQ.REG_WRITE | 0x80, seq, 0]);
      t.write(encodeFrame([REQ.REG_READ, 64, 4, 0]));
      expect(await next()).toEqual([REQ.REG_READ | 0x80, 64, 0, 0x63, 0, 0, 0]);
      // HELLO empties the reorder buffer: a held frame of the old numbering never runs.
      t.write(scratch(66, 0x66));
      expect(await next()).toEqual([0xff, 65, 0, 0, 0, 66, 0b10, 0]);
      t.write(encodeFrame([REQ.HELLO, 64]));
      expect((await next()).slice(0, 3)).toEqual([REQ.HELLO | 0x80, 64, 0]);
      t.write(scratch(65, 0x65));
      expect(await next()).toEqual([REQ.REG_WRITE | 0x80, 65, 0]);
      t.write(encodeFrame([REQ.SYNC, 8]));
      expect(await next()).toEqual([0xff, 66, 0, 0, REQ.SYNC, 8, 0, 0]);
      t.write(encodeFrame([REQ.REG_READ, 66, 4, 0]));
      expect(await next()).toEqual([REQ.REG_READ | 0x80, 66, 0, 0x65, 0, 0, 0]);
    } finally {
      await t.close();
    }
  });
});

describe('TS frame decoder', () => {
  it('round-trips frames containing FLAG and ESC bytes', () => {
    const got: number[][] = [];
    const d = new FrameDecoder((f) => got.push([...f]));
    const bodies = [[1, 2, 3], [0x7e, 0x7d, 0x7e], [0x5e, 0x5d, 0x7d, 0x20]];
    for (const x of bodies) d.feed(encodeFrame(x));
    expect(got).toEqual(bodies);
    expect(crc([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39])).toBe(0xfc891918); // CRC-32/BZIP2 check value (catalogue)
  });

  it('fuzz: random bytes never hang it, memory stays bounded, and the next good frame decodes', () => {
    const rng = new Rng(99);
    for (let round = 0; round < 300; round++) {
      const got: Uint8Array[] = [];
      const d = new FrameDecoder((f) => got.push(f), 600);
      const junk = Uint8Array.from({ length: rng.int(0, 3000) }, () => (rng.next() < 0.05 ? 0x7e : rng.int(0, 255)));
      d.feed(junk);
      got.length = 0;
      const body = Uint8Array.from({ length: rng.int(2, 300) }, () => rng.int(0, 255));
      d.feed(encodeFrame(body));
      expect(got.length).toBe(1);
      expect([...got[0]!]).toEqual([...body]);
    }
  });
});

/** A board transport whose answers are read frame by frame (`next` waits up to 20 s for the RTL's next frame). */
function rawSession(b: VirtualBoardBuild, seed: number): { t: VirtualBoardTransport; next: () => Promise<number[]> } {
  const t = new VirtualBoardTransport(b, { seed });
  const frames: Uint8Array[] = [];
  const dec = new FrameDecoder((f) => frames.push(f));
  t.onData((d) => dec.feed(d));
  const next = async (): Promise<number[]> => {
    const t0 = performance.now();
    while (!frames.length) {
      if (performance.now() - t0 > 20_000) throw new Error('no answer from the RTL');
      await new Promise((r) => setTimeout(r, 2));
    }
    return [...frames.shift()!];
  };
  return { t, next };
}
