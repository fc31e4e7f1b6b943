/**
 * The generated top level for a board: clock input (IBUFDS/BUFG on Xilinx differential clocks), a PLL or MMCM
 * when the fabric clock differs from the board clock, the reset synchroniser, and the app (UART, trigger, LEDs)
 * wired to named top-level ports. Returns the pin of every port bit for the constraints writers. A camera video
 * input of the app (cam_*) becomes top-level ports without pins on boards with a frame grabber (Board.camera).
 */
import type { Board, PinDef } from '../../boards';
import { Module, cat, lit, type Expr, type Signal } from '../hdl';
import { checkAppPorts, type BoardApp } from './app';
import type { ClockPlan } from './pll';
import { BUFG, EHXPLLL, IBUFDS, MMCME2_BASE, MMCME3_BASE, MMCME4_BASE, SB_PLL40_PAD } from './primitives';
import { resetSyncModule } from './reset';

export const TOP_NAME = 'top';

export interface PinAssignment {
  /** Top-level port name. */
  port: string;
  /** Bit of a vector port; undefined for scalar ports. */
  bit?: number;
  dir: 'input' | 'output';
  pin: PinDef;
  role: 'clock' | 'reset' | 'uart_rx' | 'uart_tx' | 'trigger' | 'led' | 'tie-off';
}

export interface Shell {
  top: Module;
  plan: ClockPlan;
  pins: PinAssignment[];
  /** Vendor primitives instantiated (their lint/sim stand-ins are in rtl/boards/stubs/). */
  primitives: string[];
  /** The clock port (P side for differential clocks). */
  clockPort: string;
  /** Top-level ports with no pin: the camera's video input, where the board's frame grabber core connects. */
  video: string[];
}

export function buildShell(board: Board, app: BoardApp, plan: ClockPlan): Shell {
  checkAppPorts(app.module);
  const m = new Module(TOP_NAME, { clocked: false, doc: `${board.title}: board shell around ${app.module.name}` });
  const pins: PinAssignment[] = [];
  const primitives: string[] = [];
  const bit1 = (s: Signal | Expr, activeLow?: boolean): Expr => (activeLow ? s.not() : s);

  // ---- clock ----------------------------------------------------------------------------------------
  const vendor = board.part.vendor;
  let clkIn: Signal;
  let clkSrc: Signal;
  let clockPort: string;
  if (board.clock.pinN) {
    clkIn = m.input('clk_in_p', 1);
    const n = m.input('clk_in_n', 1);
    pins.push({ port: 'clk_in_p', dir: 'input', pin: board.clock.pin, role: 'clock' }, { port: 'clk_in_n', dir: 'input', pin: board.clock.pinN, role: 'clock' });
    clkSrc = m.wire('clk_ibuf', 1);
    m.instance(IBUFDS, 'u_clk_ibufds', { I: clkIn, IB: n, O: clkSrc }, board.clock.xdcExtra?.includes('DQS_BIAS TRUE') ? { DQS_BIAS: 'TRUE' } : {});
    primitives.push('IBUFDS');
    clockPort = 'clk_in_p';
  } else {
    clkIn = m.input('clk_in', 1);
    pins.push({ port: 'clk_in', dir: 'input', pin: board.clock.pin, role: 'clock' });
    clkSrc = clkIn;
    clockPort = 'clk_in';
  }
  let locked: Expr = lit(1, 1);
  if (plan.kind === 'direct') {
    if (vendor === 'xilinx' && board.clock.pinN) {
      m.instance(BUFG, 'u_clk_bufg', { I: clkSrc, O: m.clk });
      primitives.push('BUFG');
    } else m.assign(m.clk, clkSrc);
  } else if (plan.kind === 'ice40') {
    const lock = m.wire('pll_locked', 1);
    m.instance(SB_PLL40_PAD, 'u_pll', { PACKAGEPIN: clkIn, RESETB: lit(1, 1), BYPASS: lit(0, 1), PLLOUTGLOBAL: m.clk, LOCK: lock }, { FEEDBACK_PATH: 'SIMPLE', ...plan.params });
    primitives.push('SB_PLL40_PAD');
    locked = lock;
  } else if (plan.kind === 'ecp5') {
    const lock = m.wire('pll_locked', 1);
    const clkop = m.wire('pll_clkop', 1);
    const z = lit(0, 1);
    m.instance(
      EHXPLLL,
      'u_pll',
      { CLKI: clkIn, CLKFB: clkop, RST: z, STDBY: z, PHASESEL1: z, PHASESEL0: z, PHASEDIR: lit(1, 1), PHASESTEP: lit(1, 1), PHASELOADREG: lit(1, 1), PLLWAKESYNC: z, ENCLKOP: z, CLKOP: clkop, LOCK: lock },
      {
        PLLRST_ENA: 'DISABLED',
        INTFB_WAKE: 'DISABLED',
        STDBY_ENABLE: 'DISABLED',
        DPHASE_SOURCE: 'DISABLED',
        OUTDIVIDER_MUXA: 'DIVA',
        CLKOP_ENABLE: 'ENABLED',
        CLKOP_FPHASE: 0,
        FEEDBK_PATH: 'CLKOP',
        ...plan.params,
      },
    );
    m.assign(m.clk, clkop);
    primitives.push('EHXPLLL');
    locked = lock;
  } else {
    const prim = { MMCME2_BASE, MMCME3_BASE, MMCME4_BASE }[plan.primitive];
    const lock = m.wire('mmcm_locked', 1);
    const fb = m.wire('mmcm_fb', 1);
    const out0 = m.wire('mmcm_clkout0', 1);
    m.instance(prim, 'u_mmcm', { CLKIN1: clkSrc, CLKFBIN: fb, RST: lit(0, 1), PWRDWN: lit(0, 1), CLKOUT0: out0, CLKFBOUT: fb, LOCKED: lock }, { ...plan.params });
    m.instance(BUFG, 'u_clk_bufg', { I: out0, O: m.clk });
    primitives.push(plan.primitive, 'BUFG');
    locked = lock;
  }

  // ---- reset ----------------------------------------------------------------------------------------
  let request: Expr = locked.not();
  if (board.reset) {
    const btn = m.input('rst_btn', 1);
    pins.push({ port: 'rst_btn', dir: 'input', pin: board.reset, role: 'reset' });
    request = request.or(bit1(btn, board.reset.activeLow));
  }
  const req = m.let('rst_request', request);
  m.instance(resetSyncModule(), 'u_reset', { clk: m.clk, rst: req, rst_out: m.rst });

  // ---- app ------------------------------------------------------------------------------------------
  const rx = m.input('uart_rx', 1);
  const tx = m.output('uart_tx', 1);
  pins.push({ port: 'uart_rx', dir: 'input', pin: board.uart.rx, role: 'uart_rx' }, { port: 'uart_tx', dir: 'output', pin: board.uart.tx, role: 'uart_tx' });
  const conn: Record<string, Expr> = { uart_rx: rx, uart_tx: tx };
  const appTrig = app.module.signals.get('trigger');
  const appLed = app.module.signals.get('led');
  const trigW = appTrig ? m.wire('app_trigger', 1) : undefined;
  if (trigW) conn.trigger = trigW;
  const ledW = appLed ? m.wire('app_led', appLed.width) : undefined;
  if (ledW) conn.led = ledW;
  // Camera video input: to the top (no pins: the frame grabber core inside the FPGA drives it) or tied off.
  const video: string[] = [];
  for (const p of app.module.ports.filter((x) => /^cam_/.test(x.name))) {
    if (board.camera) {
      conn[p.name] = p.role === 'input' ? m.input(p.name, p.width) : m.output(p.name, p.width);
      video.push(p.name);
    } else if (p.role === 'input') conn[p.name] = lit(0, p.width);
    else conn[p.name] = m.wire(`app_${p.name}_unused`, p.width);
  }
  m.instance(app.module, 'u_app', conn);

  if (board.trigger) {
    const t = m.output('trigger', 1);
    pins.push({ port: 'trigger', dir: 'output', pin: board.trigger, role: 'trigger' });
    m.assign(t, bit1(trigW ?? lit(0, 1), board.trigger.activeLow));
  }
  if (board.leds.length) {
    const n = board.leds.length;
    const led = m.output('led', n);
    const bits: Expr[] = [];
    for (let i = 0; i < n; i++) {
      const on: Expr = ledW && i < ledW.width ? (ledW.width === 1 ? ledW : ledW.bit(i)) : lit(0, 1);
      bits.push(bit1(on, board.leds[i]!.activeLow));
      pins.push({ port: 'led', bit: n === 1 ? undefined : i, dir: 'output', pin: board.leds[i]!, role: 'led' });
    }
    m.assign(led, cat(...bits.reverse()));
  }
  for (const t of board.tieOffs ?? []) {
    const p = m.output(t.port, 1);
    m.assign(p, lit(t.value, 1));
    pins.push({ port: t.port, dir: 'output', pin: t.pin, role: 'tie-off' });
  }
  return { top: m, plan, pins, primitives: [...new Set(primitives)], clockPort, video };
}
