/**
 * Link throughput: bulk MEM_WRITE over the real serial stack (serialport <-> socat pty <-> Verilator virtual board),
 * with the bridge pacing bytes at the emulated line rate (a pty has no baud rate), as a fraction of the raw line
 * rate baud/10 bytes/s; then how it falls with the byte fault rate. At 3 Mbaud the virtual board itself must
 * simulate 300 kB/s x 10 bits x clocksPerBit cycles per second, so that row also measures the simulator.
 */
import { linkTestCore } from '../generator/link/testcore';
import { Device } from '../host/link/device';
import { FramedOps } from '../host/link/ops';
import { PtyBridge, PtyPair } from '../host/link/pty';
import { SerialTransport } from '../host/link/serial';
import { buildVirtualBoard, VirtualBoardTransport, type VirtualBoardBuild } from '../host/link/vboard';
import { Rng } from '../generator/util/rng';
import { report, table } from './table';

interface Row {
  baud: number;
  faultRate: number;
  payloadBytes: number;
  seconds: number;
  /** Payload bytes/s over baud/10. */
  fractionOfLine: number;
  /** Simulated cycles per payload byte (the virtual UART needs 10 x clocksPerBit per line byte). */
  cyclesPerByte: number;
  retransmitRounds: number;
}

async function measure(b: VirtualBoardBuild, pty: PtyPair, baud: number, faultRate: number, bytes: number): Promise<Row> {
  const board = new VirtualBoardTransport(b);
  const f = faultRate / 3;
  const bridge = await PtyBridge.open(pty.device, board, { baud, faults: { corrupt: f, drop: f, duplicate: f, seed: 1 } });
  const ops = new FramedOps(await SerialTransport.open(pty.host, baud));
  const dev = await Device.open(ops, b.regmap);
  const rng = new Rng(5);
  const words = Uint32Array.from({ length: bytes / 4 }, () => rng.int(0, 0xffffffff) >>> 0);
  try {
    await dev.writeMemory(0, words.subarray(0, 64), { verify: false }); // warm up (RTT estimate, window)
    const c0 = board.cycles;
    const t0 = performance.now();
    await dev.writeMemory(0, words, { verify: false });
    const seconds = (performance.now() - t0) / 1000;
    const cycles = board.cycles - c0;
    return {
      baud,
      faultRate,
      payloadBytes: bytes,
      seconds,
      fractionOfLine: bytes / seconds / (baud / 10),
      cyclesPerByte: cycles / bytes,
      retransmitRounds: ops.link.stats.retransmitRounds,
    };
  } finally {
    await dev.close();
    await bridge.close();
    await board.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const b = await buildVirtualBoard(linkTestCore({ memWords: 65536 }), { design: 'linktest', memWords: 65536 }, { simClocksPerBit: 4 });
  const pty = await PtyPair.open();
  const rows: Row[] = [];
  try {
    rows.push(await measure(b, pty, 115_200, 0, quick ? 16_384 : 65_536));
    rows.push(await measure(b, pty, 3_000_000, 0, quick ? 65_536 : 262_144));
    for (const rate of [0.001, 0.003, 0.01, 0.03]) rows.push(await measure(b, pty, 115_200, rate, quick ? 8192 : 32_768));
  } finally {
    await pty.close();
  }
  report(argv, { bench: 'link', clocksPerBit: b.cfg.clocksPerBit, rows }, () =>
    [
      `bulk MEM_WRITE over serialport <-> socat pty <-> Verilator UART (${b.cfg.clocksPerBit} clocks/bit), bridge paced at the line rate`,
      table(
        ['baud', 'byte fault rate', 'payload B', 's', 'fraction of line rate', 'retransmit rounds'],
        rows.map((r) => [r.baud, r.faultRate, r.payloadBytes, r.seconds, r.fractionOfLine, r.retransmitRounds]),
      ),
    ].join('\n'),
  );
}
