/**
 * Structural checks that run before any Verilog is printed. Each problem names the module and signal.
 *  - width: assignment, memory write and instance connection widths match exactly
 *  - multiple drivers: a signal is driven by at most one assign, process or instance output
 *  - undriven: every output, and every internal signal that is read, has a driver
 *  - combinational loops: no cycle through assigns, comb processes and instance comb paths
 */
import { Binary, Cast, Concat, Expr, Extend, HdlError, Mux, Shift, Slice, Unary } from './expr';
import { ExternModule, MemRead, Module, Signal, portsOf, type Stmt } from './module';

export class HdlCheckError extends HdlError {
  constructor(readonly problems: string[]) {
    super(`${problems.length} design check failure(s):\n  - ${problems.join('\n  - ')}`);
    this.name = 'HdlCheckError';
  }
}

/** Visit every sub-expression (pre-order). */
export function walkExpr(e: Expr, visit: (e: Expr) => void): void {
  visit(e);
  if (e instanceof Binary) {
    walkExpr(e.a, visit);
    walkExpr(e.b, visit);
  } else if (e instanceof Unary || e instanceof Shift || e instanceof Slice || e instanceof Extend || e instanceof Cast) {
    walkExpr(e.a, visit);
  } else if (e instanceof Concat) {
    for (const p of e.parts) walkExpr(p, visit);
  } else if (e instanceof Mux) {
    walkExpr(e.cond, visit);
    walkExpr(e.then, visit);
    walkExpr(e.otherwise, visit);
  } else if (e instanceof MemRead) {
    walkExpr(e.addr, visit);
  }
}

/** Every distinct expression node of a module (each shared node once: the printer names it once, Yosys shares it). */
export function distinctExprs(m: Module): Set<Expr> {
  const seen = new Set<Expr>();
  const visit = (e: Expr): void => {
    if (seen.has(e)) return;
    seen.add(e);
    if (e instanceof Binary) {
      visit(e.a);
      visit(e.b);
    } else if (e instanceof Unary || e instanceof Shift || e instanceof Slice || e instanceof Extend || e instanceof Cast) visit(e.a);
    else if (e instanceof Concat) e.parts.forEach(visit);
    else if (e instanceof Mux) {
      visit(e.cond);
      visit(e.then);
      visit(e.otherwise);
    } else if (e instanceof MemRead) visit(e.addr);
  };
  for (const a of m.assigns) visit(a.value);
  for (const p of m.processes) for (const e of stmtExprs(p.body)) visit(e);
  for (const i of m.instances) for (const c of i.connections.values()) visit(c);
  return seen;
}

export function signalsIn(e: Expr, out = new Set<Signal>()): Set<Signal> {
  walkExpr(e, (x) => {
    if (x instanceof Signal) out.add(x);
  });
  return out;
}

export function walkStmts(stmts: readonly Stmt[], visit: (s: Stmt) => void): void {
  for (const s of stmts) {
    visit(s);
    if (s.kind === 'if') {
      walkStmts(s.then, visit);
      walkStmts(s.otherwise, visit);
    } else if (s.kind === 'switch') {
      for (const c of s.cases) walkStmts(c.body, visit);
      walkStmts(s.otherwise, visit);
    }
  }
}

/** Every expression a statement list reads, including conditions. */
export function stmtExprs(stmts: readonly Stmt[]): Expr[] {
  const out: Expr[] = [];
  walkStmts(stmts, (s) => {
    if (s.kind === 'assign') out.push(s.value);
    else if (s.kind === 'if') out.push(s.cond);
    else if (s.kind === 'switch') out.push(s.subject);
    else if (s.kind === 'memwrite') out.push(s.addr, s.data);
    else if (s.kind === 'systask') for (const a of s.args) if (a instanceof Expr) out.push(a);
  });
  return out;
}

export type Driver = { kind: 'assign' } | { kind: 'sync' | 'comb' | 'initial'; index: number } | { kind: 'instance'; name: string; port: string };

function describeDriver(d: Driver): string {
  if (d.kind === 'assign') return 'a continuous assign';
  if (d.kind === 'instance') return `output ${d.port} of instance ${d.name}`;
  return `${d.kind} process #${d.index}`;
}

/** Map each driven signal to its driver(s). */
export function driversOf(m: Module): Map<Signal, Driver[]> {
  const drivers = new Map<Signal, Driver[]>();
  const add = (s: Signal, d: Driver) => {
    const list = drivers.get(s) ?? [];
    // Several assignments inside the same process are one driver.
    if (!list.some((x) => JSON.stringify(x) === JSON.stringify(d))) list.push(d);
    drivers.set(s, list);
  };
  for (const a of m.assigns) add(a.target, { kind: 'assign' });
  const initialOnly: Array<[Signal, Driver]> = [];
  m.processes.forEach((p, index) =>
    walkStmts(p.body, (s) => {
      if (s.kind !== 'assign') return;
      // In testbenches an initial block may give a start value to a signal some other process drives.
      if (p.kind === 'initial') initialOnly.push([s.target, { kind: 'initial', index }]);
      else add(s.target, { kind: p.kind, index });
    }),
  );
  for (const c of m.simClocks) add(c.signal, { kind: 'initial', index: -1 });
  for (const inst of m.instances)
    for (const port of portsOf(inst.of)) {
      const e = inst.connections.get(port.name);
      if (port.dir === 'output' && e instanceof Signal) add(e, { kind: 'instance', name: inst.name, port: port.name });
    }
  for (const [s, d] of initialOnly) if (!drivers.has(s) || drivers.get(s)!.every((x) => x.kind === 'initial')) add(s, d);
  return drivers;
}

/** Combinational output <- input port paths of a module, for loop checks across instances. */
const combPathCache = new WeakMap<Module, Array<[string, string]>>();
export function combPaths(of: Module | ExternModule): ReadonlyArray<readonly [string, string]> {
  if (of instanceof ExternModule) return of.combPaths;
  const cached = combPathCache.get(of);
  if (cached) return cached;
  const deps = combDeps(of);
  const paths: Array<[string, string]> = [];
  for (const out of of.ports.filter((p) => p.role === 'output')) {
    const seen = new Set<Signal>();
    const stack = [out];
    while (stack.length) {
      const s = stack.pop()!;
      for (const d of deps.get(s) ?? []) {
        if (seen.has(d)) continue;
        seen.add(d);
        if (d.role === 'input') paths.push([out.name, d.name]);
        else stack.push(d);
      }
    }
  }
  combPathCache.set(of, paths);
  return paths;
}

/** signal -> signals it depends on combinationally within this module. */
function combDeps(m: Module): Map<Signal, Set<Signal>> {
  const deps = new Map<Signal, Set<Signal>>();
  const add = (t: Signal, from: Iterable<Signal>) => {
    const set = deps.get(t) ?? new Set<Signal>();
    for (const f of from) set.add(f);
    deps.set(t, set);
  };
  for (const a of m.assigns) add(a.target, signalsIn(a.value));
  for (const p of m.processes) {
    if (p.kind !== 'comb') continue;
    const reads = new Set<Signal>();
    for (const e of stmtExprs(p.body)) signalsIn(e, reads);
    walkStmts(p.body, (s) => {
      if (s.kind === 'assign') add(s.target, reads);
    });
  }
  for (const inst of m.instances) {
    for (const [outPort, inPort] of combPaths(inst.of)) {
      const target = inst.connections.get(outPort);
      const source = inst.connections.get(inPort);
      if (target instanceof Signal && source) add(target, signalsIn(source));
    }
  }
  return deps;
}

function checkStmtWidths(m: Module, stmts: readonly Stmt[], kind: string, problems: string[]): void {
  walkStmts(stmts, (s) => {
    if (s.kind === 'assign') {
      if (s.target.module !== m) problems.push(`module ${m.name}: ${kind} process assigns ${s.target.describe()} of another module`);
      if (s.target.role === 'input') problems.push(`module ${m.name}: input ${s.target.name} is assigned in a ${kind} process`);
      if (s.value.width !== s.target.width)
        problems.push(`module ${m.name}: width mismatch assigning ${s.value.width}-bit ${s.value.describe()} to ${s.target.width}-bit signal ${s.target.name}`);
    } else if (s.kind === 'if') {
      if (s.cond.width !== 1) problems.push(`module ${m.name}: if condition ${s.cond.describe()} is ${s.cond.width} bits, must be 1`);
    } else if (s.kind === 'switch') {
      for (const c of s.cases)
        for (const v of c.values)
          if (v < 0n || v >= 1n << BigInt(s.subject.width))
            problems.push(`module ${m.name}: case value ${v} does not fit the ${s.subject.width}-bit subject ${s.subject.describe()}`);
    } else if (s.kind === 'memwrite') {
      if (s.data.width !== s.mem.width)
        problems.push(`module ${m.name}: width mismatch writing ${s.data.width}-bit ${s.data.describe()} into ${s.mem.width}-bit memory ${s.mem.name}`);
    }
  });
}

/** Reads of memories in sync processes must be a whole right-hand side, so synthesis infers block RAM. */
function checkMemReads(m: Module, problems: string[]): void {
  const forbid = (e: Expr, where: string) =>
    walkExpr(e, (x) => {
      if (x instanceof MemRead) problems.push(`module ${m.name}: memory ${x.mem.name} is read ${where} of a sync process; a registered read must be a whole right-hand side`);
    });
  for (const p of m.processes) {
    if (p.kind !== 'sync') continue;
    walkStmts(p.body, (s) => {
      if (s.kind === 'assign') {
        if (s.value instanceof MemRead) forbid(s.value.addr, 'in an address');
        else forbid(s.value, 'inside an expression');
      } else if (s.kind !== 'if' && s.kind !== 'switch') for (const e of stmtExprs([s])) forbid(e, 'in a write or task');
      else forbid(s.kind === 'if' ? s.cond : s.subject, 'in a condition');
    });
  }
}

function checkLoops(m: Module, problems: string[]): void {
  const deps = combDeps(m);
  const state = new Map<Signal, 1 | 2>();
  const stack: Signal[] = [];
  const visit = (s: Signal): boolean => {
    state.set(s, 1);
    stack.push(s);
    for (const d of deps.get(s) ?? []) {
      const st = state.get(d);
      if (st === 1) {
        const cycle = stack.slice(stack.indexOf(d)).map((x) => x.name);
        problems.push(`module ${m.name}: combinational loop ${[...cycle, d.name].join(' -> ')}`);
        return true;
      }
      if (st === undefined && visit(d)) return true;
    }
    stack.pop();
    state.set(s, 2);
    return false;
  };
  for (const s of deps.keys()) if (!state.has(s) && visit(s)) return;
}

/** Run every check on one module (not its children). Returns the problems found. */
export function checkModule(m: Module): string[] {
  const problems: string[] = [];
  for (const a of m.assigns) {
    if (a.target.module !== m) problems.push(`module ${m.name}: assign targets ${a.target.describe()} of another module`);
    if (a.target.role === 'input') problems.push(`module ${m.name}: input ${a.target.name} is driven by an assign`);
    if (a.value.width !== a.target.width)
      problems.push(`module ${m.name}: width mismatch assigning ${a.value.width}-bit ${a.value.describe()} to ${a.target.width}-bit signal ${a.target.name}`);
  }
  for (const p of m.processes) {
    checkStmtWidths(m, p.body, p.kind, problems);
    if (p.kind === 'comb')
      walkStmts(p.body, (s) => {
        if (s.kind === 'assign' && s.target.init === undefined)
          problems.push(`module ${m.name}: comb process target ${s.target.name} needs an init (default) value, or a latch would be inferred`);
      });
  }
  checkMemReads(m, problems);

  // Expressions must only read this module's signals and memories.
  const allExprs: Expr[] = [...m.assigns.map((a) => a.value), ...m.processes.flatMap((p) => stmtExprs(p.body))];
  for (const inst of m.instances) allExprs.push(...inst.connections.values());
  const reads = new Set<Signal>();
  for (const e of allExprs)
    walkExpr(e, (x) => {
      if (x instanceof Signal) {
        reads.add(x);
        if (x.module !== m) problems.push(`module ${m.name}: reads ${x.describe()}, a signal of another module`);
      } else if (x instanceof MemRead && x.mem.module !== m) problems.push(`module ${m.name}: reads memory ${x.mem.name} of module ${x.mem.module.name}`);
    });

  // Instances: every port connected once, with the right width; outputs go to plain signals.
  for (const inst of m.instances) {
    const ports = portsOf(inst.of);
    for (const name of inst.connections.keys())
      if (!ports.some((p) => p.name === name)) problems.push(`module ${m.name}: instance ${inst.name} of ${inst.of.name} has no port '${name}'`);
    for (const p of ports) {
      const e = inst.connections.get(p.name);
      if (!e) {
        problems.push(`module ${m.name}: port ${p.name} of instance ${inst.name} (${inst.of.name}) is not connected`);
        continue;
      }
      if (e.width !== p.width)
        problems.push(`module ${m.name}: width mismatch on port ${p.name} of instance ${inst.name}: port is ${p.width} bits, connection ${e.describe()} is ${e.width}`);
      if (p.dir === 'output' && !(e instanceof Signal && e.role !== 'input'))
        problems.push(`module ${m.name}: output ${p.name} of instance ${inst.name} must connect to a wire or output of ${m.name}`);
    }
  }

  const drivers = driversOf(m);
  for (const [s, list] of drivers)
    if (list.length > 1) problems.push(`module ${m.name}: signal ${s.name} has multiple drivers: ${list.map(describeDriver).join(', ')}`);
  for (const s of m.signals.values()) {
    if (s.role === 'input') continue;
    if (drivers.has(s)) continue;
    if (s.role === 'output') problems.push(`module ${m.name}: output ${s.name} is undriven`);
    else if (reads.has(s)) problems.push(`module ${m.name}: signal ${s.name} is read but never driven`);
  }
  checkLoops(m, problems);
  return problems;
}

/** All modules reachable from top, children first, each once. Two different modules may not share a name. */
export function collectModules(top: Module): Module[] {
  const order: Module[] = [];
  const byName = new Map<string, Module>();
  const visit = (m: Module) => {
    const seen = byName.get(m.name);
    if (seen === m) return;
    if (seen) throw new HdlError(`two different modules are both named '${m.name}'`);
    byName.set(m.name, m);
    for (const i of m.instances) if (i.of instanceof Module) visit(i.of);
    order.push(m);
  };
  visit(top);
  return order;
}

/** Check a whole design; throws HdlCheckError listing every problem. */
export function checkDesign(top: Module): void {
  const problems = collectModules(top).flatMap(checkModule);
  if (problems.length) throw new HdlCheckError(problems);
}
