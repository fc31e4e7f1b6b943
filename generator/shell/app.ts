/**
 * What a board shell wraps: an "app" module with a fixed pin-level boundary, so any design (the stream bridge
 * here, the cell classifier + link top from issues 5/6 later) plugs into any board shell.
 *
 *   clk, rst      fabric clock and synchronous active-high reset from the shell
 *   uart_rx  in   serial line from the host (idle high)
 *   uart_tx  out  serial line to the host (idle high)
 *   trigger  out  optional: the sort-trigger pulse, active high
 *   led      out  optional: up to 8 status LEDs, active high (the shell handles active-low boards)
 *   cam_tdata/_tuser/_tlast/_tvalid in, cam_tready/cam_on out
 *            optional: the camera's AXI4-Stream video input (UG934; generator/link/top.ts videoIn), fed by the
 *            board's frame grabber core; the shell brings it to the top or ties it off on boards without a camera
 */
import type { Module } from '../hdl';
import { ConfigError } from '../util/errors';

export interface BoardApp {
  module: Module;
  description: string;
  /** Written as regmap.json: the registers / channels the host sees. */
  regmap: object;
  /** Written as regmap.ts when the app has a link register map: the typed TS module (generator/regmap/emit.ts). */
  regmapTs?: string;
}

/** What an app builder gets: the design's core and config, and the board's fabric clock and UART rate. */
export interface AppContext {
  design: string;
  core: Module;
  config: object;
  clockHz: number;
  baud: number;
}

export function checkAppPorts(m: Module): void {
  const allowed: Record<string, { dir: 'input' | 'output'; maxWidth: number; required: boolean }> = {
    clk: { dir: 'input', maxWidth: 1, required: true },
    rst: { dir: 'input', maxWidth: 1, required: true },
    uart_rx: { dir: 'input', maxWidth: 1, required: true },
    uart_tx: { dir: 'output', maxWidth: 1, required: true },
    trigger: { dir: 'output', maxWidth: 1, required: false },
    led: { dir: 'output', maxWidth: 8, required: false },
    cam_tdata: { dir: 'input', maxWidth: 64, required: false },
    cam_tuser: { dir: 'input', maxWidth: 1, required: false },
    cam_tlast: { dir: 'input', maxWidth: 1, required: false },
    cam_tvalid: { dir: 'input', maxWidth: 1, required: false },
    cam_tready: { dir: 'output', maxWidth: 1, required: false },
    cam_on: { dir: 'output', maxWidth: 1, required: false },
  };
  for (const p of m.ports) {
    const a = allowed[p.name];
    const dir = p.role === 'input' ? 'input' : 'output';
    if (!a || a.dir !== dir || p.width > a.maxWidth)
      throw new ConfigError(
        'app',
        `board app '${m.name}' port ${dir} ${p.name}[${p.width}] is not part of the shell boundary (clk, rst, uart_rx, uart_tx, trigger, led[<=8], cam_t*/cam_on video input)`,
      );
  }
  for (const [n, a] of Object.entries(allowed)) if (a.required && !m.signals.get(n)) throw new ConfigError('app', `board app '${m.name}' lacks port ${n}`);
}
