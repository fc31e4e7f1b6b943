/**
 * Modules, signals, memories, processes and instances of the lutforge IR.
 * A Module is built with methods (input, output, wire, reg, assign, sync, comb, memory, instance);
 * checks.ts validates it and verilog.ts prints it. Nothing here produces text.
 */
import { Const, Expr, HdlError, checkWidth, lift, type Operand } from './expr';
import type { ModuleInterface, StreamDesc } from './interface';

const VERILOG_KEYWORDS = new Set(
  ('always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign default defparam design ' +
    'disable edge else end endcase endconfig endfunction endgenerate endmodule endprimitive endspecify endtable endtask ' +
    'event for force forever fork function generate genvar highz0 highz1 if ifnone incdir include initial inout input ' +
    'instance integer join large liblist library localparam macromodule medium module nand negedge nmos nor ' +
    'noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive pull0 pull1 pulldown pullup ' +
    'pulsestyle_onevent pulsestyle_ondetect rcmos real realtime reg release repeat rnmos rpmos rtran rtranif0 rtranif1 ' +
    'scalared showcancelled signed small specify specparam strong0 strong1 supply0 supply1 table task time tran ' +
    'tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire vectored wait wand weak0 weak1 while wire wor ' +
    'xnor xor logic bit byte int shortint longint')
    .split(/\s+/),
);

export function checkName(name: string, what: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new HdlError(`${what} name '${name}' is not a valid Verilog identifier`);
  if (VERILOG_KEYWORDS.has(name)) throw new HdlError(`${what} name '${name}' is a Verilog keyword`);
}

export type SignalRole = 'input' | 'output' | 'internal';

export class Signal extends Expr {
  readonly kind = 'signal';
  constructor(
    readonly module: Module,
    readonly name: string,
    readonly width: number,
    readonly signed: boolean,
    readonly role: SignalRole,
    /** Value loaded by the synchronous reset (registers) or default at the top of a comb process. */
    readonly init: bigint | undefined,
  ) {
    super();
  }
  describe(): string {
    return `${this.module.name}.${this.name}`;
  }
}

export class Memory {
  constructor(
    readonly module: Module,
    readonly name: string,
    readonly width: number,
    readonly depth: number,
    readonly init: readonly bigint[] | undefined,
  ) {}
  /**
   * Read word `addr`. Inside a sync process this is a registered read (block RAM); elsewhere it is an
   * asynchronous read (distributed RAM / ROM).
   */
  read(addr: Expr): Expr {
    return new MemRead(this, addr);
  }
}

export class MemRead extends Expr {
  readonly kind = 'memread';
  readonly width: number;
  readonly signed = false;
  constructor(
    readonly mem: Memory,
    readonly addr: Expr,
  ) {
    super();
    this.width = mem.width;
    if (addr.signed) throw new HdlError(`memory ${mem.name}: address ${addr.describe()} must be unsigned`);
  }
  describe(): string {
    return `${this.mem.name}[${this.addr.describe()}]`;
  }
}

// ---- statements -------------------------------------------------------------------------------

export type Stmt =
  | { kind: 'assign'; target: Signal; value: Expr }
  | { kind: 'if'; cond: Expr; then: Stmt[]; otherwise: Stmt[] }
  | { kind: 'switch'; subject: Expr; cases: Array<{ values: bigint[]; body: Stmt[] }>; otherwise: Stmt[] }
  | { kind: 'memwrite'; mem: Memory; addr: Expr; data: Expr }
  | { kind: 'systask'; task: SysTask; args: Array<Expr | string | Memory> };

/** System tasks for simulation-only testbench modules. */
export type SysTask = '$display' | '$fwrite' | '$finish' | '$readmemh' | '$fflush';

/** Builds a list of statements; passed to the callbacks of sync/comb/initial processes. */
export class Block {
  readonly stmts: Stmt[] = [];
  constructor(readonly process: Process) {}

  /** target <= value (sync) or target = value (comb). */
  set(target: Signal, value: Operand): this {
    this.stmts.push({ kind: 'assign', target, value: lift(value, target) });
    return this;
  }
  if(cond: Expr, then: (b: Block) => void, otherwise?: (b: Block) => void): this {
    const t = new Block(this.process);
    then(t);
    const e = new Block(this.process);
    otherwise?.(e);
    this.stmts.push({ kind: 'if', cond, then: t.stmts, otherwise: e.stmts });
    return this;
  }
  switch(subject: Expr, cases: Array<[number | bigint | Array<number | bigint>, (b: Block) => void]>, otherwise?: (b: Block) => void): this {
    const cs = cases.map(([v, body]) => {
      const b = new Block(this.process);
      body(b);
      return { values: (Array.isArray(v) ? v : [v]).map((x) => BigInt(x)), body: b.stmts };
    });
    const d = new Block(this.process);
    otherwise?.(d);
    this.stmts.push({ kind: 'switch', subject, cases: cs, otherwise: d.stmts });
    return this;
  }
  write(mem: Memory, addr: Expr, data: Operand): this {
    if (this.process.kind !== 'sync') throw new HdlError(`memory ${mem.name}: writes are only allowed in sync processes`);
    this.stmts.push({ kind: 'memwrite', mem, addr, data: data instanceof Expr ? data : new Const(data, mem.width) });
    return this;
  }
  /** Simulation-only system task (testbenches). */
  task(task: SysTask, ...args: Array<Expr | string | Memory>): this {
    this.stmts.push({ kind: 'systask', task, args });
    return this;
  }
}

export type ProcessKind = 'sync' | 'comb' | 'initial';

export class Process {
  body: Stmt[] = [];
  constructor(
    readonly kind: ProcessKind,
    readonly name: string | undefined,
  ) {}
}

// ---- instances and extern cells ---------------------------------------------------------------

export interface ExternPort {
  name: string;
  dir: 'input' | 'output';
  width: number;
  signed?: boolean;
}

/** A hand-written cell from rtl/ or a vendor primitive: ports known, body not in the IR. */
export class ExternModule {
  constructor(
    readonly name: string,
    readonly ports: readonly ExternPort[],
    /** The rtl/ file that defines it, relative to the repo root; undefined for vendor primitives. */
    readonly file?: string,
    /** Output <- input pairs with a combinational path, for loop detection. */
    readonly combPaths: ReadonlyArray<readonly [string, string]> = [],
  ) {
    checkName(name, 'extern module');
  }
}

export interface Instance {
  name: string;
  of: Module | ExternModule;
  params: Record<string, number | string>;
  /** Port name -> expression (inputs) or signal of the parent (outputs). */
  connections: Map<string, Expr>;
}

// ---- streams ----------------------------------------------------------------------------------

export interface StreamPort {
  name: string;
  valid: Signal;
  ready: Signal;
  data: Signal;
  last?: Signal;
  /** valid & ready: a beat transfers this cycle. */
  fire: Expr;
}

// ---- module -----------------------------------------------------------------------------------

export interface SignalOptions {
  signed?: boolean;
  /** Register reset value, or comb-process default. */
  init?: number | bigint;
}

export class Module {
  readonly signals = new Map<string, Signal>();
  readonly ports: Signal[] = [];
  readonly memories: Memory[] = [];
  readonly assigns: Array<{ target: Signal; value: Expr }> = [];
  readonly processes: Process[] = [];
  readonly instances: Instance[] = [];
  readonly streams: StreamDesc[] = [];
  readonly params = new Map<string, number>();
  /** Free-running simulation clocks (testbenches only): signal -> half period in time units. */
  readonly simClocks: Array<{ signal: Signal; halfPeriod: number }> = [];
  readonly clk: Signal;
  readonly rst: Signal;
  private tempCount = 0;

  constructor(
    readonly name: string,
    opts: { clocked?: boolean; doc?: string } = {},
  ) {
    checkName(name, 'module');
    this.doc = opts.doc;
    if (opts.clocked === false) {
      // Testbenches own their clock; they have no ports.
      this.clk = this.wire('clk', 1);
      this.rst = this.wire('rst', 1);
    } else {
      this.clk = this.input('clk', 1);
      this.rst = this.input('rst', 1);
    }
  }
  readonly doc: string | undefined;

  private add(name: string, width: number, role: SignalRole, o: SignalOptions = {}): Signal {
    checkName(name, `signal in module ${this.name}`);
    checkWidth(width, `${this.name}.${name}`);
    if (this.signals.has(name) || this.memories.some((m) => m.name === name))
      throw new HdlError(`module ${this.name}: duplicate name '${name}'`);
    const init = o.init === undefined ? undefined : new Const(o.init, width, o.signed ?? false).bits;
    const s = new Signal(this, name, width, o.signed ?? false, role, init);
    this.signals.set(name, s);
    if (role !== 'internal') this.ports.push(s);
    return s;
  }

  input(name: string, width: number, o: SignalOptions = {}): Signal {
    return this.add(name, width, 'input', o);
  }
  output(name: string, width: number, o: SignalOptions = {}): Signal {
    return this.add(name, width, 'output', o);
  }
  /** An internal signal; whether it prints as wire or reg depends on what drives it. */
  wire(name: string, width: number, o: SignalOptions = {}): Signal {
    return this.add(name, width, 'internal', o);
  }
  /** Same as wire(); reads better for signals driven by a sync process. */
  reg(name: string, width: number, o: SignalOptions = {}): Signal {
    return this.add(name, width, 'internal', o);
  }
  /** A fresh internal signal named prefix_N. */
  temp(prefix: string, width: number, o: SignalOptions = {}): Signal {
    let name: string;
    do name = `${prefix}_${this.tempCount++}`;
    while (this.signals.has(name));
    return this.add(name, width, 'internal', o);
  }
  /** Name an expression: a wire continuously assigned from it. */
  let(name: string, value: Expr): Signal {
    const s = this.wire(name, value.width, { signed: value.signed });
    this.assign(s, value);
    return s;
  }
  param(name: string, value: number): void {
    checkName(name, `parameter in module ${this.name}`);
    this.params.set(name, value);
  }

  memory(name: string, width: number, depth: number, init?: readonly (bigint | number)[]): Memory {
    checkName(name, `memory in module ${this.name}`);
    checkWidth(width, `${this.name}.${name}`);
    if (!Number.isInteger(depth) || depth < 1) throw new HdlError(`memory ${this.name}.${name}: depth ${depth} must be >= 1`);
    if (this.signals.has(name)) throw new HdlError(`module ${this.name}: duplicate name '${name}'`);
    if (init && init.length > depth) throw new HdlError(`memory ${this.name}.${name}: ${init.length} init words for depth ${depth}`);
    const m = new Memory(this, name, width, depth, init?.map((v) => new Const(v, width).bits));
    this.memories.push(m);
    return m;
  }

  assign(target: Signal, value: Operand): void {
    this.assigns.push({ target, value: lift(value, target) });
  }

  /** Clocked process on the rising edge of clk; registers with an init value are reset by rst. */
  sync(body: (b: Block) => void, name?: string): Process {
    return this.process('sync', body, name);
  }
  /** Combinational process; every target starts from its init value, so no latch can be inferred. */
  comb(body: (b: Block) => void, name?: string): Process {
    return this.process('comb', body, name);
  }
  /** Simulation-only initial block (testbenches). */
  initial(body: (b: Block) => void): Process {
    return this.process('initial', body, undefined);
  }
  simClock(signal: Signal, halfPeriod: number): void {
    this.simClocks.push({ signal, halfPeriod });
  }

  private process(kind: ProcessKind, body: (b: Block) => void, name: string | undefined): Process {
    const p = new Process(kind, name);
    const b = new Block(p);
    body(b);
    p.body = b.stmts;
    this.processes.push(p);
    return p;
  }

  instance(of: Module | ExternModule, name: string, connections: Record<string, Expr>, params: Record<string, number | string> = {}): Instance {
    checkName(name, `instance in module ${this.name}`);
    if (this.instances.some((i) => i.name === name) || this.signals.has(name))
      throw new HdlError(`module ${this.name}: duplicate name '${name}'`);
    const conns = new Map(Object.entries(connections));
    // Child IR modules share the parent's clock and reset unless told otherwise.
    if (of instanceof Module) {
      if (!conns.has('clk')) conns.set('clk', this.clk);
      if (!conns.has('rst')) conns.set('rst', this.rst);
    }
    const inst: Instance = { name, of, params, connections: conns };
    this.instances.push(inst);
    return inst;
  }

  /** Stream the module consumes: <name>_valid in, <name>_ready out, <name>_data in, optional <name>_last in. */
  streamIn(name: string, width: number, o: { last?: boolean; signed?: boolean } = {}): StreamPort {
    const valid = this.input(`${name}_valid`, 1);
    const ready = this.output(`${name}_ready`, 1);
    const data = this.input(`${name}_data`, width, { signed: o.signed });
    const last = o.last ? this.input(`${name}_last`, 1) : undefined;
    this.streams.push({ name, dir: 'in', width, valid: valid.name, ready: ready.name, data: data.name, last: last?.name });
    return { name, valid, ready, data, last, fire: valid.and(ready) };
  }
  /** Stream the module produces: <name>_valid out, <name>_ready in, <name>_data out, optional <name>_last out. */
  streamOut(name: string, width: number, o: { last?: boolean; signed?: boolean } = {}): StreamPort {
    const valid = this.output(`${name}_valid`, 1);
    const ready = this.input(`${name}_ready`, 1);
    const data = this.output(`${name}_data`, width, { signed: o.signed });
    const last = o.last ? this.output(`${name}_last`, 1) : undefined;
    this.streams.push({ name, dir: 'out', width, valid: valid.name, ready: ready.name, data: data.name, last: last?.name });
    return { name, valid, ready, data, last, fire: valid.and(ready) };
  }

  /** The module boundary for simulators, hosts and shells. */
  interface(): ModuleInterface {
    return {
      name: this.name,
      clock: 'clk',
      reset: 'rst',
      ports: this.ports.map((p) => ({ name: p.name, dir: p.role === 'input' ? 'input' : 'output', width: p.width, signed: p.signed })),
      streams: this.streams.map((s) => ({ ...s })),
    };
  }

  /** Ports of this module as seen by an instantiating parent. */
  portList(): ExternPort[] {
    return this.ports.map((p) => ({ name: p.name, dir: p.role === 'input' ? 'input' : 'output', width: p.width, signed: p.signed }));
  }
}

export function portsOf(of: Module | ExternModule): readonly ExternPort[] {
  return of instanceof Module ? of.portList() : of.ports;
}
