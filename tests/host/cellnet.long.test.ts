/**
 * Acceptance: the cell sorter over the real serial stack (serialport <-> socat pty <-> Verilator UART of the
 * cellnet virtual board). Loads the settings, streams 100 images in replay mode, and checks every event against
 * the golden classifier + trigger golden.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellnetLinked, decodeEvent, goldenEvents, loadImages, pixelBeats, programTrigger } from '../../host/designs/cellnet';
import { Device } from '../../host/link/device';
import { FramedOps } from '../../host/link/ops';
import { PtyBridge, PtyPair } from '../../host/link/pty';
import { SerialTransport } from '../../host/link/serial';
import { VirtualBoardTransport } from '../../host/link/vboard';

describe('cellnet end to end over the serial stack', () => {
  let pty: PtyPair;
  beforeAll(async () => {
    pty = await PtyPair.open();
  });
  afterAll(async () => {
    await pty?.close();
  });

  it('streams 100 images; every event equals the golden model', async () => {
    const c = cellnetLinked(8);
    const board = new VirtualBoardTransport(await c.virtualBoard());
    const bridge = await PtyBridge.open(pty.device, board);
    const dev = await Device.open(new FramedOps(await SerialTransport.open(pty.host, 115_200)), c.regmap);
    try {
      const s = { classMask: 0b101, threshold: 3000, delayCycles: 200, widthCycles: 100 };
      await programTrigger(dev, c.design, s);
      const img = loadImages('synthetic:100', c.design, 3);
      expect(img.n).toBe(100);
      const beats = pixelBeats(c.design, img.pixels);
      const got = dev.collectStream('event', img.n, { signal: AbortSignal.timeout(1_800_000) });
      await dev.writeStream('px', beats.data, { last: beats.last });
      const events = (await got).data.map((w) => decodeEvent(c.design, w));
      expect(events.map((e) => e.frame)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(events).toEqual(goldenEvents(c.design, img.pixels, events, s));
      expect(events.some((e) => e.fired)).toBe(true);
      expect(events.some((e) => !e.fired)).toBe(true);
      expect(await dev.readReg('frame_error')).toBe(0);
      expect(await dev.readReg('events_lost')).toBe(0);
    } finally {
      await dev.close();
      await bridge.close();
      await board.close();
    }
  });
});
