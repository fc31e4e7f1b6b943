import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { evaluate, EVAL_DEFAULTS } from '../generator/llm/eval';
import { loadModel } from '../generator/llm/model-file';
import { describeEngine, engineConfig, SCHEMES, shapeOf, type SchemeName } from '../generator/llm/model-spec';
import { checkpointFingerprint, serializeQuantModel } from '../generator/llm/quant/qmodel-file';
import { QAT_DEFAULTS, qatInit, qatRates, runQat } from '../generator/llm/qat/train';
import { report, table } from './table';

const arg = (argv: string[], name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

/**
 * `npm run bench -- llm-qat [--steps N] [--scheme W2A8KV4] [--backend wasm|cpu] [--model FILE] [--json]`:
 * one QAT run with the shipped defaults (the ≤ 30 min budget on the 2-core machine is measured here, not in a
 * test), then top-1 / KL / perplexity of GPTQ and of the QAT result on `llm eval`'s default sequences.
 */
export async function main(argv: string[]): Promise<void> {
  const model = arg(argv, '--model') ?? resolve(process.cwd(), '../shared/models/stories260K.bin');
  const scheme = (arg(argv, '--scheme') ?? 'W2A8KV4') as SchemeName;
  const steps = Number(arg(argv, '--steps') ?? QAT_DEFAULTS.steps);
  const backend = (arg(argv, '--backend') ?? QAT_DEFAULTS.backend) as 'wasm' | 'cpu';
  const { ckpt } = await loadModel(model);
  const length = Math.min(EVAL_DEFAULTS.length, ckpt.dims.seqLen);
  const cfg = engineConfig(shapeOf(ckpt.dims), { ...SCHEMES[scheme], sinks: 4, window: QAT_DEFAULTS.length });
  const t0 = performance.now();
  const init = qatInit(ckpt, cfg, QAT_DEFAULTS);
  const initSeconds = (performance.now() - t0) / 1000;
  const r = await runQat(ckpt, cfg, { ...QAT_DEFAULTS, ...qatRates(cfg.wBits), steps, backend }, init);
  const totalMinutes = (performance.now() - t0) / 60000;
  const dir = mkdtempSync(join(tmpdir(), 'lutforge-bench-qat-'));
  try {
    const file = join(dir, 'qat.lfq');
    writeFileSync(file, serializeQuantModel(r.qm, { source: checkpointFingerprint(ckpt), producer: 'bench/llm-qat' }));
    const full = length - 4;
    const base = { scheme, group: cfg.wGroup, sinks: 4, window: full, search: 'gptq' as const, calibrated: true };
    const rows = evaluate(ckpt, [base, { ...base, quant: file }], { ...EVAL_DEFAULTS, length });
    const tail = r.losses.slice(-20);
    const out = {
      model,
      config: describeEngine(cfg),
      backend,
      steps: r.steps,
      tokensPerStep: QAT_DEFAULTS.batch * QAT_DEFAULTS.length,
      initSeconds,
      trainMinutes: r.seconds / 60,
      secondsPerStep: r.seconds / r.steps,
      totalMinutes,
      firstLoss: r.losses[0],
      finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
      rows: rows.map((x) => ({ label: x.label, top1: x.top1, meanKl: x.meanKl, ppl: x.ppl })),
    };
    report(argv, out, () =>
      `QAT of ${model} (${out.config}), ${out.steps} steps x ${out.tokensPerStep} tokens on tfjs-${backend}: ` +
        `${out.totalMinutes.toFixed(1)} min total (GPTQ init ${initSeconds.toFixed(0)} s, ${out.secondsPerStep.toFixed(2)} s/step); ` +
        `loss ${out.firstLoss?.toFixed(3)} -> ${out.finalLoss.toFixed(3)} nats\n` +
        table(['setting', 'top-1', 'mean KL', 'ppl'], out.rows.map((x) => [x.label, `${(100 * x.top1).toFixed(1)}%`, x.meanKl, x.ppl])),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
