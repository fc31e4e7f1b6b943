/**
 * Split a flat module: move a combinational cone into a submodule. The assigns whose targets `pick` selects, and whose
 * values read no memory (a memory stays with its writers), become the body of a new module instantiated in their
 * place; every signal they read from the rest becomes an input, every target the rest still reads an output. The
 * design computes the same (the same expressions, wired through ports). For tools that cannot take one huge flat
 * module: Yosys/WebAssembly runs out of its 4 GB on the 7B engine top, whose parts can be synthesised alone.
 */
import { Binary, Cast, Concat, Const, Expr, Extend, HdlError, Mux, Shift, Slice, Unary } from './expr';
import { MemRead, Module, Signal } from './module';
import { signalsIn, stmtExprs, walkExpr } from './checks';

export interface Extracted {
  sub: Module;
  /** Assigns moved into the submodule. */
  moved: number;
  inputs: number;
  outputs: number;
}

/** Whether an expression reads a memory (such an assign stays with the memory's module). */
export const readsMemory = (e: Expr): boolean => {
  let found = false;
  walkExpr(e, (x) => {
    if (x instanceof MemRead) found = true;
  });
  return found;
};

export function extractCone(m: Module, name: string, pick: (target: Signal) => boolean): Extracted {
  const moved = m.assigns.filter((a) => pick(a.target) && !readsMemory(a.value));
  if (!moved.length) throw new HdlError(`extractCone ${m.name} -> ${name}: no assign to move`);
  const targets = new Set(moved.map((a) => a.target));
  const kept = m.assigns.filter((a) => !targets.has(a.target));
  // what the rest of the parent reads
  const parentReads = new Set<Signal>();
  for (const a of kept) signalsIn(a.value, parentReads);
  for (const p of m.processes) for (const e of stmtExprs(p.body)) signalsIn(e, parentReads);
  for (const i of m.instances) for (const c of i.connections.values()) signalsIn(c, parentReads);
  for (const p of m.ports) parentReads.add(p);
  const inputs = new Set<Signal>();
  for (const a of moved) for (const s of signalsIn(a.value)) if (!targets.has(s)) inputs.add(s);

  const sub = new Module(name, { doc: `combinational cone of ${m.name}, extracted for synthesis (hdl/extract.ts)` });
  const map = new Map<Expr, Expr>();
  for (const s of inputs) map.set(s, s === m.clk ? sub.clk : s === m.rst ? sub.rst : sub.input(s.name, s.width, { signed: s.signed }));
  const outputs: Signal[] = [];
  for (const t of targets) {
    const out = parentReads.has(t);
    if (out) outputs.push(t);
    map.set(t, out ? sub.output(t.name, t.width, { signed: t.signed }) : sub.wire(t.name, t.width, { signed: t.signed }));
  }
  const clone = (e: Expr): Expr => {
    const known = map.get(e);
    if (known) return known;
    let c: Expr;
    if (e instanceof Const) c = e;
    else if (e instanceof Binary) c = new Binary(e.op, clone(e.a), clone(e.b));
    else if (e instanceof Unary) c = new Unary(e.op, clone(e.a));
    else if (e instanceof Shift) c = new Shift(e.op, clone(e.a), e.amount);
    else if (e instanceof Slice) c = new Slice(clone(e.a), e.hi, e.lo);
    else if (e instanceof Extend) c = new Extend(clone(e.a), e.width, e.signExtend);
    else if (e instanceof Cast) c = new Cast(clone(e.a), e.signed);
    else if (e instanceof Concat) c = new Concat(e.parts.map(clone));
    else if (e instanceof Mux) c = new Mux(clone(e.cond), clone(e.then), clone(e.otherwise));
    else throw new HdlError(`extractCone ${m.name}: cannot move ${e.describe()}`);
    map.set(e, c);
    return c;
  };
  for (const a of moved) sub.assign(map.get(a.target) as Signal, clone(a.value));

  // the parent: the moved assigns go, targets only the cone read disappear, the instance drives the rest
  m.assigns.splice(0, m.assigns.length, ...kept);
  for (const t of targets) if (!parentReads.has(t)) m.signals.delete(t.name);
  const conn: Record<string, Expr> = { clk: m.clk, rst: m.rst };
  for (const s of inputs) if (s !== m.clk && s !== m.rst) conn[s.name] = s;
  for (const t of outputs) conn[t.name] = t;
  m.instance(sub, `${name}_i`, conn);
  return { sub, moved: moved.length, inputs: inputs.size, outputs: outputs.length };
}
