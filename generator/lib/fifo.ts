/**
 * Synchronous FIFO (first word fall-through): a register-file memory, read and write pointers and a count.
 * `out_valid` is `count != 0`, `in_ready` is `count != depth`; both registered-state only, so valid never
 * depends on ready. `clear` (optional) empties it in one cycle.
 */
import { Module, lit, mux } from '../hdl';
import { ConfigError, bitsFor, clog2 } from '../util/errors';
import { REGISTERS_SUFFIX } from '../flow/memory-names';

/**
 * opts.registers: keep the entries in flip-flops on families whose smallest block RAM would waste most of its bits
 * (generator/flow/memory-names.ts); for a few wide entries.
 */
export function fifoModule(name: string, width: number, depth: number, opts: { clear?: boolean; registers?: boolean } = {}): Module {
  if (!Number.isInteger(depth) || depth < 2 || (depth & (depth - 1)) !== 0) throw new ConfigError(`${name}.depth`, 'must be a power of two >= 2', depth);
  const m = new Module(name, { doc: `FIFO ${width} bits x ${depth}, first word fall-through` });
  const inp = m.streamIn('in', width);
  const out = m.streamOut('out', width);
  const clear = opts.clear ? m.input('clear', 1) : undefined;
  const count = m.output('count', bitsFor(depth));
  const ab = clog2(depth);
  const mem = m.memory(opts.registers ? `mem${REGISTERS_SUFFIX}` : 'mem', width, depth);
  const wp = m.reg('wp', ab, { init: 0 });
  const rp = m.reg('rp', ab, { init: 0 });
  const cnt = m.reg('cnt', bitsFor(depth), { init: 0 });
  m.assign(count, cnt);
  m.assign(inp.ready, cnt.ne(depth));
  m.assign(out.valid, cnt.ne(0));
  m.assign(out.data, mem.read(rp));
  const push = m.let('push', inp.valid.and(inp.ready));
  const pop = m.let('pop', out.valid.and(out.ready));
  const one = lit(1, bitsFor(depth));
  m.sync((b) => {
    b.if(push, (t) => t.write(mem, wp, inp.data).set(wp, wp.add(1)));
    b.if(pop, (t) => t.set(rp, rp.add(1)));
    b.set(cnt, mux(push.and(pop.not()), cnt.add(one), mux(pop.and(push.not()), cnt.sub(one), cnt)));
    if (clear) b.if(clear, (t) => t.set(wp, 0).set(rp, 0).set(cnt, 0));
  });
  return m;
}
