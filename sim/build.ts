import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, copyFile, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModuleInterface } from '../generator/hdl/interface';
import { generateHarness } from './harness';
import { runTool, tail, writeSources, type VerilogFile } from './tools';

/** Verilated simulator builds, cached by content hash under .cache/sim/<sha256>/. */

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..');
const RUNTIME_PATH = path.join(HERE, 'cpp', 'harness_rt.h');

export function defaultCacheDir(): string {
  return process.env.LUTFORGE_SIM_CACHE ?? path.join(REPO_ROOT, '.cache', 'sim');
}

export interface BuildOptions {
  iface: ModuleInterface;
  files: VerilogFile[];
  /** Build with --trace-fst so runs can write FST waveforms. */
  trace?: boolean;
  /** Extra verilator arguments (part of the cache key). */
  verilatorArgs?: string[];
  cacheDir?: string;
  /**
   * Serialise the C++ compile with other CPU-heavy jobs through `flock FILE`. Default: the file named by the
   * LUTFORGE_CPU_LOCK environment variable, or no lock when it is unset.
   */
  cpuLock?: string | false;
}

export interface BuildResult {
  binary: string;
  hash: string;
  dir: string;
  cacheHit: boolean;
  /** Wall time of this call (lookup or build). */
  ms: number;
}

/** C++ optimisation goes through make variables: verilator's -O3 does not change the C++ level. */
const MAKEFLAGS = ['OPT_FAST=-O2', 'OPT_GLOBAL=-O2', 'OPT_SLOW=-O1', 'OBJCACHE=ccache'];

let toolVersions: Promise<string> | undefined;
/** Verilator and compiler identity, part of the cache key. */
function versions(): Promise<string> {
  toolVersions ??= (async () => {
    const v = await runTool('verilator', ['--version']);
    if (v.code !== 0) throw new Error(`verilator --version failed: ${v.stderr}`);
    const g = await runTool('g++', ['--version']);
    return `${v.stdout.trim()}\n${g.stdout.split('\n')[0]}`;
  })();
  return toolVersions;
}

function verilatorArgs(opts: BuildOptions, sources: string[], harness: string): string[] {
  const a = ['--cc', '--exe', '--build', '-j', '2', '--top-module', opts.iface.name, '--Mdir', 'obj', '-o', 'sim'];
  for (const f of MAKEFLAGS) a.push('-MAKEFLAGS', f);
  if (opts.trace) a.push('--trace-fst', '-CFLAGS', '-DLF_TRACE');
  a.push(...(opts.verilatorArgs ?? []));
  a.push(...sources, harness);
  return a;
}

export async function simHash(opts: BuildOptions): Promise<string> {
  const h = createHash('sha256');
  const feed = (tag: string, s: string): void => {
    h.update(`${tag}:${Buffer.byteLength(s)}:`);
    h.update(s);
  };
  feed('format', 'lutforge-sim-1');
  feed('versions', await versions());
  feed('harness', generateHarness(opts.iface));
  feed('runtime', await readFile(RUNTIME_PATH, 'utf8'));
  feed('flags', JSON.stringify({ make: MAKEFLAGS, extra: opts.verilatorArgs ?? [], trace: !!opts.trace, top: opts.iface.name }));
  for (const f of opts.files) {
    feed('name', f.name);
    feed('text', f.text);
  }
  return h.digest('hex');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Per-hash lock so concurrent builders of one design build it once. Correctness does not depend on it
 * (entries appear by atomic rename); a lock whose owner died is taken over.
 */
async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (owner > 0 && !alive(owner)) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (!owner) {
        // Owner is between open and write; give it a moment, then treat an old empty lock as stale.
        const st = await stat(lockPath).catch(() => null);
        if (st && Date.now() - st.mtimeMs > 10_000) await rm(lockPath, { force: true });
      }
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** Temp build dirs left by killed builds (a day old: a live one may wait long for the CPU lock). */
async function removeStaleTemps(root: string): Promise<void> {
  const day = 24 * 3600 * 1000;
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.startsWith('tmp-')) continue;
    const st = await stat(path.join(root, name)).catch(() => null);
    if (st && Date.now() - st.mtimeMs > day) await rm(path.join(root, name), { recursive: true, force: true });
  }
}

/** Builds (or finds in the cache) the Verilated simulator for a design. */
export async function buildSimBinary(opts: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  const hash = await simHash(opts);
  const root = opts.cacheDir ?? defaultCacheDir();
  const dir = path.join(root, hash);
  const binary = path.join(dir, 'sim');
  const done = (cacheHit: boolean): BuildResult => ({ binary, hash, dir, cacheHit, ms: performance.now() - t0 });
  if (existsSync(binary)) return done(true);
  await mkdir(root, { recursive: true });
  await removeStaleTemps(root);
  return withLock(path.join(root, `${hash}.lock`), async () => {
    if (existsSync(binary)) return done(true);
    const tmp = await mkdtemp(path.join(root, `tmp-${hash.slice(0, 12)}-`));
    try {
      const sources = await writeSources(path.join(tmp, 'src'), opts.files);
      const harnessPath = path.join(tmp, 'harness.cpp');
      await writeFile(harnessPath, generateHarness(opts.iface));
      await copyFile(RUNTIME_PATH, path.join(tmp, 'harness_rt.h'));
      const args = verilatorArgs(opts, sources.map((s) => path.relative(tmp, s)), 'harness.cpp');
      // Relative paths + CCACHE_BASEDIR let ccache hit across differently named temp dirs.
      const env = { ...process.env, CCACHE_BASEDIR: tmp, CCACHE_NOHASHDIR: '1' };
      const useLock = opts.cpuLock ?? process.env.LUTFORGE_CPU_LOCK ?? false;
      const res = useLock
        ? await runTool('flock', [useLock, 'verilator', ...args], { cwd: tmp, env })
        : await runTool('verilator', args, { cwd: tmp, env });
      const log = `$ verilator ${args.join(' ')}\n${res.stdout}\n${res.stderr}`;
      if (res.code !== 0) {
        throw new Error(`sim build of module '${opts.iface.name}' failed (verilator exit ${res.code ?? res.signal}):\n${tail(res.stderr || res.stdout, 40)}`);
      }
      const entry = path.join(tmp, 'entry');
      await mkdir(entry);
      await rename(path.join(tmp, 'obj', 'sim'), path.join(entry, 'sim'));
      await writeFile(path.join(entry, 'harness.cpp'), generateHarness(opts.iface));
      await writeFile(path.join(entry, 'build.log'), log);
      await writeFile(
        path.join(entry, 'meta.json'),
        JSON.stringify({ module: opts.iface.name, trace: !!opts.trace, files: opts.files.map((f) => f.name), builtAt: new Date().toISOString(), buildMs: Math.round(performance.now() - t0) }, null, 2),
      );
      try {
        await rename(entry, dir);
      } catch (e) {
        // Someone else (without our lock, e.g. another cache user) finished first: theirs is equivalent.
        if (!existsSync(binary)) throw e;
      }
      return done(false);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}
