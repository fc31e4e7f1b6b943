/**
 * Synchronous FIFO (first word fall-through): a register-file memory, read and write pointers and a count.
 * `out_valid` is `count != 0`, `in_ready` is `count != depth`; both registered-state only, so valid never
 * depends on ready. `clear` (optional) empties it in one cycle.
 */
import { Module, lit, mux, type Expr } from '../hdl';
import { ConfigError, bitsFor, clog2 } from '../util/errors';

/**
 * opts.flops: entries are flip-flops on every family: for a few wide entries, which would each waste whole iCE40
 * EBRs (narrowest shape 256 x 16), and where LUT RAM would hide timing (`ltp` cannot tell its write port from its
 * read path: a deep push would count as if it reached out_data in the same cycle).
 * opts.lateCommit: an extra input `in_write` (early) writes in_data into the next free entry when there is room;
 * `in_valid` (which must imply in_write; it may come from deep logic) only sets a flag that commits the entry in the
 * next cycle, so out_valid rises one cycle later and in_valid reaches no pointer or count adder. `in_cancel` (deep
 * logic too) withdraws that cycle's push: it is only registered, and the entry is then not committed.
 * opts.earlyWrite: the same `in_write` input, but in_valid commits the entry in its own cycle (only wp depends on it).
 * opts.checkedHandshake: the writer raises in_valid only with in_ready, the reader out_ready only with out_valid
 * (one logic level less on push and pop).
 */
export function fifoModule(name: string, width: number, depth: number, opts: { clear?: boolean; flops?: boolean; lateCommit?: boolean; earlyWrite?: boolean; checkedHandshake?: boolean } = {}): Module {
  if (!Number.isInteger(depth) || depth < 2 || (depth & (depth - 1)) !== 0) throw new ConfigError(`${name}.depth`, 'must be a power of two >= 2', depth);
  const m = new Module(name, { doc: `FIFO ${width} bits x ${depth}, first word fall-through` });
  const inp = m.streamIn('in', width);
  const out = m.streamOut('out', width);
  const clear = opts.clear ? m.input('clear', 1) : undefined;
  const count = m.output('count', bitsFor(depth));
  const ab = clog2(depth);
  const mem = opts.flops ? undefined : m.memory('mem', width, depth);
  const cells = opts.flops ? Array.from({ length: depth }, (_, i) => m.reg(`entry${i}`, width)) : [];
  // flip-flop entries: the count is the difference of pointers one bit wider, so push and pop only step a pointer
  const pb = opts.flops ? ab + 1 : ab;
  const wp = m.reg('wp', pb, { init: 0 });
  const rp = m.reg('rp', pb, { init: 0 });
  const wpa = opts.flops ? wp.slice(ab - 1, 0) : wp;
  const rpa = opts.flops ? rp.slice(ab - 1, 0) : rp;
  const cnt = opts.flops ? m.let('cnt', wp.sub(rp)) : m.reg('cnt', bitsFor(depth), { init: 0 });
  m.assign(count, cnt);
  const inWrite = opts.lateCommit || opts.earlyWrite ? m.input('in_write', 1) : undefined;
  const late = opts.lateCommit
    ? { cancel: m.input('in_cancel', 1), pushed: m.reg('pushed', 1, { init: 0 }), cancelled: m.reg('cancelled', 1, { init: 0 }) }
    : undefined;
  const pend = late ? m.let('pend', late.pushed.and(late.cancelled.not())) : undefined;
  // with a late commit pending, its entry is at wp and takes one place of the room
  m.assign(inp.ready, pend ? cnt.ne(depth).and(pend.and(cnt.eq(depth - 1)).not()) : cnt.ne(depth));
  m.assign(out.valid, cnt.ne(0));
  m.assign(out.data, mem ? mem.read(rpa) : muxTree(rpa, cells));
  const push = m.let('push', opts.checkedHandshake ? inp.valid : inp.valid.and(inp.ready));
  const pop = m.let('pop', opts.checkedHandshake ? out.ready : out.valid.and(out.ready));
  const commit = pend ?? push;
  const write = inWrite ? inWrite.and(inp.ready) : push;
  const wa = pend ? mux(pend, wpa.add(1), wpa) : wpa;
  const one = lit(1, bitsFor(depth));
  m.sync((b) => {
    b.if(write, (t) => {
      if (mem) t.write(mem, wa, inp.data);
      cells.forEach((c, i) => t.if(wa.eq(i), (u) => u.set(c, inp.data)));
    });
    if (late) b.set(late.pushed, push).set(late.cancelled, late.cancel);
    b.if(commit, (t) => t.set(wp, wp.add(1)));
    b.if(pop, (t) => t.set(rp, rp.add(1)));
    if (!opts.flops) b.set(cnt, mux(commit.and(pop.not()), cnt.add(one), mux(pop.and(commit.not()), cnt.sub(one), cnt)));
    if (clear)
      b.if(clear, (t) => {
        t.set(wp, 0).set(rp, 0);
        if (late) t.set(late.pushed, 0);
        if (!opts.flops) t.set(cnt, 0);
      });
  });
  return m;
}

/** values[index] as a balanced tree of 2:1 muxes on the index bits (log2 n levels; n a power of two). */
function muxTree(index: Expr, values: readonly Expr[]): Expr {
  let level = [...values];
  for (let b = 0; level.length > 1; b++) level = level.filter((_, i) => i % 2 === 0).map((v, i) => mux(index.bit(b), level[2 * i + 1]!, v));
  return level[0]!;
}
