import { describe, expect, it } from 'vitest';
import { Module, printDesign } from '../../../generator/hdl';
import { gemvConfig, gemvGolden, gemvModule, packJob, unpackY } from '../../../generator/llm/gemv';
import { streamBridgeApp } from '../../../generator/shell/bridge';
import { uartClocksPerBit as uartDivisor } from '../../../generator/link/config';
import { uartRxModule, uartTxModule } from '../../../generator/link/uart';
import { Rng } from '../../../generator/util/rng';
import { ConfigError } from '../../../generator/util/errors';
import { lintVerilog } from '../../../sim/lint';
import { runIcarus } from '../../../sim/testbench';
import { randomMatrix, randomX } from '../llm/gemv/random-job';

const DIV = 4;

/** Host UART -> bridge app -> host UART, as byte streams, so the Icarus bench drives the serial protocol. */
function loopback(app: Module): Module {
  const m = new Module('bridge_loop');
  const h2d = m.streamIn('h2d', 8);
  const d2h = m.streamOut('d2h', 8);
  const a = m.wire('line_h2d', 1);
  const b = m.wire('line_d2h', 1);
  m.instance(uartTxModule(DIV, 'host_tx'), 'u_htx', { tx_valid: h2d.valid, tx_data: h2d.data, tx_ready: h2d.ready, txd: a });
  m.instance(app, 'u_app', { uart_rx: a, uart_tx: b, trigger: m.wire('trig', 1), led: m.wire('leds', 2) });
  m.instance(uartRxModule(DIV, 'host_rx', { hold: true }), 'u_hrx', { rxd: b, byte_valid: d2h.valid, byte_data: d2h.data, byte_ready: d2h.ready, framing_error: m.wire('host_rx_fe', 1) });
  return m;
}

const bytesOf = (v: bigint, n: number) => Array.from({ length: n }, (_, i) => (v >> BigInt(8 * i)) & 0xffn);

describe('UART stream bridge', () => {
  it('runs a GEMV job sent over the serial protocol and returns the golden outputs (Icarus)', async () => {
    const cfg = gemvConfig({ lanes: 2, simd: 4, group: 8, maxCols: 16, maxRows: 4, outBits: 16, outShift: 2 });
    const app = streamBridgeApp(gemvModule(cfg), 16e6, 16e6 / DIV);
    const rng = new Rng(5);
    const rows = 4;
    const cols = 13;
    const mat = randomMatrix(rng, cfg, rows, cols);
    const x = randomX(rng, cols);
    const words = packJob(cfg, mat, x);
    const ch = Object.fromEntries((app.regmap as { channels: Array<{ stream: string; dir: string; header: number; bytes: number }> }).channels.filter((c) => c.dir === 'in').map((c) => [c.stream, c]));
    const beat = (s: string, v: bigint) => [BigInt(ch[s]!.header), ...bytesOf(v, ch[s]!.bytes)];
    const bytes: bigint[] = [...beat('job', words.job[0]!), ...words.x.flatMap((v) => beat('x', v))];
    const steps = cfg.stepsPerGroup;
    let wi = 0;
    words.scales.forEach((s) => {
      for (let k = 0; k < steps; k++) bytes.push(...beat('w', words.weights[wi++]!));
      bytes.push(...beat('s', s));
    });
    expect(wi).toBe(words.weights.length);
    expect(words.scales.length).toBeGreaterThan(1);
    const yBytes = 1 + Math.ceil(cfg.yPortBits / 8);
    const res = await runIcarus(loopback(app.module), { inputs: { h2d: bytes }, outputs: { d2h: words.yWords * yBytes }, stall: 0.2, seed: 3, maxCycles: 400_000 });
    const out = res.outputs.d2h!;
    const ys: bigint[] = [];
    for (let i = 0; i < words.yWords; i++) {
      const chunk = out.slice(i * yBytes, (i + 1) * yBytes);
      expect(chunk[0]).toBe(0x80n); // output stream 0 (y), not last
      ys.push(chunk.slice(1).reduce((acc, b, k) => acc | (b << BigInt(8 * k)), 0n));
    }
    expect(unpackY(cfg, ys, rows)).toEqual(gemvGolden(cfg, mat, x));
  });

  it('lints clean with the UARTs', async () => {
    const d = printDesign(streamBridgeApp(gemvModule(gemvConfig({ lanes: 2, simd: 8, group: 32 })), 12e6, 115200).module);
    expect((await lintVerilog(d.files, d.top, { throwOnWarning: false })).messages).toEqual([]);
  });

  it('refuses baud rates the clock cannot make', () => {
    expect(uartDivisor(12e6, 115200)).toBe(104);
    expect(() => uartDivisor(12e6, 4e6)).toThrow(ConfigError);
    expect(() => uartDivisor(1e6, 300000)).toThrow(/2%|4 clock/);
  });
});
