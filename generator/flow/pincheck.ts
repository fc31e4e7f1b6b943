/**
 * Pin check: every top-level port bit is constrained exactly once, nothing else is constrained, no package pin is
 * used twice, and every pin exists on the board's package (boards/packages.ts).
 */
import { isPackagePin, type Board } from '../../boards';
import type { Module } from '../hdl';
import { parseConstraints } from './constraints';

export interface PinCheck {
  ok: boolean;
  problems: string[];
  /** port bit -> pin */
  map: Record<string, string>;
}

export function portBits(top: Module): string[] {
  return top.ports.flatMap((p) => (p.width === 1 ? [p.name] : Array.from({ length: p.width }, (_, i) => `${p.name}[${i}]`)));
}

export function checkPins(board: Board, top: Module, constraintsText: string): PinCheck {
  const pairs = parseConstraints(board.constraints, constraintsText);
  const problems: string[] = [];
  const map: Record<string, string> = {};
  const byPin = new Map<string, string>();
  const bits = new Set(portBits(top));
  for (const { port, pin } of pairs) {
    if (port in map) problems.push(`port ${port} is constrained twice (${map[port]} and ${pin})`);
    map[port] = pin;
    if (!bits.has(port)) problems.push(`constraint for ${port} (pin ${pin}) names no top-level port`);
    const other = byPin.get(pin);
    if (other !== undefined && other !== port) problems.push(`pin ${pin} is used by both ${other} and ${port}`);
    byPin.set(pin, port);
    if (!isPackagePin(board.part.package, pin)) problems.push(`pin ${pin} (${port}) is not a pin of package ${board.part.package}`);
  }
  for (const b of bits) if (!(b in map)) problems.push(`top-level port ${b} has no pin constraint`);
  return { ok: problems.length === 0, problems, map };
}
