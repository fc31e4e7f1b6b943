import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runTool, tail, writeSources, type VerilogFile } from './tools';

/** Icarus Verilog wrappers: compile with `iverilog -g2005`, run with `vvp`. */

export interface IcarusBuild {
  /** Compiled vvp program. */
  vvp: string;
  /** Directory holding sources and the program (caller may delete it). */
  dir: string;
  /** Compiler messages (warnings). */
  log: string;
}

/** Compiles the files with `top` as root. Throws an Error naming the top module with iverilog's messages on failure. */
export async function compileIcarus(files: VerilogFile[], top: string, opts: { outDir?: string; args?: string[] } = {}): Promise<IcarusBuild> {
  const dir = opts.outDir ?? (await mkdtemp(path.join(tmpdir(), 'lutforge-iverilog-')));
  await mkdir(dir, { recursive: true });
  const paths = await writeSources(path.join(dir, 'src'), files);
  const vvp = path.join(dir, `${top}.vvp`);
  const res = await runTool('iverilog', ['-g2005', '-s', top, '-o', vvp, ...(opts.args ?? []), ...paths], { cwd: dir });
  const log = (res.stderr + res.stdout).trim();
  if (res.code !== 0) throw new Error(`iverilog -g2005 of '${top}' failed (exit ${res.code ?? res.signal}):\n${tail(log, 40)}`);
  return { vvp, dir, log };
}

export interface VvpResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs a compiled program; plusargs like '+seed=3' are passed through. Throws on a non-zero exit unless allowFail. */
export async function runVvp(vvp: string, plusargs: string[] = [], opts: { allowFail?: boolean } = {}): Promise<VvpResult> {
  const res = await runTool('vvp', ['-n', vvp, ...plusargs], { cwd: path.dirname(vvp) });
  if (res.code !== 0 && !opts.allowFail) throw new Error(`vvp ${path.basename(vvp)} exited with ${res.code ?? res.signal}:\n${tail(res.stderr + res.stdout, 30)}`);
  return { stdout: res.stdout, stderr: res.stderr, code: res.code };
}
