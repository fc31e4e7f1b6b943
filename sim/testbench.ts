/**
 * A self-checking-free, self-contained Verilog testbench for a second simulator (Icarus).
 * Built with the IR like every other piece of Verilog: input beats come from $readmemh files, stalls from a
 * seeded xorshift per stream, output beats are printed as "OUT <stream> <hex>" lines, then "CYCLES <n>".
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, lit, mux, printDesign, type Expr, type Signal } from '../generator/hdl';
import { compileIcarus, runVvp } from './icarus';

export interface TestbenchStimulus {
  /** Beats for each input stream. */
  inputs: Record<string, readonly bigint[]>;
  /** Beats expected on each output stream; the bench ends when all have arrived. */
  outputs: Record<string, number>;
  /** Constant values for plain input ports. */
  set?: Record<string, bigint>;
  /** Probability in [0, 1) that a stream side stalls on a given cycle. */
  stall?: number;
  seed?: number;
  maxCycles?: number;
}

export interface Testbench {
  module: Module;
  /** Files the bench reads with $readmemh, by name. */
  dataFiles: Array<{ name: string; text: string }>;
}

const RESET_CYCLES = 4;

export function buildTestbench(dut: Module, stim: TestbenchStimulus): Testbench {
  const tb = new Module(`tb_${dut.name}`, { clocked: false });
  tb.simClock(tb.clk, 5);
  const cycle = tb.reg('cycle', 32);
  tb.initial((b) => b.set(cycle, 0));
  tb.sync((b) => b.set(cycle, cycle.add(1)));
  tb.assign(tb.rst, cycle.lt(RESET_CYCLES));
  const running = tb.let('running', tb.rst.not());
  const threshold = Math.min(255, Math.max(0, Math.round((stim.stall ?? 0) * 256)));
  let seed = (stim.seed ?? 1) >>> 0 || 1;
  const dataFiles: Testbench['dataFiles'] = [];
  const conns: Record<string, Expr> = { clk: tb.clk, rst: tb.rst };
  const done: Expr[] = [];
  const streamSignals = new Set<string>();

  /** A stall decision per cycle from a seeded 32-bit xorshift. */
  const stallBit = (name: string): Expr => {
    const r = tb.reg(`${name}_rng`, 32);
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0 || 1;
    const init = seed;
    tb.initial((b) => b.set(r, init));
    const a = tb.let(`${name}_rng_a`, r.xor(r.shl(13)));
    const c = tb.let(`${name}_rng_b`, a.xor(a.shr(17)));
    const t3 = c.xor(c.shl(5));
    tb.sync((b) => b.set(r, t3));
    return threshold === 0 ? lit(0, 1) : r.slice(31, 24).lt(lit(threshold, 8));
  };

  for (const s of dut.streams) {
    for (const n of [s.valid, s.ready, s.data, s.last]) if (n) streamSignals.add(n);
    if (s.dir === 'in') {
      const beats = stim.inputs[s.name] ?? [];
      const n = beats.length;
      const depth = Math.max(1, n);
      const mem = tb.memory(`${s.name}_mem`, s.width, depth);
      const file = `${s.name}.hex`;
      dataFiles.push({ name: file, text: beats.map((v) => BigInt.asUintN(s.width, v).toString(16)).join('\n') + '\n' });
      if (n) tb.initial((b) => b.task('$readmemh', file, mem));
      const idxBits = Math.max(1, Math.ceil(Math.log2(depth + 1)));
      const idx = tb.reg(`${s.name}_idx`, idxBits);
      const valid = tb.reg(`${s.name}_v`, 1);
      tb.initial((b) => b.set(idx, 0).set(valid, 0));
      const ready = tb.wire(`${s.name}_rdy`, 1);
      const fire = tb.let(`${s.name}_fire`, valid.and(ready));
      const nextIdx = tb.let(`${s.name}_next`, mux(fire, idx.add(1), idx));
      const stall = stallBit(s.name);
      tb.sync((b) =>
        b.if(running, (t) => {
          t.set(idx, nextIdx);
          // valid may only drop after a transfer; stalls only delay raising it
          t.if(valid.not().or(fire), (u) => u.set(valid, nextIdx.lt(lit(n, idxBits)).and(stall.not())));
        }),
      );
      const data = tb.let(`${s.name}_d`, mem.read(idx.resize(Math.max(1, Math.ceil(Math.log2(depth))))));
      conns[s.valid] = valid;
      conns[s.ready] = ready;
      conns[s.data] = data;
      if (s.last) conns[s.last] = lit(0, 1);
    } else {
      const want = stim.outputs[s.name] ?? 0;
      const got = tb.reg(`${s.name}_count`, 32);
      tb.initial((b) => b.set(got, 0));
      const valid = tb.wire(`${s.name}_vld`, 1);
      const data = tb.wire(`${s.name}_dat`, s.width);
      const stall = stallBit(s.name);
      const ready = tb.let(`${s.name}_rdy`, running.and(stall.not()));
      tb.sync((b) =>
        b.if(valid.and(ready), (t) => {
          t.task('$display', `OUT ${s.name} %h`, data);
          t.set(got, got.add(1));
        }),
      );
      conns[s.valid] = valid;
      conns[s.ready] = ready;
      conns[s.data] = data;
      if (s.last) conns[s.last] = tb.wire(`${s.name}_lst`, 1);
      done.push(got.ge(lit(want, 32)));
    }
  }
  for (const p of dut.ports) {
    if (p.name === 'clk' || p.name === 'rst' || streamSignals.has(p.name)) continue;
    if (p.role === 'input') conns[p.name] = lit(stim.set?.[p.name] ?? 0n, p.width);
    else conns[p.name] = tb.wire(`${p.name}_out`, p.width) as Signal;
  }
  tb.instance(dut, 'dut', conns);
  const allDone = done.length ? done.reduce((a, b) => a.and(b)) : lit(1, 1);
  const maxCycles = stim.maxCycles ?? 1_000_000;
  tb.sync((b) => {
    b.if(running.and(allDone), (t) => {
      t.task('$display', 'CYCLES %0d', cycle.sub(RESET_CYCLES));
      t.task('$finish');
    });
    b.if(cycle.gt(lit(maxCycles, 32)), (t) => {
      t.task('$display', 'TIMEOUT %0d', cycle);
      t.task('$finish');
    });
  });
  return { module: tb, dataFiles };
}

/** Parse the bench's stdout into beats per output stream and the cycle count. */
export function parseTestbenchOutput(stdout: string): { outputs: Record<string, bigint[]>; cycles: number } {
  const outputs: Record<string, bigint[]> = {};
  let cycles = -1;
  for (const line of stdout.split('\n')) {
    const m = /^OUT (\S+) ([0-9a-fA-FxXzZ]+)$/.exec(line.trim());
    if (m) {
      if (/[xXzZ]/.test(m[2]!)) throw new Error(`testbench: stream ${m[1]} produced undefined bits: ${m[2]}`);
      (outputs[m[1]!] ??= []).push(BigInt('0x' + m[2]!));
      continue;
    }
    const c = /^CYCLES (\d+)$/.exec(line.trim());
    if (c) cycles = Number(c[1]);
    if (/^TIMEOUT/.test(line.trim())) throw new Error(`testbench: timed out (${line.trim()})`);
  }
  if (cycles < 0) throw new Error('testbench: simulation ended without reporting CYCLES');
  return { outputs, cycles };
}

/** Run a design under Icarus Verilog with the IR-built testbench; returns the output beats and cycles. */
export async function runIcarus(dut: Module, stim: TestbenchStimulus): Promise<{ outputs: Record<string, bigint[]>; cycles: number }> {
  const tb = buildTestbench(dut, stim);
  const design = printDesign(tb.module);
  const dir = await mkdtemp(join(tmpdir(), 'lutforge-icarus-'));
  try {
    for (const f of tb.dataFiles) await writeFile(join(dir, f.name), f.text);
    const build = await compileIcarus(design.files, design.top, { outDir: dir });
    const res = await runVvp(build.vvp);
    return parseTestbenchOutput(res.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
