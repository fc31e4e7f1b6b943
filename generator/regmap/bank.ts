/**
 * The Verilog register bank of a RegMap, built in the IR. Bus side: one address for reads and writes
 * (reads are combinational; `rok`/`wok` say whether the address exists and is readable/writable).
 * Core side: `q_<name>` outputs for rw registers, `d_<name>` inputs for ro registers.
 */
import { Module, lit, type Expr, type Signal } from '../hdl';
import type { RegMap } from './regmap';

export function regBankModule(map: RegMap, name = `${map.design}_regs`): Module {
  const m = new Module(name, { doc: `register bank of ${map.design}: ${map.registers.length} registers` });
  const we = m.input('we', 1);
  const addr = m.input('addr', 16);
  const wdata = m.input('wdata', 32);
  const rdata = m.output('rdata', 32, { init: 0 });
  const rok = m.output('rok', 1, { init: 0 });
  const wok = m.output('wok', 1, { init: 0 });
  const values: Expr[] = [];
  for (const r of map.registers) {
    let v: Expr;
    if (r.access === 'const') v = lit(r.value >>> 0, 32);
    else if (r.access === 'ro') v = m.input(`d_${r.name}`, r.width).zext(32);
    else {
      const q = m.reg(`r_${r.name}`, r.width, { init: BigInt(r.value >>> 0) & ((1n << BigInt(r.width)) - 1n) });
      const out: Signal = m.output(`q_${r.name}`, r.width);
      m.assign(out, q);
      m.sync((b) => b.if(we.and(addr.eq(r.addr)), (t) => t.set(q, wdata.slice(r.width - 1, 0))));
      v = q.zext(32);
    }
    values.push(v);
  }
  m.comb((b) => {
    b.set(rdata, 0).set(rok, 0).set(wok, 0);
    b.switch(
      addr,
      map.registers.map((r, i) => [r.addr, (c) => c.set(rdata, values[i]!).set(rok, 1).set(wok, r.access === 'rw' ? 1 : 0)] as [number, (c: import('../hdl').Block) => void]),
    );
  });
  return m;
}
