import { describe, expect, it } from 'vitest';
import { ExternModule, HdlCheckError, HdlError, Module, lit, printDesign } from '../../../generator/hdl';

/** Printing runs the checks first; a failing design must throw before any Verilog exists. */
function problems(m: Module): string[] {
  try {
    printDesign(m);
  } catch (e) {
    if (e instanceof HdlCheckError) return e.problems;
    throw e;
  }
  return [];
}

describe('IR expression rules', () => {
  it('refuses operators on different widths, naming both operands', () => {
    const m = new Module('w');
    const a = m.input('a', 8);
    const b = m.input('b', 9);
    expect(() => a.add(b)).toThrow(/width mismatch in '\+': w\.a is 8 bits, w\.b is 9 bits/);
  });
  it('refuses mixed signedness', () => {
    const m = new Module('s');
    const a = m.input('a', 8, { signed: true });
    const b = m.input('b', 8);
    expect(() => a.lt(b)).toThrow(/signedness mismatch/);
  });
  it('refuses constants that do not fit', () => {
    expect(() => lit(256, 8)).toThrow(HdlError);
    expect(() => lit(-129, 8, true)).toThrow(/does not fit/);
  });
  it('gives products the sum of the operand widths', () => {
    const m = new Module('p');
    expect(m.input('a', 8, { signed: true }).mul(m.input('b', 5, { signed: true })).width).toBe(13);
  });
  it('refuses bad names and duplicates', () => {
    const m = new Module('n');
    expect(() => m.wire('module', 1)).toThrow(/keyword/);
    expect(() => m.wire('9x', 1)).toThrow(/identifier/);
    m.wire('x', 1);
    expect(() => m.wire('x', 2)).toThrow(/duplicate name 'x'/);
  });
});

describe('design checks', () => {
  it('reports assignment width mismatches by module and signal', () => {
    const m = new Module('widths');
    const a = m.input('a', 8);
    const y = m.output('y', 9);
    m.assign(y, a);
    expect(problems(m)).toContainEqual(expect.stringMatching(/module widths: width mismatch assigning 8-bit .* to 9-bit signal y/));
  });
  it('reports multiple drivers', () => {
    const m = new Module('multi');
    const a = m.input('a', 1);
    const y = m.output('y', 1);
    m.assign(y, a);
    m.sync((b) => b.set(y, a.not()));
    expect(problems(m)).toContainEqual(expect.stringMatching(/module multi: signal y has multiple drivers/));
  });
  it('reports undriven outputs and read-but-undriven wires', () => {
    const m = new Module('undriven');
    const y = m.output('y', 1);
    const z = m.output('z', 1);
    const w = m.wire('w', 1);
    m.assign(z, w);
    void y;
    const p = problems(m);
    expect(p).toContainEqual('module undriven: output y is undriven');
    expect(p).toContainEqual('module undriven: signal w is read but never driven');
  });
  it('reports combinational loops with the path', () => {
    const m = new Module('loopy');
    const a = m.wire('a', 1);
    const b = m.wire('b', 1);
    const y = m.output('y', 1);
    m.assign(a, b.not());
    m.assign(b, a);
    m.assign(y, a);
    expect(problems(m)).toContainEqual(expect.stringMatching(/module loopy: combinational loop (a -> b -> a|b -> a -> b)/));
  });
  it('sees loops through child instances but not through registers', () => {
    const child = new Module('buf1');
    const ci = child.input('i', 1);
    const co = child.output('o', 1);
    child.assign(co, ci);
    const top = new Module('loop_inst');
    const w = top.wire('w', 1);
    const y = top.output('y', 1);
    top.instance(child, 'u', { i: w.not(), o: w });
    top.assign(y, w);
    expect(problems(top)).toContainEqual(expect.stringMatching(/module loop_inst: combinational loop/));

    const reg = new Module('regloop');
    const r = reg.reg('r', 1, { init: 0 });
    const o = reg.output('o', 1);
    reg.sync((b) => b.set(r, r.not()));
    reg.assign(o, r);
    expect(problems(reg)).toEqual([]);
  });
  it('needs defaults for comb process targets', () => {
    const m = new Module('latchy');
    const a = m.input('a', 1);
    const y = m.output('y', 1);
    m.comb((b) => b.if(a, (t) => t.set(y, 1)));
    expect(problems(m)).toContainEqual(expect.stringMatching(/comb process target y needs an init/));
  });
  it('checks instance connections', () => {
    const cell = new ExternModule('CELL', [
      { name: 'I', dir: 'input', width: 4 },
      { name: 'O', dir: 'output', width: 1 },
    ]);
    const m = new Module('inst');
    const y = m.output('y', 1);
    m.instance(cell, 'u0', { I: m.input('a', 3), O: y });
    expect(problems(m)).toContainEqual(expect.stringMatching(/width mismatch on port I of instance u0: port is 4 bits/));
  });
  it('keeps registered memory reads whole so they map to block RAM', () => {
    const m = new Module('ramread');
    const mem = m.memory('mem', 8, 16);
    const a = m.input('a', 4);
    const y = m.output('y', 8);
    m.sync((b) => b.set(y, mem.read(a).add(1)));
    expect(problems(m)).toContainEqual(expect.stringMatching(/memory mem is read inside an expression of a sync process/));
  });
});
