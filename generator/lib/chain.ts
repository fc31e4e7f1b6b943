/**
 * A bank of byte registers that is also a load shift chain: while `ld` is high every register takes its
 * predecessor's value (register 0 takes `ldIn`), so a byte stream fills the bank in as many beats as it has
 * bytes. Optionally the bank rotates (register p takes register from(p)) when `rot` is high and `ld` is low.
 * Registers reset to `init` (the power-up contents).
 */
import type { Expr, Module, Signal } from '../hdl';

export interface ByteChain {
  regs: Signal[];
  /** The last register: feed it to the next chain's ldIn. */
  tail: Signal;
}

export function byteChain(
  m: Module,
  prefix: string,
  init: readonly number[],
  ld: Expr,
  ldIn: Expr,
  rotate?: { en: Expr; from: (p: number) => number },
): ByteChain {
  const regs = init.map((v, p) => m.reg(`${prefix}_${p}`, 8, { init: v & 0xff }));
  m.sync(
    (b) =>
      b.if(
        ld,
        (t) => regs.forEach((r, p) => t.set(r, p === 0 ? ldIn : regs[p - 1]!)),
        rotate ? (e) => e.if(rotate.en, (u) => regs.forEach((r, p) => u.set(r, regs[rotate.from(p)]!))) : undefined,
      ),
    `${prefix}_chain`,
  );
  return { regs, tail: regs[regs.length - 1]! };
}
