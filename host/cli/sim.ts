import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultCacheDir } from '../../sim/build';
import { compileIcarus } from '../../sim/icarus';
import { lintVerilog } from '../../sim/lint';
import cliProgress from 'cli-progress';
import { simulateCellnet } from '../sorter/core-sim';
import { decodeOnEngine } from '../engine-decode';
import { emit, parseIntList, parseIntOpt, withJson } from './common';
import { DEFAULT_MODEL } from './demo';
import { registerGemvSim } from './gemv';
import { addParamOptions } from './design-params';

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
      .option('--model <file>', 'model file: GGUF or llama2.c checkpoint (.bin)', DEFAULT_MODEL)
      .option('--preset <name>', 'engine preset (u280 | tiny | sim-small)', 'sim-small')
      .option('--tokens <n>', 'positions to decode', '8')
      .option('--prompt-ids <ids>', 'comma-separated prompt token ids (default: BOS = 1)')
      .option('--stall <p>', 'stall probability per cycle on the memory and logits streams', '0')
      .option('--latency <cycles>', 'memory latency before each step', '8')
      .option('--seed <n>', 'stall seed', '1')
      .option('--trace <file.fst>', 'write an FST waveform')
      .option('--quant <file>', "decode this quantised model file (llm qat --out), or 'shipped' for the repository's QAT model (default: MSE-quantise --model)")
      .option('--prefill-block <n>', 'consume the prompt in prefill blocks of n tokens per group (default: token by token)')
      .option('--prefill-groups <n>', 'prefill groups in flight: 1, or 2 (two issue queues; blocks of 2n tokens)', '1')
      .option('--prefill-dsp', 'the GEMV unit\'s DSP half (three tokens per held weight word)', false),
  ).action(
    async (o: { model: string; preset: string; tokens: string; promptIds?: string; stall: string; latency: string; seed: string; trace?: string; quant?: string; prefillBlock?: string; prefillGroups: string; prefillDsp: boolean; json?: boolean }) => {
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
        ...(o.quant !== undefined && { quant: o.quant === 'shipped' ? 'shipped' : path.resolve(o.quant) }),
        ...(o.prefillBlock !== undefined && { prefill: { block: parseIntOpt('--prefill-block', o.prefillBlock), groups: parseIntOpt('--prefill-groups', o.prefillGroups), dsp: o.prefillDsp } }),
        onPhase: (w) => o.json || process.stderr.write(`${w}\n`),
        onStep: (p, n, id) => (p === 0 ? bar?.start(n, 1, { id }) : bar?.update(p + 1, { id })),
      });
      bar?.stop();
      emit(o, r, () =>
        [
          `${r.preset} engine (lanes ${r.config.lanes} x simd ${r.config.simd}, vpar ${r.config.vpar}, S ${r.config.sinks} + W ${r.config.window}): ` +
            `${r.bitExactSteps}/${r.checkedOutputs} ${r.prefill ? 'outputs (prefill blocks, then decode steps)' : 'positions'} bit-exact with the golden decoder` +
            (r.firstMismatch ? ` — MISMATCH at position ${r.firstMismatch.position}, logit ${r.firstMismatch.logit}: golden ${r.firstMismatch.golden}, engine ${r.firstMismatch.engine}` : ''),
          `ids: ${r.ids.join(' ')}`,
          ...(r.prefill ? [`prompt of ${r.prompt.length} in blocks ${r.prefill.blocks.join(', ')} (${r.prefill.groups} group${r.prefill.groups > 1 ? 's' : ''} of up to ${r.prefill.block}${r.prefill.dsp ? ', DSP half' : ''}): ${r.prefill.promptCyclesPerToken} cycles per prompt token`] : []),
          `${r.cyclesPerToken} cycles/token (GEMV ${r.perf.gemv}, attention+KV ${r.perf.attn}, other ${r.perf.other}), ${r.weightBytesPerToken} weight bytes/token` +
            (r.traceFile ? `\ntrace: ${r.traceFile}` : ''),
        ].join('\n'),
      );
      if (r.firstMismatch || r.bitExactSteps !== r.checkedOutputs) process.exitCode = 1;
    },
  );

  withJson(
    sim
      .command('cellnet')
      .description('classify images on the cell sorter core in Verilator with random stalls; check every event and pulse against the goldens')
      .option('--images <src>', 'IDX images file or synthetic:N', 'synthetic:50')
      .option('--ppc <n>', 'pixels per cycle of the streaming design (1, 2, 4, 8)', '8')
      .option('--serial', 'the time-multiplexed engine (iCE40 builds; ppc 1)', false)
      .option('--stall <p>', 'stall probability per cycle on the pixel and event streams', '0.2')
      .option('--sort <classes>', 'classes the trigger fires for (names or indices)', '1')
      .option('--threshold <t>', 'minimum score to fire', '0')
      .option('--delay <cycles>', 'pulse delay after the decision', '100')
      .option('--width <cycles>', 'pulse width', '50')
      .option('--clock-mhz <f>', 'clock for the µs figures', '250')
      .option('--seed <n>', 'seed for images and stalls', '1')
      .option('--trace <file.fst>', 'write an FST waveform'),
  ).action(
    async (o: { images: string; ppc: string; serial: boolean; stall: string; sort: string; threshold: string; delay: string; width: string; clockMhz: string; seed: string; trace?: string; json?: boolean }) => {
      const r = await simulateCellnet({
        images: o.images,
        ppc: parseIntOpt('--ppc', o.ppc),
        serial: o.serial,
        stall: Number(o.stall),
        seed: parseIntOpt('--seed', o.seed),
        sort: o.sort.split(','),
        threshold: parseIntOpt('--threshold', o.threshold),
        delay: parseIntOpt('--delay', o.delay),
        width: parseIntOpt('--width', o.width),
        clockMhz: Number(o.clockMhz),
        traceFile: o.trace ? path.resolve(o.trace) : undefined,
      });
      const ok = r.classifierMatches === r.images && r.triggerMatches;
      emit(o, { ok, ...r }, () =>
        [
          `cell sorter core, ${r.serial ? 'time-multiplexed engine' : `${r.ppc} pixel(s)/cycle`}, ${r.images} images, stalls ${r.stall} on px and event`,
          `classifier: ${r.classifierMatches}/${r.images} events equal the golden model; trigger: events and pulse edges ${r.triggerMatches ? 'equal' : 'DIFFER FROM'} the trigger golden`,
          `per class: ${Object.entries(r.perClass).map(([n, k]) => `${n} ${k}`).join(', ')}; ${r.pulses} pulses`,
          `last pixel -> event: ${r.latencyCycles.min}${r.latencyCycles.max !== r.latencyCycles.min ? `..${r.latencyCycles.max}` : ''} cycles = ` +
            `${r.latencyUs.min.toFixed(2)}${r.latencyCycles.max !== r.latencyCycles.min ? `..${r.latencyUs.max.toFixed(2)}` : ''} µs at ${r.clockMhz} MHz`,
          `first pixel -> event: ${r.frameCycles.min}..${r.frameCycles.max} cycles = ${r.frameUs.min.toFixed(2)}..${r.frameUs.max.toFixed(2)} µs (stalls stretch it); ${r.cycles} cycles in all` +
            (r.traceFile ? `\ntrace: ${r.traceFile}` : ''),
        ].join('\n'),
      );
      if (!ok) process.exitCode = 1;
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
