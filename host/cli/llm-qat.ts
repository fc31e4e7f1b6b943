/** `llm qat`: quantisation-aware distillation of the engine's quantised model (generator/llm/qat/). */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { resolve } from 'node:path';
import { loadModel } from '../../generator/llm/model-file';
import { describeEngine, engineConfig, expandW4Spec, SCHEMES, shapeOf, type SchemeName } from '../../generator/llm/model-spec';
import { checkpointFingerprint, serializeQuantModel } from '../../generator/llm/quant/qmodel-file';
import { QAT_DEFAULTS, QAT_RATES, qatRates, runQat } from '../../generator/llm/qat/train';
import { ROTATION_KINDS, rotationLabel, type Rotation, type RotationKind } from '../../generator/llm/rotate';
import { ConfigError } from '../../generator/util/errors';
import { writeFileAtomic } from '../../generator/util/files';
import { emit, parseIntOpt, withJson } from './common';
import { MODEL_HELP } from './llm-text';
import { W4_HELP } from './w4';

interface QatOpts {
  model: string;
  out: string;
  scheme: string;
  wGroup?: string;
  sinks: string;
  window?: string;
  steps: string;
  batch: string;
  length: string;
  lr?: string;
  lrScale?: string;
  w4?: string;
  lrW4?: string;
  lrScaleW4?: string;
  lrNorm: string;
  lrFinal: string;
  hiddenWeight: string;
  rotate: string;
  rotateSeed: string;
  rotateValues: boolean;
  seed: string;
  checkpoint?: string;
  minutes?: string;
  backend: string;
  json?: boolean;
}

const lrHelp = (k: 'lr' | 'lrScale') => Object.entries(QAT_RATES).map(([b, r]) => `${r[k]} at W${b}`).join(', ') + ' and above';

function num(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n)) throw new ConfigError(option, 'must be a number', text);
  return n;
}

export function registerQat(llm: Command): void {
  withJson(
    llm
      .command('qat')
      .description('quantisation-aware distillation (tfjs): train the quantised model against the float reference on sequences it samples; writes a quantised model file (--quant of llm run / eval)')
      .requiredOption('--model <file>', MODEL_HELP)
      .requiredOption('--out <file>', 'quantised model file to write (.lfq)')
      .option('--scheme <name>', `quantisation scheme: ${Object.keys(SCHEMES).join('|')}`, 'W2A8KV4')
      .option('--w-group <g>', 'weights per scale along the input dimension (default: the engine default)')
      .option('--sinks <s>', 'Λ-attention sinks during training', '4')
      .option('--window <w>', 'Λ-attention window during training (default: the whole training sequence)')
      .option('--steps <n>', 'optimiser steps', String(QAT_DEFAULTS.steps))
      .option('--batch <n>', 'sequences per step', String(QAT_DEFAULTS.batch))
      .option('--length <n>', 'tokens per training sequence', String(QAT_DEFAULTS.length))
      .option('--lr <x>', `Adam learning rate of the latent weights (units of the matrix step; default ${lrHelp('lr')})`)
      .option('--lr-scale <x>', `Adam learning rate of the group scale codes (default ${lrHelp('lrScale')})`)
      .option('--w4 <spec>', `${W4_HELP}; each trains with the W4 learning rates (see llm mixed-search for a measured choice)`)
      .option('--lr-w4 <x>', `Adam learning rate of the latent weights of the --w4 matrices (default ${QAT_RATES[4]!.lr})`)
      .option('--lr-scale-w4 <x>', `Adam learning rate of the scale codes of the --w4 matrices (default ${QAT_RATES[4]!.lrScale})`)
      .option('--lr-norm <x>', 'Adam learning rate of the RMSNorm gains', String(QAT_DEFAULTS.lrNorm))
      .option('--lr-final <f>', 'learning rates decay linearly to this fraction at the last step', String(QAT_DEFAULTS.lrFinal))
      .option('--hidden-weight <x>', 'weight of hidden-state matching (normalised MSE of each layer\'s residual stream) added to the KL; 0 = off', String(QAT_DEFAULTS.hiddenWeight))
      .option('--rotate <kind>', `rotate the gain-folded residual stream before GPTQ: ${ROTATION_KINDS.join(' | ')} | none`, QAT_DEFAULTS.rotate?.kind ?? 'none')
      .option('--rotate-seed <n>', 'seed of the rotation', String(QAT_DEFAULTS.rotate?.seed ?? 1))
      .option('--no-rotate-values', 'do not also rotate each KV head\'s value space')
      .option('--seed <n>', 'sampling seed of the training sequences', String(QAT_DEFAULTS.seed))
      .option('--checkpoint <file>', 'resume file (default: OUT.resume); resumed from when present, rewritten as training goes')
      .option('--minutes <m>', 'stop after this much training time and write the model of that step')
      .option('--backend <name>', 'tfjs backend: wasm | cpu', QAT_DEFAULTS.backend),
  ).action(async (o: QatOpts) => {
    if (!(o.scheme in SCHEMES)) throw new ConfigError('scheme', `must be one of ${Object.keys(SCHEMES).join(', ')}`, o.scheme);
    if (o.backend !== 'wasm' && o.backend !== 'cpu') throw new ConfigError('backend', "must be 'wasm' or 'cpu'", o.backend);
    if (o.rotate !== 'none' && !ROTATION_KINDS.includes(o.rotate as RotationKind)) throw new ConfigError('rotate', `must be one of ${ROTATION_KINDS.join(', ')}, none`, o.rotate);
    const rotate: Rotation | undefined = o.rotate === 'none' ? undefined : { kind: o.rotate as RotationKind, seed: parseIntOpt('--rotate-seed', o.rotateSeed), values: o.rotateValues };
    const { ckpt } = await loadModel(o.model);
    const length = parseIntOpt('--length', o.length);
    const cfg = engineConfig(shapeOf(ckpt.dims), {
      ...SCHEMES[o.scheme as SchemeName],
      ...(o.wGroup !== undefined && { wGroup: parseIntOpt('--w-group', o.wGroup) }),
      ...(o.w4 !== undefined && { w4Matrices: expandW4Spec(o.w4, ckpt.dims.nLayers) }),
      sinks: parseIntOpt('--sinks', o.sinks),
      window: o.window !== undefined ? parseIntOpt('--window', o.window) : length,
    });
    const checkpoint = resolve(o.checkpoint ?? `${o.out}.resume`);
    const steps = parseIntOpt('--steps', o.steps);
    const bar = o.json ? undefined : new cliProgress.SingleBar({ stream: process.stderr, format: 'qat [{bar}] {value}/{total} steps | loss {loss} nats | {eta_formatted} left' }, cliProgress.Presets.shades_classic);
    if (!o.json) process.stderr.write(`qat: ${describeEngine(cfg)}; ${rotate ? `${rotationLabel(rotate)}, ` : ''}GPTQ + calibration start, then ${steps} steps\n`);
    const r = await runQat(ckpt, cfg, {
      ...QAT_DEFAULTS,
      seed: parseIntOpt('--seed', o.seed),
      steps,
      batch: parseIntOpt('--batch', o.batch),
      length,
      lr: o.lr !== undefined ? num('lr', o.lr) : qatRates(cfg.wBits).lr,
      lrScale: o.lrScale !== undefined ? num('lr-scale', o.lrScale) : qatRates(cfg.wBits).lrScale,
      w4Rates: {
        lr: o.lrW4 !== undefined ? num('lr-w4', o.lrW4) : qatRates(4).lr,
        lrScale: o.lrScaleW4 !== undefined ? num('lr-scale-w4', o.lrScaleW4) : qatRates(4).lrScale,
      },
      lrNorm: num('lr-norm', o.lrNorm),
      lrFinal: num('lr-final', o.lrFinal),
      hiddenWeight: num('hidden-weight', o.hiddenWeight),
      rotate,
      backend: o.backend,
      checkpoint,
      ...(o.minutes !== undefined && { maxSeconds: 60 * num('minutes', o.minutes) }),
      onStep: (step, total, loss) => {
        if (!bar) return;
        if (!bar.isActive) bar.start(total, step - 1, { loss: '?' });
        bar.update(step, { loss: loss.toFixed(3) });
      },
    });
    bar?.stop();
    const tail = r.losses.slice(-20);
    const finalLoss = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
    const info = { steps: r.steps, resumedFrom: r.resumedFrom, trainSeconds: Math.round(r.seconds), firstLoss: r.losses[0], finalLoss, config: describeEngine(cfg), ...(cfg.w4Matrices.length && { w4Matrices: cfg.w4Matrices }), rotation: rotate ? rotationLabel(rotate) : 'none', hiddenWeight: num('hidden-weight', o.hiddenWeight) };
    const producer = `lutforge llm qat ${process.argv.slice(4).join(' ')}`.trim();
    await writeFileAtomic(o.out, serializeQuantModel(r.qm, { source: checkpointFingerprint(ckpt), producer, info }));
    emit(o, { out: o.out, checkpoint, ...info }, () =>
      [
        `wrote ${o.out} (${describeEngine(cfg)})`,
        `${r.steps} steps${r.resumedFrom ? ` (resumed at ${r.resumedFrom})` : ''}, ${(r.seconds / 60).toFixed(1)} min this run`,
        `loss (mean KL per position): first step ${r.losses[0]?.toFixed(3)}, last 20 steps ${finalLoss.toFixed(3)} nats`,
        `resume file: ${checkpoint}`,
      ].join('\n'),
    );
  });
}
