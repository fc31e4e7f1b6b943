/** `llm mixed-search`: which matrices of the W2 model to keep at 4 bits, measured (generator/llm/quant/mixed-search.ts). */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { EVAL_DEFAULTS } from '../../generator/llm/eval';
import { loadModel } from '../../generator/llm/model-file';
import { mixedSearch, type MixedCandidate } from '../../generator/llm/quant/mixed-search';
import { QAT_DEFAULTS } from '../../generator/llm/qat/train';
import { ConfigError } from '../../generator/util/errors';
import { emit, parseIntOpt, withJson } from './common';
import { MODEL_HELP } from './llm-text';

interface MixedOpts {
  model: string;
  seed: string;
  sequences: string;
  length: string;
  budgets: string;
  singles?: boolean;
  rotate: boolean;
  json?: boolean;
}

export function registerMixedSearch(llm: Command): void {
  withJson(
    llm
      .command('mixed-search')
      .description('mixed-precision sensitivity search: KL removed by 4-bit versions of matrix types, layers and single matrices of the rotated GPTQ W2 model (the QAT start), per extra weight byte; picks sets under byte budgets for llm qat --w4')
      .requiredOption('--model <file>', MODEL_HELP)
      .option('--seed <n>', 'first evaluation sequence seed (llm eval\'s)', String(EVAL_DEFAULTS.seed))
      .option('--sequences <n>', 'evaluation sequences sampled from the float model', '2')
      .option('--length <n>', 'tokens per sequence', String(EVAL_DEFAULTS.length))
      .option('--budgets <list>', 'extra linear-layer weight bytes allowed, % of the all-W2 bytes, comma-separated', '25,50')
      .option('--singles', 'also measure each single matrix (nLayers x 7 more evaluations, ~3x the time) and build budget sets from them too; their gains are mostly below the noise of a few sequences (docs/llm-fidelity.md)')
      .option('--no-rotate', 'search on the unrotated checkpoint (QAT runs with --rotate none start there)'),
  ).action(async (o: MixedOpts) => {
    const { ckpt } = await loadModel(o.model);
    const length = parseIntOpt('--length', o.length);
    if (length < 2 || length > ckpt.dims.seqLen) throw new ConfigError('length', `must be in [2, seq_len=${ckpt.dims.seqLen}]`, length);
    const budgets = o.budgets.split(',').map((t) => Number(t.trim()) / 100);
    if (budgets.some((b) => !(b > 0 && b <= 1))) throw new ConfigError('budgets', 'must be percentages in (0, 100]', o.budgets);
    const bar = o.json ? undefined : new cliProgress.SingleBar({ stream: process.stderr, format: 'mixed-search [{bar}] {percentage}% {value}/{total} positions | {eta_formatted} left' }, cliProgress.Presets.shades_classic);
    bar?.start(1, 0);
    const t0 = performance.now();
    const r = mixedSearch(ckpt, {
      seed: parseIntOpt('--seed', o.seed),
      sequences: parseIntOpt('--sequences', o.sequences),
      length,
      rotate: o.rotate ? QAT_DEFAULTS.rotate : undefined,
      calibSeed: QAT_DEFAULTS.calibSeed,
      calibSequences: QAT_DEFAULTS.calibSequences,
      calibLength: QAT_DEFAULTS.calibLength,
      singles: !!o.singles,
      budgets,
      sinks: 4,
      window: length - 4,
      onProgress: (d, t) => {
        if (bar && (d % 64 === 0 || d === t)) {
          bar.setTotal(t);
          bar.update(d);
        }
      },
    });
    bar?.stop();
    const seconds = (performance.now() - t0) / 1000;
    emit(o, { model: o.model, seconds, ...r }, () => {
      const row = (c: MixedCandidate) =>
        `| ${c.spec} | ${c.kind} | ${c.w4Matrices.length} | ${Math.round(c.extraBytes)} (${(100 * c.extraFrac).toFixed(1)}%) | ${(100 * c.top1).toFixed(1)}% | ${c.meanKl.toFixed(3)} | ${c.klGain.toFixed(3)} | ${c.gainPerKiB.toFixed(3)} |`;
      const sorted = [...r.candidates].sort((a, b) => b.gainPerKiB - a.gainPerKiB || a.meanKl - b.meanKl);
      return [
        `${r.config}; ${r.positions} positions; all-W2 linear weights ${Math.round(r.baseBytes)} B; ${seconds.toFixed(0)} s`,
        '| 4-bit set | kind | matrices | extra bytes | top-1 | mean KL | KL removed | per extra KiB |',
        '|---|---|---|---|---|---|---|---|',
        ...sorted.map(row),
        '',
        ...r.picks.map((p) => `budget ${(100 * p.budget).toFixed(0)}%: --w4 ${p.best.spec} (${(100 * p.best.extraFrac).toFixed(1)}% extra bytes, KL ${p.best.meanKl.toFixed(3)}, removes ${p.best.klGain.toFixed(3)} nats)`),
      ].join('\n');
    });
  });
}
