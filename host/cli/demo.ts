import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadCheckpoint } from '../../generator/llm/checkpoint';
import { shapeOf } from '../../generator/llm/engine-config';
import { llmPresetConfig } from '../../generator/llm/engine/config';
import { GoldenDecoder } from '../../generator/llm/golden/decoder';
import { quantizeModel } from '../../generator/llm/quant/model';
import { InputError } from '../../generator/util/errors';
import { buildLlmSim, LlmSession } from '../../sim/designs/llm';
import { formatSortSummary, runSorter, sortPassed } from '../sorter';
import { emit, parseIntOpt } from './common';

const step = (json: boolean, s: string) => json || process.stderr.write(`demo: ${s}\n`);
const DEFAULT_MODEL = resolve(import.meta.dirname, '../../../shared/models/stories260K.bin');

interface DecodeReport {
  model: string;
  preset: string;
  ids: number[];
  /** Steps whose every logit equals the golden decoder's. */
  bitExactSteps: number;
  firstMismatch: { position: number; logit: number; golden: number; engine: number } | null;
  cyclesPerToken: number;
  weightBytesPerToken: number;
}

const argmax = (xs: ArrayLike<number>): number => {
  let a = 0;
  for (let j = 1; j < xs.length; j++) if (xs[j]! > xs[a]!) a = j;
  return a;
};

/** Decode greedily on the generated engine in Verilator, checking every step's logits against the golden decoder. */
async function decodeOnVirtualBoard(model: string, preset: string, tokens: number, json: boolean): Promise<DecodeReport> {
  if (!existsSync(model)) throw new InputError(`model file ${model} not found (pass --model FILE, a llama2.c checkpoint)`);
  const ckpt = loadCheckpoint(model);
  const cfg = llmPresetConfig(preset, shapeOf(ckpt.dims));
  step(json, `quantising ${model} to W2A8KV4 (S=${cfg.engine.sinks} W=${cfg.engine.window}) and building the ${preset} engine in Verilator`);
  const qm = quantizeModel(ckpt, cfg.engine, { search: 'mse' });
  const sim = await buildLlmSim(cfg);
  const gold = new GoldenDecoder(qm);
  const ses = await LlmSession.start(sim, cfg, qm, { memory: { latency: 8, stall: 0.1 }, logitStall: 0.1, seed: 1 });
  const ids: number[] = [];
  let cycles = 0;
  let bytes = 0;
  let firstMismatch: DecodeReport['firstMismatch'] = null;
  try {
    let tok = 1;
    for (let p = 0; p < tokens; p++) {
      const r = await ses.step(tok, p === 0);
      const g = gold.forward(tok, p);
      const bad = r.logits.findIndex((v, j) => v !== g[j]);
      if (bad >= 0 || r.logits.length !== g.length) {
        firstMismatch = { position: p, logit: bad, golden: g[bad] ?? NaN, engine: r.logits[bad] ?? NaN };
        break;
      }
      cycles += r.cycles;
      bytes += (r.wBeats * cfg.wPortBits + r.sBeats * cfg.sPortBits + r.auxBeats * cfg.auxBits) / 8;
      tok = argmax(g);
      ids.push(tok);
      if (!json) process.stderr.write(`\rdemo: token ${p + 1}/${tokens}: id ${tok}, bit-exact   `);
    }
    if (!json) process.stderr.write('\n');
    await ses.finish();
  } finally {
    ses.kill();
  }
  return {
    model,
    preset,
    ids,
    bitExactSteps: ids.length,
    firstMismatch,
    cyclesPerToken: ids.length ? Math.round(cycles / ids.length) : 0,
    weightBytesPerToken: ids.length ? Math.round(bytes / ids.length) : 0,
  };
}

/**
 * The quick-start job on the default virtual board: LLM decode on the generated W2A8KV4 engine, and the real-time cell
 * sorter behind the link, both checked against their golden models.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('decode stories260K on the generated W2A8KV4 engine and run the cell sorter, on the Verilator virtual board, checked bit for bit')
    .option('--model <file>', 'llama2.c checkpoint', DEFAULT_MODEL)
    .option('--preset <name>', 'engine preset', 'sim-small')
    .option('--tokens <n>', 'tokens to decode', '16')
    .option('--images <n>', 'synthetic cell images to sort', '20')
    .option('--json', 'print one JSON object', false)
    .action(async (opts: { model: string; preset: string; tokens: string; images: string; json?: boolean }) => {
      const json = Boolean(opts.json);
      const tokens = parseIntOpt('--tokens', opts.tokens);
      const images = parseIntOpt('--images', opts.images);
      const llm = await decodeOnVirtualBoard(resolve(opts.model), opts.preset, tokens, json);
      step(json, `sorting ${images} synthetic cells on the virtual board (classifier + trigger behind the UART link)`);
      const { summary: sort } = await runSorter(
        { device: 'sim', images: `synthetic:${images}`, sort: ['1'], threshold: 0, delayUs: 10, widthUs: 5, ppc: 8, seed: 1 },
        json ? undefined : (p) => process.stderr.write(`\rdemo: ${p.events}/${p.images} events   `),
      );
      if (!json) process.stderr.write('\n');
      const ok = llm.firstMismatch === null && llm.bitExactSteps === tokens && sortPassed(sort);
      emit(opts, { ok, llm, sort }, () =>
        [
          `lutforge demo on the Verilator virtual board`,
          `LLM: ${llm.model} on the ${llm.preset} W2A8KV4 engine, ${llm.bitExactSteps}/${tokens} tokens bit-exact with the golden decoder` +
            (llm.firstMismatch ? ` (MISMATCH at position ${llm.firstMismatch.position}, logit ${llm.firstMismatch.logit})` : ''),
          `  ids: ${llm.ids.join(' ')}`,
          `  ${llm.cyclesPerToken} cycles/token, ${llm.weightBytesPerToken} bytes of weights per token (10% memory stalls)`,
          `cell sorter:`,
          ...formatSortSummary(sort).split('\n').map((l) => `  ${l}`),
          ok ? 'demo passed' : 'DEMO FAILED',
        ].join('\n'),
      );
      if (!ok) process.exitCode = 1;
    });
}
