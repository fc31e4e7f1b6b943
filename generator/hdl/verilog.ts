/**
 * The one Verilog-2005 printer. It checks the design first (checks.ts), then prints one file per module.
 * Width rules: the IR guarantees equal widths and signedness inside every operator, so expressions are printed
 * inline; the few constructs Verilog cannot express on a sub-expression (bit-select, sign extension) get a
 * named temporary wire. Products are printed on operands explicitly extended to the product width, so no
 * tool ever applies context-dependent widening.
 */
import { Binary, Cast, Concat, Const, Expr, Extend, HdlError, Mux, Shift, Slice, Unary } from './expr';
import { checkDesign, collectModules, driversOf, stmtExprs, walkExpr } from './checks';
import { ExternModule, MemRead, Memory, Module, Signal, portsOf, type Process, type Stmt } from './module';

export interface VerilogFile {
  /** File name, `<module>.v`. */
  name: string;
  text: string;
}

export interface PrintedDesign {
  top: string;
  files: VerilogFile[];
  /** rtl/ files of extern cells the design instantiates (repo-relative). */
  externFiles: string[];
}

/** Check and print a design: every module reachable from top, children first. */
export function printDesign(top: Module): PrintedDesign {
  checkDesign(top);
  const modules = collectModules(top);
  const externFiles = new Set<string>();
  for (const m of modules) for (const i of m.instances) if (i.of instanceof ExternModule && i.of.file) externFiles.add(i.of.file);
  return { top: top.name, files: modules.map((m) => ({ name: `${m.name}.v`, text: printModule(m) })), externFiles: [...externFiles] };
}

const range = (width: number): string => (width === 1 ? '' : `[${width - 1}:0] `);
const signedKw = (s: { signed: boolean }): string => (s.signed ? 'signed ' : '');

export function constText(c: Const): string {
  return `${c.width}'${c.signed ? 's' : ''}h${c.bits.toString(16)}`;
}

class ModulePrinter {
  private readonly temps: string[] = [];
  private readonly hoisted = new Map<Expr, string>();
  private tempIndex = 0;
  private readonly regs = new Set<Signal>();

  constructor(private readonly m: Module) {
    const drivers = driversOf(m);
    for (const [s, ds] of drivers) if (ds.some((d) => d.kind !== 'assign' && d.kind !== 'instance')) this.regs.add(s);
  }

  /** A named wire holding e, so it can be bit-selected. */
  private hoist(e: Expr): string {
    if (e instanceof Signal) return e.name;
    const known = this.hoisted.get(e);
    if (known) return known;
    let name: string;
    do name = `_t${this.tempIndex++}`;
    while (this.m.signals.has(name));
    this.hoisted.set(e, name);
    const body = this.expr(e);
    this.temps.push(`  wire ${signedKw(e)}${range(e.width)}${name};`, `  assign ${name} = ${body};`);
    this.tempBits.set(name, { width: e.width, used: new Set() });
    return name;
  }
  /** Bits of temporaries that are read, to silence Verilator only where bits are deliberately dropped. */
  private readonly tempBits = new Map<string, { width: number; used: Set<number> }>();
  private markTemp(name: string, hi: number, lo: number): void {
    const t = this.tempBits.get(name);
    if (t) for (let i = lo; i <= hi; i++) t.used.add(i);
  }

  /** The MSB of e as text (e is hoisted if it is not a signal). */
  private msb(e: Expr): string {
    const n = this.hoist(e);
    this.markTemp(n, e.width - 1, e.width - 1);
    return e.width === 1 ? n : `${n}[${e.width - 1}]`;
  }

  expr(e: Expr): string {
    if (e instanceof Signal) {
      this.markTemp(e.name, e.width - 1, 0);
      return e.name;
    }
    if (e instanceof Const) return constText(e);
    if (e instanceof MemRead) return `${e.mem.name}[${this.expr(e.addr)}]`;
    if (e instanceof Binary) {
      if (e.op === '*') {
        const ext = (x: Expr) => this.expr(x.width === e.width ? x : new Extend(x, e.width, x.signed));
        const prod = `(${ext(e.a)} * ${ext(e.b)})`;
        return e.signed ? `$signed${prod}` : prod;
      }
      return `(${this.expr(e.a)} ${e.op} ${this.expr(e.b)})`;
    }
    if (e instanceof Unary) {
      const op = e.op.startsWith('reduce') ? e.op.slice(6) : e.op;
      return `(${op}${this.expr(e.a)})`;
    }
    if (e instanceof Shift) {
      const op = e.op === '<<' ? '<<' : e.signed ? '>>>' : '>>';
      return e.amount === 0 ? this.expr(e.a) : `(${this.expr(e.a)} ${op} ${e.amount})`;
    }
    if (e instanceof Slice) {
      if (e.lo === 0 && e.hi === e.a.width - 1) {
        const inner = this.expr(e.a);
        return e.a.signed ? `$unsigned(${inner})` : inner;
      }
      const n = this.hoist(e.a);
      this.markTemp(n, e.hi, e.lo);
      return e.hi === e.lo ? `${n}[${e.hi}]` : `${n}[${e.hi}:${e.lo}]`;
    }
    if (e instanceof Concat) return `{${e.parts.map((p) => this.expr(p)).join(', ')}}`;
    if (e instanceof Mux) return `(${this.expr(e.cond)} ? ${this.expr(e.then)} : ${this.expr(e.otherwise)})`;
    if (e instanceof Extend) {
      const k = e.width - e.a.width;
      const inner = this.expr(e.a);
      if (k === 0) return e.signed === e.a.signed ? inner : `${e.signed ? '$signed' : '$unsigned'}(${inner})`;
      const pad = e.signExtend ? `{${k}{${this.msb(e.a)}}}` : `${k}'h0`;
      const body = `{${pad}, ${inner}}`;
      return e.signed ? `$signed(${body})` : body;
    }
    if (e instanceof Cast) return `${e.signed ? '$signed' : '$unsigned'}(${this.expr(e.a)})`;
    throw new HdlError(`printer: unknown expression kind ${e.kind}`);
  }

  private stmts(stmts: readonly Stmt[], indent: string, op: '<=' | '='): string[] {
    const out: string[] = [];
    for (const s of stmts) {
      switch (s.kind) {
        case 'assign':
          out.push(`${indent}${s.target.name} ${op} ${this.expr(s.value)};`);
          break;
        case 'memwrite':
          out.push(`${indent}${s.mem.name}[${this.expr(s.addr)}] <= ${this.expr(s.data)};`);
          break;
        case 'if': {
          out.push(`${indent}if (${this.expr(s.cond)}) begin`, ...this.stmts(s.then, indent + '  ', op));
          if (s.otherwise.length) out.push(`${indent}end else begin`, ...this.stmts(s.otherwise, indent + '  ', op));
          out.push(`${indent}end`);
          break;
        }
        case 'switch': {
          out.push(`${indent}case (${this.expr(s.subject)})`);
          for (const c of s.cases) {
            const labels = c.values.map((v) => constText(new Const(v, s.subject.width))).join(', ');
            out.push(`${indent}  ${labels}: begin`, ...this.stmts(c.body, indent + '    ', op), `${indent}  end`);
          }
          out.push(`${indent}  default: begin`, ...this.stmts(s.otherwise, indent + '    ', op), `${indent}  end`, `${indent}endcase`);
          break;
        }
        case 'systask': {
          const args = s.args.map((a) =>
            typeof a === 'string' ? JSON.stringify(a) : a instanceof Memory ? a.name : this.expr(a),
          );
          out.push(`${indent}${s.task}${args.length ? `(${args.join(', ')})` : ''};`);
          break;
        }
      }
    }
    return out;
  }

  private assignedIn(p: Process): Signal[] {
    const set = new Set<Signal>();
    const visit = (ss: readonly Stmt[]) => {
      for (const s of ss) {
        if (s.kind === 'assign') set.add(s.target);
        else if (s.kind === 'if') {
          visit(s.then);
          visit(s.otherwise);
        } else if (s.kind === 'switch') {
          for (const c of s.cases) visit(c.body);
          visit(s.otherwise);
        }
      }
    };
    visit(p.body);
    return [...set];
  }

  private process(p: Process): string[] {
    const label = p.name ? ` // ${p.name}` : '';
    if (p.kind === 'sync') {
      const resets = this.assignedIn(p).filter((s) => s.init !== undefined);
      const out = [`  always @(posedge clk) begin${label}`, ...this.stmts(p.body, '    ', '<=')];
      if (resets.length) {
        // Reset last so it overrides the body; registers without an init value are not reset.
        out.push('    if (rst) begin');
        for (const s of resets) out.push(`      ${s.name} <= ${constText(new Const(s.init!, s.width))};`);
        out.push('    end');
      }
      out.push('  end');
      return out;
    }
    if (p.kind === 'comb') {
      const out = [`  always @* begin${label}`];
      for (const s of this.assignedIn(p)) out.push(`    ${s.name} = ${constText(new Const(s.init!, s.width))};`);
      out.push(...this.stmts(p.body, '    ', '='), '  end');
      return out;
    }
    return ['  initial begin', ...this.stmts(p.body, '    ', '='), '  end'];
  }

  /** Bits of each signal that something reads. */
  private usedBits(): Map<Signal, Set<number>> {
    const used = new Map<Signal, Set<number>>();
    const mark = (s: Signal, hi: number, lo: number) => {
      const set = used.get(s) ?? new Set<number>();
      for (let i = lo; i <= hi; i++) set.add(i);
      used.set(s, set);
    };
    const m = this.m;
    const exprs: Expr[] = [...m.assigns.map((a) => a.value), ...m.processes.flatMap((p) => stmtExprs(p.body))];
    for (const i of m.instances) for (const p of portsOf(i.of)) if (p.dir === 'input') exprs.push(i.connections.get(p.name)!);
    for (const e of exprs)
      walkExpr(e, (x) => {
        if (x instanceof Slice && x.a instanceof Signal) mark(x.a, x.hi, x.lo);
      });
    // A signal counts as wholly read wherever it appears other than directly under a slice.
    const sliced = new Set<Expr>();
    for (const e of exprs)
      walkExpr(e, (x) => {
        if (x instanceof Slice && x.a instanceof Signal && !(x.lo === 0 && x.hi === x.a.width - 1)) sliced.add(x);
      });
    const visit = (e: Expr, underSlice: boolean) => {
      if (e instanceof Signal) {
        if (!underSlice) mark(e, e.width - 1, 0);
        return;
      }
      if (e instanceof Binary) {
        visit(e.a, false);
        visit(e.b, false);
      } else if (e instanceof Slice) visit(e.a, sliced.has(e));
      else if (e instanceof Extend) {
        visit(e.a, false);
      } else if (e instanceof Unary || e instanceof Shift || e instanceof Cast) visit(e.a, false);
      else if (e instanceof Concat) e.parts.forEach((p) => visit(p, false));
      else if (e instanceof Mux) {
        visit(e.cond, false);
        visit(e.then, false);
        visit(e.otherwise, false);
      } else if (e instanceof MemRead) visit(e.addr, false);
    };
    for (const e of exprs) visit(e, false);
    if (m.processes.some((p) => p.kind === 'sync')) mark(m.clk, 0, 0);
    if (m.processes.some((p) => p.kind === 'sync' && this.assignedIn(p).some((s) => s.init !== undefined))) mark(m.rst, 0, 0);
    for (const c of m.simClocks) mark(c.signal, 0, 0);
    return used;
  }

  print(): string {
    const m = this.m;
    const used = this.usedBits();
    const drivers = driversOf(m);
    const fullyUsed = (s: Signal) => (used.get(s)?.size ?? 0) === s.width;
    const decl = (s: Signal, text: string): string[] =>
      fullyUsed(s) ? [text] : ['  /* verilator lint_off UNUSEDSIGNAL */', text, '  /* verilator lint_on UNUSEDSIGNAL */'];

    const body: string[] = [];
    for (const [name, value] of m.params)
      body.push('  /* verilator lint_off UNUSEDPARAM */', `  localparam integer ${name} = ${value};`, '  /* verilator lint_on UNUSEDPARAM */');
    for (const s of m.signals.values()) {
      if (s.role !== 'internal') continue;
      if (!drivers.has(s) && !used.has(s)) continue; // dead: neither driven nor read
      body.push(...decl(s, `  ${this.regs.has(s) ? 'reg' : 'wire'} ${signedKw(s)}${range(s.width)}${s.name};`));
    }
    for (const mem of m.memories) {
      body.push(`  reg ${range(mem.width)}${mem.name} [0:${mem.depth - 1}];`);
      if (mem.init) {
        body.push('  initial begin');
        mem.init.forEach((v, i) => body.push(`    ${mem.name}[${i}] = ${constText(new Const(v, mem.width))};`));
        body.push('  end');
      }
    }

    const logic: string[] = [];
    for (const a of m.assigns) logic.push(`  assign ${a.target.name} = ${this.expr(a.value)};`);
    for (const p of m.processes) logic.push(...this.process(p));
    for (const c of m.simClocks)
      logic.push(`  initial ${c.signal.name} = 1'b0;`, `  always #${c.halfPeriod} ${c.signal.name} = ~${c.signal.name};`);
    for (const inst of m.instances) {
      const params = Object.entries(inst.params);
      const ptext = params.length ? ` #(${params.map(([k, v]) => `.${k}(${typeof v === 'string' ? JSON.stringify(v) : v})`).join(', ')})` : '';
      const conns = portsOf(inst.of).map((p) => `    .${p.name}(${this.expr(inst.connections.get(p.name)!)})`);
      logic.push(`  ${inst.of.name}${ptext} ${inst.name} (`, conns.join(',\n'), '  );');
    }

    // Temporaries whose bits are only partly read are declared under a lint waiver, like signals.
    const temps: string[] = [];
    for (let i = 0; i < this.temps.length; i += 2) {
      const name = /(_t\d+);$/.exec(this.temps[i]!)![1]!;
      const t = this.tempBits.get(name)!;
      if (t.used.size === t.width) temps.push(this.temps[i]!);
      else temps.push('  /* verilator lint_off UNUSEDSIGNAL */', this.temps[i]!, '  /* verilator lint_on UNUSEDSIGNAL */');
      temps.push(this.temps[i + 1]!);
    }

    const header = ['// Generated by lutforge from the IR. Do not edit; regenerate instead.'];
    if (m.doc) header.push(...m.doc.split('\n').map((l) => `// ${l}`));
    const ports = m.ports.map((p) => {
      const kind = p.role === 'input' ? 'input  wire' : this.regs.has(p) ? 'output reg ' : 'output wire';
      return { p, text: `${kind} ${signedKw(p)}${range(p.width)}${p.name}` };
    });
    const portLines: string[] = [];
    ports.forEach(({ p, text }, i) => {
      const line = `  ${text}${i < ports.length - 1 ? ',' : ''}`;
      if (p.role === 'input' && !fullyUsed(p))
        portLines.push('  /* verilator lint_off UNUSEDSIGNAL */', line, '  /* verilator lint_on UNUSEDSIGNAL */');
      else portLines.push(line);
    });
    const open = ports.length ? [`module ${m.name} (`, ...portLines, ');'] : [`module ${m.name};`];
    return [...header, ...open, ...body, ...temps, ...logic, 'endmodule', ''].join('\n');
  }
}

export function printModule(m: Module): string {
  return new ModulePrinter(m).print();
}
