/** The link CRC's byte update in the IR (protocol.ts crcUpdate): eight named steps, so the printed Verilog stays linear. */
import { lit, mux, type Expr, type Module } from '../hdl';
import { CRC_BITS, CRC_POLY } from './protocol';

export function crcByte(m: Module, prefix: string, crc: Expr, byte: Expr): Expr {
  let c: Expr = m.let(`${prefix}_in`, crc.xor(byte.zext(CRC_BITS).shl(CRC_BITS - 8)));
  for (let i = 0; i < 8; i++) c = m.let(`${prefix}_s${i}`, mux(c.bit(CRC_BITS - 1), c.shl(1).xor(lit(CRC_POLY, CRC_BITS)), c.shl(1)));
  return c;
}
