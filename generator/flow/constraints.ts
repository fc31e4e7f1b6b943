/**
 * Constraints writers: PCF (iCE40 / nextpnr), XDC (Vivado) and LPF (ECP5 / nextpnr-ecp5), all from the
 * shell's pin assignments, so the ports and the constraints cannot disagree. parseConstraints() reads them back
 * for the pin check.
 */
import type { Board } from '../../boards';
import type { PinAssignment, Shell } from '../shell/shell';

const bitName = (p: PinAssignment) => (p.bit === undefined ? p.port : `${p.port}[${p.bit}]`);

export function writePcf(board: Board, shell: Shell): string {
  const out = [`# lutforge: ${board.title} (pins: ${board.pinSource})`, `# fabric clock ${shell.plan.outMhz} MHz: pass --freq to nextpnr-ice40`];
  for (const p of shell.pins) {
    const pull = p.pin.pull === 'up' ? ' -pullup yes' : '';
    out.push(`set_io${pull} ${bitName(p)} ${p.pin.pin}  # ${p.pin.net}`);
  }
  return out.join('\n') + '\n';
}

export function writeXdc(board: Board, shell: Shell): string {
  const out = [`# lutforge: ${board.title}`, `# pins: ${board.pinSource}`];
  if (board.placeholder) out.push(`# PLACEHOLDER PINS: ${board.placeholder}`);
  for (const p of shell.pins) {
    const n = bitName(p);
    out.push(`set_property -dict {PACKAGE_PIN ${p.pin.pin} IOSTANDARD ${p.pin.iostandard ?? 'LVCMOS33'}} [get_ports {${n}}] ;# ${p.pin.net}`);
    if (p.pin.pull === 'up') out.push(`set_property PULLUP TRUE [get_ports {${n}}]`);
    if (p.pin.pull === 'down') out.push(`set_property PULLDOWN TRUE [get_ports {${n}}]`);
  }
  for (const x of board.clock.xdcExtra ?? []) out.push(`set_property ${x} [get_ports {${shell.clockPort}}]`);
  out.push(`create_clock -period ${(1000 / shell.plan.inMhz).toFixed(3)} -name board_clk [get_ports {${shell.clockPort}}]`);
  // The UART, button, trigger and LEDs are asynchronous to the fabric clock.
  const ins = shell.pins.filter((p) => p.dir === 'input' && p.role !== 'clock').map(bitName);
  const outs = shell.pins.filter((p) => p.dir === 'output').map(bitName);
  if (ins.length) out.push(`set_false_path -from [get_ports {${ins.join(' ')}}]`);
  if (outs.length) out.push(`set_false_path -to [get_ports {${outs.join(' ')}}]`);
  out.push(...(board.xdcBoard ?? []));
  return out.join('\n') + '\n';
}

export function writeLpf(board: Board, shell: Shell): string {
  const out = [`# lutforge: ${board.title} (pins: ${board.pinSource})`, 'BLOCK RESETPATHS;', 'BLOCK ASYNCPATHS;'];
  for (const p of shell.pins) {
    const n = bitName(p);
    out.push(`LOCATE COMP "${n}" SITE "${p.pin.pin}"; # ${p.pin.net}`);
    const pull = p.pin.pull ? ` PULLMODE=${p.pin.pull.toUpperCase()}` : '';
    out.push(`IOBUF PORT "${n}" IO_TYPE=${p.pin.iostandard ?? 'LVCMOS33'}${pull};`);
  }
  out.push(`FREQUENCY PORT "${shell.clockPort}" ${shell.plan.inMhz} MHZ;`);
  return out.join('\n') + '\n';
}

export function writeConstraints(board: Board, shell: Shell): { name: string; text: string } {
  if (board.constraints === 'pcf') return { name: 'top.pcf', text: writePcf(board, shell) };
  if (board.constraints === 'lpf') return { name: 'top.lpf', text: writeLpf(board, shell) };
  return { name: 'top.xdc', text: writeXdc(board, shell) };
}

/** Port bit -> pin pairs in a constraints file, in file order (duplicates kept so the pin check can see them). */
export function parseConstraints(format: 'pcf' | 'xdc' | 'lpf', text: string): Array<{ port: string; pin: string }> {
  const out: Array<{ port: string; pin: string }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(format === 'xdc' ? /;#.*$|^\s*#.*$/ : format === 'pcf' ? /#.*$/ : /#.*$/, '').trim();
    if (!line) continue;
    if (format === 'pcf') {
      const t = line.split(/\s+/);
      if (t[0] === 'set_io' && t.length >= 3) out.push({ port: t[t.length - 2]!, pin: t[t.length - 1]! });
    } else if (format === 'xdc') {
      const m = /PACKAGE_PIN\s+([^\s}]+).*get_ports\s+(?:\{\s*([^}\s]+)\s*\}|([^\s\]]+))\s*\]/.exec(line);
      if (m) out.push({ port: (m[2] ?? m[3])!, pin: m[1]! });
    } else {
      const m = /^LOCATE\s+COMP\s+"([^"]+)"\s+SITE\s+"([^"]+)"/.exec(line);
      if (m) out.push({ port: m[1]!, pin: m[2]! });
    }
  }
  return out;
}
