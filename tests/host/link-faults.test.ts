import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkTestCore } from '../../generator/link/testcore';
import { Device } from '../../host/link/device';
import { FramedOps } from '../../host/link/ops';
import { PtyBridge, PtyPair } from '../../host/link/pty';
import { SerialTransport } from '../../host/link/serial';
import { buildVirtualBoard, VirtualBoardTransport, type VirtualBoardBuild } from '../../host/link/vboard';
import { workload } from './link-workload';

/**
 * Fault injection over the serial stack: 1% of bytes corrupted, dropped or duplicated each way, and a fast declared
 * line (3 Mbaud) on an unpaced pty, so timeouts fire while frames are still queued. This used to fail about 2 runs
 * in 3 (lost write, refused request); the causes and fixes are in docs/protocol.md#reliability. The seed comes from
 * LINK_FAULT_SEED (default 7) so any run can be repeated. tests/host/link-model.test.ts covers many more seeds.
 */
let b: VirtualBoardBuild;
beforeAll(async () => {
  b = await buildVirtualBoard(linkTestCore(), { design: 'linktest', memWords: 1024 });
});

describe('host link under byte faults (socat pty <-> Verilator UART)', () => {
  let pty: PtyPair;
  beforeAll(async () => {
    pty = await PtyPair.open();
  });
  afterAll(async () => {
    await pty?.close();
  });

  it('loses, duplicates and reorders nothing with 1% of bytes corrupted, dropped or duplicated (each direction)', async () => {
    const board = new VirtualBoardTransport(b);
    const bridge = await PtyBridge.open(pty.device, board, { faults: { corrupt: 0.004, drop: 0.003, duplicate: 0.003, seed: Number(process.env.LINK_FAULT_SEED ?? 7) } });
    // The pty is not paced: declare a fast line so timeouts follow the measured round trip.
    const serial = await SerialTransport.open(pty.host, 3_000_000);
    const ops = new FramedOps(serial);
    const dev = await Device.open(ops, b.regmap);
    try {
      await workload(dev, 2);
      const f = bridge.toDevice.counts;
      const g = bridge.toHost.counts;
      expect(f.corrupted + f.dropped + f.duplicated).toBeGreaterThan(50);
      expect(g.corrupted + g.dropped + g.duplicated).toBeGreaterThan(10);
      expect(ops.link.stats.retransmitRounds + ops.link.stats.naks).toBeGreaterThan(0);
    } finally {
      await dev.close();
      await bridge.close();
      await board.close();
    }
  });
});
