/**
 * Acceptance: the cell sorter over the real serial stack (serialport <-> socat pty <-> Verilator UART of the
 * cellnet virtual board), driven by the product's own sorter run (host/sorter/replay.ts, as `lutforge sort --device
 * serial:PTY@115200`): loads the settings, replays 100 images one per write, and checks every event against the
 * golden classifier + trigger golden, with nothing lost on the device.
 *
 * Replay is one image per write on purpose: streaming all images in one bulk write starves the event polls behind
 * it, and the device's 16-deep event FIFO then drops events (counted in events_lost), which is the hardware's
 * documented behaviour, not a link fault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellnetLinked } from '../../host/designs/cellnet';
import { PtyBridge, PtyPair } from '../../host/link/pty';
import { VirtualBoardTransport } from '../../host/link/vboard';
import { runSorter } from '../../host/sorter/replay';

describe('cellnet end to end over the serial stack', () => {
  let pty: PtyPair;
  beforeAll(async () => {
    pty = await PtyPair.open();
  });
  afterAll(async () => {
    await pty?.close();
  });

  it('sorts 100 images replayed over serialport; every event equals the golden model', async () => {
    const c = cellnetLinked(8);
    const board = new VirtualBoardTransport(await c.virtualBoard());
    const bridge = await PtyBridge.open(pty.device, board);
    try {
      const { summary } = await runSorter({
        device: `serial:${pty.host}@115200`,
        images: 'synthetic:100',
        sort: ['0'],
        threshold: 3000,
        delayUs: 1,
        widthUs: 1,
        ppc: 8,
        seed: 3,
      });
      expect(summary.images).toBe(100);
      expect(summary.events).toBe(100);
      expect(summary.goldenMismatches).toBe(0);
      expect(summary.pulses).toBeGreaterThan(0);
      expect(summary.pulses).toBeLessThan(100);
    } finally {
      await bridge.close();
      await board.close();
    }
  }, 3_600_000);
});
