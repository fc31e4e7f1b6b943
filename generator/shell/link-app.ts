/**
 * Board app for designs driven through the issue-6 link (generator/link/): UART framing with CRC, register bank
 * and stream channels. The link top keeps plain core outputs as registers; the sort trigger must also reach a pin,
 * so the core's `pulse` output is brought out of the link top as `trigger_pin` (the link top names its core
 * wires core_<port>). A camera video input on the link top (cam_t*, cam_on) is passed through to the shell.
 */
import { Module, cat, lit, type Expr } from '../hdl';
import { linkConfig } from '../link/config';
import { linkBoardTop, type LinkTopOptions } from '../link/top';
import { regMapJson, regMapTypeScript } from '../regmap/emit';
import type { AppContext, BoardApp } from './app';

export function linkApp(ctx: AppContext, top: LinkTopOptions = { design: ctx.design }): BoardApp {
  const cfg = linkConfig({ clockHz: Math.round(ctx.clockHz), baud: ctx.baud });
  const { board: lt, regmap } = linkBoardTop(ctx.core, cfg, top);
  const pulse = lt.signals.get('core_pulse');
  const armed = lt.signals.get('core_armed');
  if (pulse && pulse.width === 1) lt.assign(lt.output('trigger_pin', 1), pulse);
  if (armed && armed.width === 1) lt.assign(lt.output('armed_pin', 1), armed);

  const m = new Module(`${ctx.design}_app`, { doc: `${ctx.design} behind the lutforge link (${cfg.baud} baud, ${cfg.clocksPerBit} clocks/bit)` });
  const rx = m.input('uart_rx', 1);
  const tx = m.output('uart_tx', 1);
  const trigger = m.output('trigger', 1);
  const led = m.output('led', 2);
  const busy = m.wire('link_busy', 1);
  const conn: Record<string, Expr> = { uart_rxd: rx, uart_txd: tx, busy };
  const trig = pulse ? m.wire('core_trigger', 1) : undefined;
  if (trig) conn.trigger_pin = trig;
  const arm = armed ? m.wire('core_armed', 1) : undefined;
  if (arm) conn.armed_pin = arm;
  // The camera's video input (cellnet: LinkTopOptions.videoIn) goes straight through to the shell.
  for (const p of lt.ports) if (/^cam_(t\w+|on)$/.test(p.name)) conn[p.name] = p.role === 'input' ? m.input(p.name, p.width) : m.output(p.name, p.width);
  m.instance(lt, 'u_link', conn);
  m.assign(trigger, trig ?? lit(0, 1));
  // LED 0: link busy (frames moving); LED 1: trigger armed.
  m.assign(led, cat(arm ?? lit(0, 1), busy));
  return { module: m, description: `${ctx.design} behind the issue-6 link (UART ${cfg.baud} baud, CRC framing, register bank)`, regmap: regMapJson(regmap), regmapTs: regMapTypeScript(regmap) };
}
