/**
 * Link throughput: bulk MEM_WRITE over the real serial stack (serialport <-> socat pty <-> Verilator virtual board),
 * with the bridge pacing bytes at the emulated line rate (a pty has no baud rate), as a fraction of the raw line
 * rate baud/10 bytes/s; then how it falls with the byte fault rate (docs/protocol.md#what-the-link-bench-measures).
 *
 * Two virtual boards: `uart` puts the generated UART (4 clocks/bit) in the loop, so at 3 Mbaud it would have to
 * simulate 12M cycles/s and measures the simulator instead; `bytes` bridges the pty bytes straight into the link's
 * frame receiver and out of its encoder (framing, CRC, sequence numbers, acks and flow control all in RTL), so the
 * pacing at the declared baud is the only line limit.
 */
import { linkTestCore } from '../generator/link/testcore';
import { Device } from '../host/link/device';
import { FramedOps } from '../host/link/ops';
import { PtyBridge, PtyPair } from '../host/link/pty';
import { SerialTransport } from '../host/link/serial';
import { buildVirtualBoard, VirtualBoardTransport, type VirtualBoardBuild } from '../host/link/vboard';
import { Rng } from '../generator/util/rng';
import { lines, writePlot } from '../host/plot';
import { plotPath, report, table } from './table';

interface Row {
  phy: 'uart' | 'bytes';
  baud: number;
  faultRate: number;
  payloadBytes: number;
  seconds: number;
  /** Payload bytes/s over baud/10. */
  fractionOfLine: number;
  /** Simulated cycles per payload byte. */
  cyclesPerByte: number;
  /** NAK-driven go-back rounds and SYNC barriers (timeouts). */
  goBacks: number;
  syncs: number;
  naks: number;
}

async function measure(b: VirtualBoardBuild, phy: Row['phy'], pty: PtyPair, baud: number, faultRate: number, bytes: number): Promise<Row> {
  const board = new VirtualBoardTransport(b);
  const f = faultRate / 3;
  const bridge = await PtyBridge.open(pty.device, board, { baud, faults: { corrupt: f, drop: f, duplicate: f, seed: 1 } });
  const ops = new FramedOps(await SerialTransport.open(pty.host, baud));
  const dev = await Device.open(ops, b.regmap);
  const rng = new Rng(5);
  const words = Uint32Array.from({ length: bytes / 4 }, () => rng.int(0, 0xffffffff) >>> 0);
  try {
    await dev.writeMemory(0, words.subarray(0, 64), { verify: false }); // warm up (RTT estimate, window)
    const s0 = { ...ops.link.stats };
    const c0 = board.cycles;
    const t0 = performance.now();
    await dev.writeMemory(0, words, { verify: false });
    const seconds = (performance.now() - t0) / 1000;
    const cycles = board.cycles - c0;
    // Spot-check the data (the tests verify everything; a bench must not report a fast wrong transfer).
    const at = rng.int(0, words.length - 64);
    const back = await dev.readMemory(at, 64);
    for (let i = 0; i < 64; i++) if (back[i] !== words[at + i]) throw new Error(`bench link: word ${at + i} read back wrong`);
    return {
      phy,
      baud,
      faultRate,
      payloadBytes: bytes,
      seconds,
      fractionOfLine: bytes / seconds / (baud / 10),
      cyclesPerByte: cycles / bytes,
      goBacks: ops.link.stats.selectiveRounds - s0.selectiveRounds,
      syncs: ops.link.stats.syncs - s0.syncs,
      naks: ops.link.stats.naks - s0.naks,
    };
  } finally {
    await dev.close();
    await bridge.close();
    await board.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const core = (): ReturnType<typeof linkTestCore> => linkTestCore({ memWords: 65536 });
  const uart = await buildVirtualBoard(core(), { design: 'linktest', memWords: 65536 }, { simClocksPerBit: 4 });
  const bytesBoard = await buildVirtualBoard(core(), { design: 'linktest', memWords: 65536, phy: 'bytes' }, { simClocksPerBit: 4 });
  const pty = await PtyPair.open();
  const rows: Row[] = [];
  const slow = quick ? 16_384 : 65_536;
  const fast = quick ? 131_072 : 524_288;
  try {
    rows.push(await measure(uart, 'uart', pty, 115_200, 0, slow));
    rows.push(await measure(bytesBoard, 'bytes', pty, 115_200, 0, slow));
    rows.push(await measure(bytesBoard, 'bytes', pty, 3_000_000, 0, fast));
    // Smaller transfers at high fault rates, where throughput is a few % of the line (keeps the bench to minutes).
    const size = (big: number, rate: number): number => (rate >= 0.03 ? big / 4 : big);
    for (const rate of [0.001, 0.003, 0.01, 0.03]) rows.push(await measure(uart, 'uart', pty, 115_200, rate, size(quick ? 8192 : 32_768, rate)));
    for (const rate of [0.001, 0.003, 0.01, 0.03]) rows.push(await measure(bytesBoard, 'bytes', pty, 3_000_000, rate, size(quick ? 65_536 : 262_144, rate)));
  } finally {
    await pty.close();
  }
  const plot = plotPath(argv);
  if (plot)
    await writePlot(
      plot,
      lines(
        'link bulk throughput vs byte fault rate',
        rows.map((r) => ({ x: r.faultRate * 100, y: r.fractionOfLine, series: `${r.phy} @ ${r.baud} baud` })),
        { x: 'bytes corrupted / dropped / duplicated per direction (%)', y: 'fraction of line rate', logX: true, logY: true },
      ),
    );
  report(argv, { bench: 'link', clocksPerBit: uart.cfg.clocksPerBit, rows, plot: plot ?? null }, () =>
    [
      'bulk MEM_WRITE over serialport <-> socat pty <-> Verilator virtual board, bridge paced at the line rate',
      `phy uart: the generated UART at ${uart.cfg.clocksPerBit} clocks/bit in the loop; phy bytes: pty bytes straight into the link RTL (no UART)`,
      table(
        ['phy', 'baud', 'byte fault rate', 'payload B', 's', 'fraction of line rate', 'sim cycles/B', 'go-backs', 'syncs (timeouts)', 'NAKs'],
        rows.map((r) => [r.phy, r.baud, r.faultRate, r.payloadBytes, r.seconds, r.fractionOfLine, r.cyclesPerByte, r.goBacks, r.syncs, r.naks]),
      ),
    ].join('\n'),
  );
}
