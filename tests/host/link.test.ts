/**
 * End to end over the real serial stack: serialport on one end of a socat pty pair, the other end bridged byte
 * for byte to the UART of the Verilator virtual board (link + the `linktest` core). Also: fault injection, a
 * silent device, and the XDMA transport against the file-backed virtual card.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkTestCore } from '../../generator/link/testcore';
import { Device } from '../../host/link/device';
import { FaultyTransport } from '../../host/link/faults';
import { FramedOps } from '../../host/link/ops';
import { PtyBridge, PtyPair } from '../../host/link/pty';
import { SerialTransport } from '../../host/link/serial';
import type { ByteTransport } from '../../host/link/transport';
import { buildVirtualBoard, VirtualBoardTransport, type VirtualBoardBuild } from '../../host/link/vboard';
import { XdmaOps } from '../../host/link/xdma';
import { XdmaVirtualBoard } from '../../host/link/xdma-board';
import { workload } from './link-workload';

let b: VirtualBoardBuild;
beforeAll(async () => {
  b = await buildVirtualBoard(linkTestCore(), { design: 'linktest', memWords: 1024 });
});

describe('host link over the serial stack (socat pty <-> Verilator UART)', () => {
  let pty: PtyPair;
  beforeAll(async () => {
    pty = await PtyPair.open();
  });
  afterAll(async () => {
    await pty?.close();
  });

  it('carries weights with readback and 100 images end to end', async () => {
    const board = new VirtualBoardTransport(b);
    const bridge = await PtyBridge.open(pty.device, board);
    const serial = await SerialTransport.open(pty.host, 115_200);
    const dev = await Device.open(new FramedOps(serial), b.regmap);
    try {
      await workload(dev, 1);
    } finally {
      await dev.close();
      await bridge.close();
      await board.close();
    }
  });

  // Fault injection over this stack: link-faults.test.ts (and many seeds against the TS model: link-model.test.ts).
});

describe('failures are clear', () => {
  it('a device that stops answering gives a timeout naming the transport', async () => {
    const board = new VirtualBoardTransport(b);
    let mute = false;
    const muted: ByteTransport = {
      name: board.name,
      baud: board.baud,
      write: (d) => board.write(d),
      onData: (cb) => board.onData((d) => !mute && cb(d)),
      close: () => board.close(),
    };
    const dev = await Device.open(new FramedOps(muted, { rtoMs: 50, maxRetries: 3, giveUpMs: 500 }), b.regmap);
    mute = true;
    const t0 = performance.now();
    await expect(dev.readReg('scratch')).rejects.toThrow(/transport sim: device stopped answering: REG_READ \(seq \d+\) unanswered after \d+ retransmissions/);
    expect(performance.now() - t0).toBeLessThan(5000);
    await dev.close();
  });

  it('a per-call deadline (AbortSignal) names the transport too', async () => {
    const board = new VirtualBoardTransport(b);
    const faulty = new FaultyTransport(board, { drop: 1 });
    const ops = new FramedOps(faulty, { rtoMs: 1000 });
    await expect(ops.start({ signal: AbortSignal.timeout(200) })).rejects.toThrow(/transport sim: device did not answer HELLO \(seq \d+, 0 retransmission round\(s\)\) before the deadline/);
    await ops.close();
  });
});

describe('xdma transport against the file-backed virtual card', () => {
  it('passes the same end-to-end workload', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lutforge-xdma-'));
    const inner = new FramedOps(new VirtualBoardTransport(b));
    await inner.start();
    const card = await XdmaVirtualBoard.serve(dir, 0, inner);
    try {
      const ops = await XdmaOps.open(`xdma:0@${dir}`);
      // The card side needs the link limits too (the virtual card is itself a framed link).
      inner.configure((await ops.readReg(2)) >>> 0);
      const dev = await Device.open(ops, b.regmap);
      await workload(dev, 3);
      await dev.close();
    } finally {
      await card.close();
      await inner.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
