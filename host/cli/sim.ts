import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultCacheDir } from '../../sim/build';
import { compileIcarus } from '../../sim/icarus';
import { lintVerilog } from '../../sim/lint';
import { emit, withJson } from './common';
import { registerGemvSim } from './gemv';
import { addParamOptions } from './hw';

/** `lutforge sim ...`: lint/compile Verilog files and manage the simulator build cache. */

async function load(files: string[]): Promise<{ name: string; text: string }[]> {
  return Promise.all(files.map(async (f) => ({ name: path.basename(f), text: await readFile(f, 'utf8') })));
}

export function register(program: Command): void {
  const sim = program.command('sim').description('simulate designs; Verilator/Icarus helpers and the simulator build cache');
  registerGemvSim(sim, addParamOptions);

  withJson(sim.command('lint <files...>').description('verilator --lint-only -Wall').requiredOption('--top <module>', 'top module')).action(
    async (files: string[], o: { top: string; json?: boolean }) => {
      const r = await lintVerilog(await load(files), o.top, { throwOnWarning: false });
      emit(o, { top: o.top, ok: r.ok, messages: r.messages }, () => (r.ok ? `lint clean: ${o.top}` : r.output));
      if (!r.ok) process.exitCode = 1;
    },
  );

  withJson(sim.command('iverilog <files...>').description('check that iverilog -g2005 compiles the files').requiredOption('--top <module>', 'top module')).action(
    async (files: string[], o: { top: string; json?: boolean }) => {
      const b = await compileIcarus(await load(files), o.top);
      await rm(b.dir, { recursive: true, force: true });
      emit(o, { top: o.top, ok: true, log: b.log }, () => `iverilog -g2005 compiles ${o.top}${b.log ? `\n${b.log}` : ''}`);
    },
  );

  withJson(sim.command('cache').description('list (or --clear) cached simulator builds').option('--clear', 'delete every cached build', false)).action(
    async (o: { clear?: boolean; json?: boolean }) => {
      const root = defaultCacheDir();
      const names = (await readdir(root).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{64}$/.test(n));
      const entries = await Promise.all(
        names.map(async (hash) => {
          const meta = JSON.parse(await readFile(path.join(root, hash, 'meta.json'), 'utf8').catch(() => '{}')) as { module?: string; trace?: boolean };
          const size = (await stat(path.join(root, hash, 'sim')).catch(() => null))?.size ?? 0;
          return { hash, module: meta.module ?? '?', trace: !!meta.trace, bytes: size };
        }),
      );
      if (o.clear) await rm(root, { recursive: true, force: true });
      emit(o, { dir: root, cleared: !!o.clear, entries }, () =>
        [`${root}: ${entries.length} build(s)${o.clear ? ' (cleared)' : ''}`, ...entries.map((e) => `  ${e.hash.slice(0, 12)}  ${e.module}${e.trace ? ' (trace)' : ''}  ${(e.bytes / 1e6).toFixed(1)} MB`)].join('\n'),
      );
    },
  );
}
