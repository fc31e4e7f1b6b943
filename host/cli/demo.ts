import type { Command } from 'commander';
import { relative, resolve } from 'node:path';
import { decodeOnEngine } from '../engine-decode';
import { formatSortSummary, runSorter, sortPassed } from '../sorter/replay';
import { emit, parseIntOpt } from './common';

const step = (json: boolean, s: string) => json || process.stderr.write(`demo: ${s}\n`);
export const DEFAULT_MODEL = resolve(import.meta.dirname, '../../../shared/models/stories260K.bin');

/**
 * The quick-start job on the default virtual board: LLM decode on the generated W2A8KV4 engine, and the real-time cell
 * sorter behind the link, both checked against their golden models.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('decode stories260K on the generated W2A8KV4 engine and run the cell sorter, on the Verilator virtual board, checked bit for bit')
    .option('--model <file>', 'model file: GGUF or llama2.c checkpoint (.bin)', DEFAULT_MODEL)
    .option('--preset <name>', 'engine preset', 'sim-small')
    .option('--tokens <n>', 'tokens to decode', '16')
    .option('--images <n>', 'synthetic cell images to sort', '20')
    .option('--json', 'print one JSON object', false)
    .action(async (opts: { model: string; preset: string; tokens: string; images: string; json?: boolean }) => {
      const json = Boolean(opts.json);
      const tokens = parseIntOpt('--tokens', opts.tokens);
      const images = parseIntOpt('--images', opts.images);
      const llm = await decodeOnEngine({
        model: resolve(opts.model),
        preset: opts.preset,
        tokens,
        stall: 0.1,
        quant: 'shipped',
        onPhase: (w) => step(json, w),
        onStep: json ? undefined : (p, n, id) => process.stderr.write(`\rdemo: token ${p + 1}/${n}: id ${id}, bit-exact   `),
      });
      if (!json) process.stderr.write('\n');
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
          `  weights: ${llm.weights === 'mse' ? 'MSE-quantised from the checkpoint (no shipped QAT model matches it)' : `QAT model ${relative(process.cwd(), llm.weights)}`}`,
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
