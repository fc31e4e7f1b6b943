/**
 * `linktest`: a small core for developing and testing the link without a real design. It has every kind of
 * thing the link connects: registers (rw and ro, one wider than 32 bits), an 8-bit loopback channel with an XOR
 * mask, a 24-bit channel with `last` that adds 1 (through a 64-beat FIFO), and a 32-bit word memory on the memory bus.
 */
import { Module, cat, lit } from '../hdl';
import { clog2 } from '../util/errors';

export interface TestCoreParams {
  memWords?: number;
}

export function linkTestCore(p: TestCoreParams = {}): Module {
  const memWords = p.memWords ?? 1024;
  const m = new Module('linktest', { doc: `link test core: loopbacks, registers, ${memWords}-word memory` });
  const a = m.input('a', 32);
  const b = m.input('b', 16);
  const wide = m.input('wide', 40);
  const mask = m.input('xor_mask', 8);
  const sum = m.output('sum', 33);
  const wideEcho = m.output('wide_not', 40);
  const beats = m.output('beats', 16);
  m.assign(sum, a.zext(33).add(b.zext(33)));
  m.assign(wideEcho, wide.not());

  const bi = m.streamIn('bytes_in', 8);
  const bo = m.streamOut('bytes_out', 8);
  const wi = m.streamIn('words_in', 24, { last: true });
  const wo = m.streamOut('words_out', 24, { last: true });
  const cmd = m.streamIn('mem_cmd', 65);
  const rsp = m.streamOut('mem_rsp', 32);

  const bFull = m.reg('b_full', 1, { init: 0 });
  const bData = m.reg('b_data', 8, { init: 0 });
  m.assign(bi.ready, bFull.not());
  m.assign(bo.valid, bFull);
  m.assign(bo.data, bData);
  // 24-bit channel: a 64-deep FIFO (so the host can stream ahead of its reads), each beat + 1.
  const wq = m.memory('wq', 25, 64);
  const wwp = m.reg('wq_wp', 7, { init: 0 });
  const wrp = m.reg('wq_rp', 7, { init: 0 });
  const wUsed = m.let('wq_used', wwp.sub(wrp));
  const wHead = m.let('wq_head', wq.read(wrp.slice(5, 0)));
  m.assign(wi.ready, wUsed.ne(64));
  m.assign(wo.valid, wUsed.ne(0));
  m.assign(wo.data, wHead.slice(23, 0));
  m.assign(wo.last!, wHead.bit(24));
  const count = m.reg('count', 16, { init: 0 });
  m.assign(beats, count);
  m.sync((s) => {
    s.if(bo.fire, (t) => t.set(bFull, 0));
    s.if(bi.fire, (t) => t.set(bFull, 1).set(bData, bi.data.xor(mask)).set(count, count.add(1)));
    s.if(wo.fire, (t) => t.set(wrp, wrp.add(1)));
    s.if(wi.fire, (t) => t.write(wq, wwp.slice(5, 0), cat(wi.last!, wi.data.add(1))).set(wwp, wwp.add(1)));
  });

  // Memory: one command at a time; a read answers one cycle later from a registered read.
  const ab = clog2(memWords);
  const mem = m.memory('mem', 32, memWords);
  const rValid = m.reg('r_valid', 1, { init: 0 });
  const rData = m.reg('r_data', 32);
  const we = cmd.data.bit(64);
  const addr = cmd.data.slice(32 + ab - 1, 32);
  m.assign(cmd.ready, rValid.not());
  m.assign(rsp.valid, rValid);
  m.assign(rsp.data, rData);
  m.sync((s) => {
    s.if(rsp.fire, (t) => t.set(rValid, 0));
    s.if(cmd.fire.and(we), (t) => t.write(mem, addr, cmd.data.slice(31, 0)));
    s.if(cmd.fire.and(we.not()), (t) => t.set(rValid, 1));
  });
  m.sync((s) => s.set(rData, mem.read(addr)));
  void lit;
  return m;
}
