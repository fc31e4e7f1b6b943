/**
 * Reset synchroniser for the board shell. `rst` here is the raw request (button pressed or clock not locked),
 * asynchronous to clk: two flops synchronise it, then a counter holds `rst_out` high for 2^(bits-1) cycles after
 * the request ends. Its registers have no reset value on purpose: FPGA flops power up at 0 (iCE40, ECP5, and
 * Xilinx INIT=0), so the counter starts at 0 and the design sees a reset pulse after configuration too.
 */
import { Module } from '../hdl';

export function resetSyncModule(bits = 8, name = 'reset_sync'): Module {
  const m = new Module(name, { doc: `reset synchroniser: 2 flops + ${2 ** (bits - 1)}-cycle stretch` });
  const out = m.output('rst_out', 1);
  const s1 = m.reg('req_s1', 1);
  const s2 = m.reg('req_s2', 1);
  const cnt = m.reg('hold_cnt', bits);
  const o = m.reg('rst_r', 1);
  const done = cnt.bit(bits - 1);
  m.sync((b) => {
    b.set(s1, m.rst).set(s2, s1);
    b.if(s2, (t) => t.set(cnt, 0), (t) => t.if(done.not(), (u) => u.set(cnt, cnt.add(1))));
    b.set(o, done.not());
  });
  m.assign(out, o);
  return m;
}
