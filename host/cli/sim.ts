import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultCacheDir } from '../../sim/build';
import { compileIcarus } from '../../sim/icarus';
import { lintVerilog } from '../../sim/lint';
import cliProgress from 'cli-progress';
import { decodeOnEngine } from '../engine-decode';
import { emit, parseIntList, parseIntOpt, withJson } from './common';
import { DEFAULT_MODEL } from './demo';
import { registerGemvSim } from './gemv';
import { addParamOptions } from './hw';

/** `lutforge sim ...`: lint/compile Verilog files and manage the simulator build cache. */

async function load(files: string[]): Promise<{ name: string; text: string }[]> {
  return Promise.all(files.map(async (f) => ({ name: path.basename(f), text: await readFile(f, 'utf8') })));
}

export function register(program: Command): void {
  const sim = program.command('sim').description('simulate designs; Verilator/Icarus helpers and the simulator build cache');
  registerGemvSim(sim, addParamOptions);

  withJson(
    sim
      .command('llm')
      .description('decode greedily on the generated W2A8KV4 engine in Verilator, checking every logit against the golden decoder')
      .option('--model <file>', 'llama2.c checkpoint', DEFAULT_MODEL)
      .option('--preset <name>', 'engine preset (u280 | tiny | sim-small)', 'sim-small')
      .option('--tokens <n>', 'positions to decode', '8')
      .option('--prompt-ids <ids>', 'comma-separated prompt token ids (default: BOS = 1)')
      .option('--stall <p>', 'stall probability per cycle on the memory and logits streams', '0')
      .option('--latency <cycles>', 'memory latency before each step', '8')
      .option('--seed <n>', 'stall seed', '1')
      .option('--trace <file.fst>', 'write an FST waveform'),
  ).action(
    async (o: { model: string; preset: string; tokens: string; promptIds?: string; stall: string; latency: string; seed: string; trace?: string; json?: boolean }) => {
      const tokens = parseIntOpt('--tokens', o.tokens);
      const bar = o.json || !process.stderr.isTTY ? null : new cliProgress.SingleBar({ format: 'decode [{bar}] {value}/{total} tokens, last id {id}' }, cliProgress.Presets.shades_classic);
      const stall = Number(o.stall);
      if (!(stall >= 0 && stall < 1)) throw new Error(`--stall must be in [0, 1), got ${o.stall}`);
      const r = await decodeOnEngine({
        model: path.resolve(o.model),
        preset: o.preset,
        tokens,
        prompt: o.promptIds ? parseIntList('--prompt-ids', o.promptIds) : undefined,
        stall,
        latency: parseIntOpt('--latency', o.latency),
        seed: parseIntOpt('--seed', o.seed),
        traceFile: o.trace ? path.resolve(o.trace) : undefined,
        onPhase: (w) => o.json || process.stderr.write(`${w}\n`),
        onStep: (p, n, id) => (p === 0 ? bar?.start(n, 1, { id }) : bar?.update(p + 1, { id })),
      });
      bar?.stop();
      emit(o, r, () =>
        [
          `${r.preset} engine (lanes ${r.config.lanes} x simd ${r.config.simd}, vpar ${r.config.vpar}, S ${r.config.sinks} + W ${r.config.window}): ` +
            `${r.bitExactSteps}/${tokens} positions bit-exact with the golden decoder` +
            (r.firstMismatch ? ` — MISMATCH at position ${r.firstMismatch.position}, logit ${r.firstMismatch.logit}: golden ${r.firstMismatch.golden}, engine ${r.firstMismatch.engine}` : ''),
          `ids: ${r.ids.join(' ')}`,
          `${r.cyclesPerToken} cycles/token (GEMV ${r.perf.gemv}, attention+KV ${r.perf.attn}, other ${r.perf.other}), ${r.weightBytesPerToken} weight bytes/token` +
            (r.traceFile ? `\ntrace: ${r.traceFile}` : ''),
        ].join('\n'),
      );
      if (r.firstMismatch || r.bitExactSteps !== tokens) process.exitCode = 1;
    },
  );

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
