// extractCone: a combinational cone moved into a submodule computes the same as the flat module — checked formally
// by Yosys (equiv_make / equiv_induct on the flattened pair) — and the split leaves memories and registers in place.
import { describe, expect, it } from 'vitest';
import { runYosys } from '@yowasp/yosys';
import { Module, mux, printDesign } from '../../../generator/hdl';
import { extractCone } from '../../../generator/hdl/extract';

function build(name: string): Module {
  const m = new Module(name);
  const a = m.input('a', 8, { signed: true });
  const b = m.input('b', 8, { signed: true });
  const acc = m.reg('acc', 20, { signed: true, init: 0 });
  const mem = m.memory('tab', 12, 16);
  const p = m.let('c_prod', a.mul(b)); // cone
  const s = m.let('c_sum', p.resize(20).add(acc)); // cone, reads the register
  const hidden = m.let('c_hidden', s.slice(7, 0).xor(a.asUnsigned())); // read only inside the cone
  const pick = m.let('c_pick', mux(hidden.bit(0), s, p.resize(20))); // cone
  const r = m.let('r_mem', mem.read(a.asUnsigned().slice(3, 0)).zext(20).asSigned().add(pick)); // reads a memory: stays
  m.assign(m.output('y', 20, { signed: true }), r);
  m.assign(m.output('c_out', 8), hidden);
  m.sync((blk) => blk.set(acc, s).write(mem, b.asUnsigned().slice(3, 0), p.slice(11, 0)));
  return m;
}

describe('extractCone', () => {
  it('moves the picked assigns, keeps memory reads, and is equivalent to the flat module (Yosys equiv)', async () => {
    const flat = build('flat');
    const split = build('split');
    const x = extractCone(split, 'cone', (t) => t.name.startsWith('c_'));
    expect(x.moved).toBe(5);
    expect(x.sub.assigns.map((a) => a.target.name).sort()).toEqual(['c_hidden', 'c_out', 'c_pick', 'c_prod', 'c_sum']);
    expect(split.assigns.map((a) => a.target.name)).toEqual(['r_mem', 'y']);
    expect([...x.sub.ports.map((p) => p.name)].sort()).toEqual(['a', 'acc', 'b', 'c_out', 'c_pick', 'c_prod', 'c_sum', 'clk', 'rst']);
    const files = [...printDesign(flat).files, ...printDesign(split).files];
    const vfs = Object.fromEntries(files.map((f) => [f.name, f.text]));
    const script = `${files.map((f) => `read_verilog ${f.name}`).join('; ')}; proc; memory; flatten; opt_clean; equiv_make flat split eq; hierarchy -top eq; equiv_simple -seq 2; equiv_induct; equiv_status -assert`;
    await runYosys(['-q', '-p', script], vfs);
  }, 60_000);

  it('refuses a pick that moves nothing', () => {
    expect(() => extractCone(build('none'), 'cone', (t) => t.name === 'nothing')).toThrow(/no assign to move/);
  });
});
