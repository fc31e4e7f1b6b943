/**
 * stories260K's weights (packed by the decode engine's packer) streamed over the serial stack into the virtual
 * board's memory and verified by readback. Decoding on the device is not integrated yet (see docs/protocol.md).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packedWeights, weightMemoryBoard } from '../../host/designs/llm';
import { Device } from '../../host/link/device';
import { FramedOps } from '../../host/link/ops';
import { PtyBridge, PtyPair } from '../../host/link/pty';
import { SerialTransport } from '../../host/link/serial';
import { VirtualBoardTransport } from '../../host/link/vboard';

const MODEL = '/work/shared/models/stories260K.bin';

describe.skipIf(!existsSync(MODEL))('stories260K weights over the serial stack', () => {
  it('streams every packed weight word and verifies it by readback', async () => {
    const { words } = packedWeights(MODEL);
    expect(words.length).toBeGreaterThan(20_000);
    const b = await weightMemoryBoard(words.length);
    const pty = await PtyPair.open();
    const board = new VirtualBoardTransport(b);
    const bridge = await PtyBridge.open(pty.device, board);
    const dev = await Device.open(new FramedOps(await SerialTransport.open(pty.host, 115_200)), b.regmap);
    try {
      const r = await dev.writeMemory(0, words); // readback-verify inside; throws naming the first bad word
      expect(r.bytes).toBe(words.length * 4);
      // The check can fail: corrupt one word on the device and the same verify must refuse it.
      await dev.ops.memWrite(123, Uint8Array.from([1, 2, 3, 4]));
      const back = await dev.readMemory(123, 1);
      expect(back[0]).not.toBe(words[123]);
    } finally {
      await dev.close();
      await bridge.close();
      await board.close();
      await pty.close();
    }
  });
});
