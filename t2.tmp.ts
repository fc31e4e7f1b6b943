import { buildVirtualBoard, VirtualBoardTransport } from './host/link/vboard';
import { linkTestCore } from './generator/link/testcore';
import { encodeFrame, FrameDecoder } from './host/link/codec';
const t0 = performance.now();
const b = await buildVirtualBoard(linkTestCore(), { design: 'linktest', memWords: 1024 });
console.log('build', b.sim.cacheHit, (performance.now() - t0).toFixed(0));
const t = new VirtualBoardTransport(b);
const frames: Uint8Array[] = [];
const dec = new FrameDecoder((f) => frames.push(f));
t.onData((d) => dec.feed(d));
t.write(encodeFrame([0x01, 5]));            // HELLO seq 5
t.write(encodeFrame([0x03, 6, 0, 0]));      // REG_READ design_id
t.write(encodeFrame([0x02, 7, 4, 0, 0x78, 0x56, 0x34, 0x12])); // write scratch
t.write(encodeFrame([0x03, 8, 4, 0]));
t.write(encodeFrame([0x03, 8, 4, 0]));  // duplicate
t.write(encodeFrame([0x03, 20, 4, 0]));  // out of order -> NAK 9
t.write(encodeFrame([0x04, 9, 3, 0, 0, 0, 1,2,3,4, 5,6,7,8])); // mem write addr 3
t.write(encodeFrame([0x05, 10, 3, 0, 0, 0, 2])); // mem read 2
t.write(encodeFrame([0x06, 11, 0, 0x10, 0x20, 0x7e])); // stream write ch0 3 bytes
t.write(encodeFrame([0x07, 12, 0, 16, 0])); // stream read ch0 max 16
const t1 = performance.now();
while (frames.length < 10 && performance.now() - t1 < 5000) await new Promise(r => setTimeout(r, 10));
console.log(frames.map(f => Buffer.from(f).toString('hex')).join('\n'), 'cycles', t.cycles, 'ms', (performance.now()-t1).toFixed(0), dec.stats);
await t.close();
