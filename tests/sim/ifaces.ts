import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModuleInterface, PortDesc } from '../../generator/hdl/interface';
import type { VerilogFile } from '../../sim/index';

/** Hand-written ModuleInterfaces for the sim fixtures (real designs get theirs from the IR). */

const here = path.dirname(fileURLToPath(import.meta.url));
const port = (name: string, dir: 'input' | 'output', width: number, signed = false): PortDesc => ({ name, dir, width, signed });

export const passthroughIface: ModuleInterface = {
  name: 'passthrough',
  clock: 'clk',
  reset: 'rst',
  ports: [
    port('clk', 'input', 1),
    port('rst', 'input', 1),
    port('addend', 'input', 8),
    port('count', 'output', 16),
    port('a_valid', 'input', 1),
    port('a_ready', 'output', 1),
    port('a_data', 'input', 100),
    port('a_last', 'input', 1),
    port('b_valid', 'output', 1),
    port('b_ready', 'input', 1),
    port('b_data', 'output', 100),
    port('b_last', 'output', 1),
  ],
  streams: [
    { name: 'a', dir: 'in', width: 100, valid: 'a_valid', ready: 'a_ready', data: 'a_data', last: 'a_last' },
    { name: 'b', dir: 'out', width: 100, valid: 'b_valid', ready: 'b_ready', data: 'b_data', last: 'b_last' },
  ],
};

export const passthroughText = readFileSync(path.join(here, '../fixtures/sim/passthrough.v'), 'utf8');
export const passthroughFiles: VerilogFile[] = [{ name: 'passthrough.v', text: passthroughText }];

export const PLAIN_WIDTHS = [1, 8, 16, 32, 33, 64, 65, 96];

export const widthsIface: ModuleInterface = {
  name: 'widths',
  clock: 'clock',
  reset: 'reset',
  ports: [
    port('clock', 'input', 1),
    port('reset', 'input', 1),
    ...PLAIN_WIDTHS.map((w) => port(`p${w}`, 'input', w)),
    ...PLAIN_WIDTHS.map((w) => port(`q${w}`, 'output', w)),
    port('s_valid', 'input', 1),
    port('s_ready', 'output', 1),
    port('s_data', 'input', 64),
    port('t_valid', 'output', 1),
    port('t_ready', 'input', 1),
    port('t_data', 'output', 64, true),
    port('c_valid', 'input', 1),
    port('c_ready', 'output', 1),
    port('c_data', 'input', 33),
    port('violations', 'output', 16),
    port('c_beats', 'output', 16),
  ],
  streams: [
    { name: 's', dir: 'in', width: 64, valid: 's_valid', ready: 's_ready', data: 's_data' },
    { name: 't', dir: 'out', width: 64, valid: 't_valid', ready: 't_ready', data: 't_data' },
    { name: 'c', dir: 'in', width: 33, valid: 'c_valid', ready: 'c_ready', data: 'c_data' },
  ],
};

export const widthsFiles: VerilogFile[] = [{ name: 'widths.v', text: readFileSync(path.join(here, 'fixtures/widths.v'), 'utf8') }];

/** Random unsigned value of `bits` bits from a [0,1) source. */
export function randomWord(next: () => number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(Math.floor(next() * 65536));
  return BigInt.asUintN(bits, v);
}
