/** CRC-16 (poly 0x1021, no reflection) byte update in the IR: eight named steps, so the printed Verilog stays linear in size. */
import { lit, mux, type Expr, type Module } from '../hdl';
import { CRC_POLY } from './protocol';

export function crcByte(m: Module, prefix: string, crc: Expr, byte: Expr): Expr {
  let c: Expr = m.let(`${prefix}_in`, crc.xor(byte.zext(16).shl(8)));
  for (let i = 0; i < 8; i++) c = m.let(`${prefix}_s${i}`, mux(c.bit(15), c.shl(1).xor(lit(CRC_POLY, 16)), c.shl(1)));
  return c;
}
