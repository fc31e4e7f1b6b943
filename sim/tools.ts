import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A Verilog source file handed to the tools: the name is only used for messages and the on-disk copy. */
export interface VerilogFile {
  name: string;
  text: string;
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion, capturing output. Never rejects on a non-zero exit (callers decide). */
export function runTool(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** Basename safe for the file system; keeps the extension so tools see `.v`/`.sv`. */
export function safeFileName(name: string, i: number): string {
  const base = path.basename(name).replace(/[^A-Za-z0-9_.-]/g, '_');
  return base && base !== '.' && base !== '..' ? base : `file${i}.v`;
}

/** Writes the files into dir (unique names) and returns their paths in order. */
export async function writeSources(dir: string, files: VerilogFile[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const used = new Set<string>();
  const paths: string[] = [];
  for (const [i, f] of files.entries()) {
    let n = safeFileName(f.name, i);
    while (used.has(n)) n = `${i}_${n}`;
    used.add(n);
    const p = path.join(dir, n);
    await writeFile(p, f.text);
    paths.push(p);
  }
  return paths;
}

/** A scratch directory removed after fn, even if it throws. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Last n lines of a log, for error messages. */
export function tail(text: string, n = 30): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}
