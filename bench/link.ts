/**
 * Link throughput: bulk MEM_WRITE over the real serial stack (serialport <-> socat pty <-> Verilator virtual board),
 * with the bridge pacing bytes at the emulated line rate (a pty has no baud rate), as a fraction of the raw line
 * rate baud/10 bytes/s; then how it falls with the byte fault rate (docs/protocol.md#what-the-link-bench-measures).
 *
 * Two virtual boards: `uart` puts the generated UART (4 clocks/bit) in the loop, so at 3 Mbaud it would have to
 * simulate 12M cycles/s and measures the simulator instead; `bytes` bridges the pty bytes straight into the link's
 * frame receiver and out of its encoder (framing, CRC, sequence numbers, acks and flow control all in RTL), so the
 * pacing at the declared baud is the only line limit.
 *
 * Each row then sends numbered events (24-bit beats through the test core's +1 loopback) over the same faulty line
 * and counts those lost, duplicated or reordered: the protocol's guarantees, measured where throughput is.
 * `--frames N` / `--slot B` set the reorder buffer (maxFrames slots of B bytes; default: the link defaults).
 */
import { LINK_DEFAULTS } from '../generator/link/config';
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
  /** NAK-driven selective resend rounds, non-blocking SYNC probes, SYNC barriers (timeouts of lone requests). */
  selectiveRounds: number;
  probes: number;
  syncs: number;
  naks: number;
  framesRetransmitted: number;
  /** Numbered events sent after the transfer, and how many came back lost, duplicated or out of order. */
  events: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

/** Sends n numbered beats through the +1 loopback and counts what comes back wrong. */
async function checkEvents(dev: Device, n: number): Promise<Pick<Row, 'events' | 'lost' | 'duplicated' | 'reordered'>> {
  const sent = Array.from({ length: n }, (_, i) => i);
  const got: number[] = [];
  const collect = dev.collectStream('words_out', n, { signal: AbortSignal.timeout(120_000), onBeats: (b) => got.push(...b.data.map((x) => Number(x) - 1)) }).catch(() => undefined);
  await dev.writeStream('words_in', sent, { last: sent.map((i) => i % 6 === 5) });
  await collect;
  await new Promise((r) => setTimeout(r, 50));
  got.push(...(await dev.readStream('words_out')).data.map((x) => Number(x) - 1)); // anything trailing is a duplicate
  const seen = new Set(got);
  let reordered = 0;
  for (let i = 1; i < got.length; i++) if (got[i]! < got[i - 1]!) reordered++;
  return { events: n, lost: sent.filter((i) => !seen.has(i)).length, duplicated: got.length - seen.size, reordered };
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
    const st = { ...ops.link.stats }; // the transfer only (the checks below also use the link)
    // Spot-check the data (the tests verify everything; a bench must not report a fast wrong transfer).
    const at = rng.int(0, words.length - 64);
    const back = await dev.readMemory(at, 64);
    for (let i = 0; i < 64; i++) if (back[i] !== words[at + i]) throw new Error(`bench link: word ${at + i} read back wrong`);
    const ev = await checkEvents(dev, 384);
    return {
      phy,
      baud,
      faultRate,
      payloadBytes: bytes,
      seconds,
      fractionOfLine: bytes / seconds / (baud / 10),
      cyclesPerByte: cycles / bytes,
      selectiveRounds: st.selectiveRounds - s0.selectiveRounds,
      probes: st.probes - s0.probes,
      syncs: st.syncs - s0.syncs,
      naks: st.naks - s0.naks,
      framesRetransmitted: st.framesRetransmitted - s0.framesRetransmitted,
      ...ev,
    };
  } finally {
    await dev.close();
    await bridge.close();
    await board.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const arg = (name: string): number | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const frames = arg('--frames') ?? LINK_DEFAULTS.maxFrames;
  const slot = arg('--slot') ?? LINK_DEFAULTS.rxFifoBytes / LINK_DEFAULTS.maxFrames;
  const link = { simClocksPerBit: 4, maxFrames: frames, rxFifoBytes: frames * slot };
  const core = (): ReturnType<typeof linkTestCore> => linkTestCore({ memWords: 65536 });
  const uart = await buildVirtualBoard(core(), { design: 'linktest', memWords: 65536 }, link);
  const bytesBoard = await buildVirtualBoard(core(), { design: 'linktest', memWords: 65536, phy: 'bytes' }, link);
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
  report(argv, { bench: 'link', clocksPerBit: uart.cfg.clocksPerBit, reorderFrames: frames, slotBytes: slot, rows, plot: plot ?? null }, () =>
    [
      'bulk MEM_WRITE over serialport <-> socat pty <-> Verilator virtual board, bridge paced at the line rate',
      `reorder buffer: ${frames} frames x ${slot} B; then ${rows[0]?.events ?? 0} numbered events per row through the faulty line`,
      `phy uart: the generated UART at ${uart.cfg.clocksPerBit} clocks/bit in the loop; phy bytes: pty bytes straight into the link RTL (no UART)`,
      table(
        ['phy', 'baud', 'byte fault rate', 'payload B', 's', 'fraction of line rate', 'sim cycles/B', 'resend rounds', 'probes', 'syncs', 'NAKs', 'frames resent', 'lost', 'dup', 'reordered'],
        rows.map((r) => [r.phy, r.baud, r.faultRate, r.payloadBytes, r.seconds, r.fractionOfLine, r.cyclesPerByte, r.selectiveRounds, r.probes, r.syncs, r.naks, r.framesRetransmitted, r.lost, r.duplicated, r.reordered]),
      ),
    ].join('\n'),
  );
}
