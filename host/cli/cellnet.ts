import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../generator/util/errors';
import { type CellnetConfig, type CellnetParams, cellnetConfig, describeLayers } from '../../generator/cellnet/config';
import { parseFitMode, writeAtomic, writeIdxDir } from '../../generator/cellnet/dataset';
import { evaluate } from '../../generator/cellnet/evaluate';
import { DEFAULT_MODEL_PATH, readModel, writeModel } from '../../generator/cellnet/model';
import { imageGridPng } from '../../generator/cellnet/png';
import { quantize, quantizedToJson } from '../../generator/cellnet/quantize';
import { loadData, loadSplit } from '../../generator/cellnet/source';
import { synthImages } from '../../generator/cellnet/synth';
import { lines, writePlot } from '../plot';
import { emit, parseIntOpt, withJson } from './common';

/** `lutforge cellnet ...`: train, evaluate and inspect the cell classifier (model side of the cell sorter). */

function readConfig(path?: string): CellnetConfig {
  if (!path) return cellnetConfig();
  let params: Partial<CellnetParams>;
  try {
    params = JSON.parse(readFileSync(path, 'utf8')) as Partial<CellnetParams>;
  } catch (e) {
    throw new InputError(`${path}: cannot read config JSON (${(e as Error).message})`);
  }
  return cellnetConfig(params);
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const num = (o: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InputError(`${o}: '${v}' is not a number`);
  return n;
};
const int = (o: string) => (v: string) => parseIntOpt(o, v);

export function register(program: Command): void {
  const cn = program.command('cellnet').description('cell classifier: synthetic data, training, fixed point, evaluation');

  withJson(
    cn
      .command('train')
      .description('train teacher, scratch student and distilled student; write the distilled student (float + fixed-point scales)')
      .requiredOption('--out <file>', 'model file to write (JSON)')
      .option('--data <spec>', 'synthetic:N[:M] or a directory of LymphoMNIST IDX files', 'synthetic:3000:1000')
      .option('--epochs <n>', 'student epochs (scratch and distilled each)', int('--epochs'), 4)
      .option('--teacher-epochs <n>', 'teacher epochs (default: --epochs)', int('--teacher-epochs'))
      .option('--seed <n>', 'seed for data, init, shuffling and augmentation', int('--seed'), 1)
      .option('--batch <n>', 'batch size', int('--batch'), 32)
      .option('--lr <x>', 'Adam learning rate', num('--lr'), 2e-3)
      .option('--temperature <x>', 'distillation temperature', num('--temperature'), 4)
      .option('--alpha <x>', 'weight of the distillation (KL) term', num('--alpha'), 0.7)
      .option('--separation <x>', 'synthetic class separation (1 = documented model)', num('--separation'))
      .option('--fit <mode>', 'bring images to the input size: crop | resize', 'crop')
      .option('--config <file>', 'CellnetConfig JSON (partial; defaults to the paper student)')
      .option('--plot <file.svg>', 'plot the training loss of teacher, scratch and distilled student')
      .option('--no-progress', 'no progress bar'),
  ).action(async (o) => {
    const { trainCellnet } = await import('../../generator/cellnet/train');
    const cfg = readConfig(o.config);
    const data = loadData(o.data, cfg, o.seed, parseFitMode(o.fit), o.separation);
    const r = await trainCellnet(cfg, data.train, data.test, {
      seed: o.seed,
      epochs: o.epochs,
      teacherEpochs: o.teacherEpochs ?? o.epochs,
      batch: o.batch,
      lr: o.lr,
      temperature: o.temperature,
      alpha: o.alpha,
      progress: o.progress && !o.json,
      dataLabel: data.label,
    });
    mkdirSync(dirname(o.out), { recursive: true });
    writeModel(o.out, r.model);
    if (o.plot)
      await writePlot(
        o.plot,
        lines(
          `training loss (${data.label})`,
          [r.teacher, r.scratch, r.distilled].flatMap((st) => st.lossCurve.map((p) => ({ x: p.epoch, y: p.loss, series: `${st.name} (${pct(st.accuracy)})` }))),
          { x: 'epoch', y: 'smoothed loss' },
        ),
      );
    const tag = data.synthetic ? ' (synthetic)' : '';
    emit(o, { model: o.out, data: data.label, synthetic: data.synthetic, teacher: r.teacher, scratch: r.scratch, distilled: r.distilled, floatAccuracy: r.floatAccuracy, fixedAccuracy: r.fixedAccuracy, quant: r.model.quant }, () =>
      [
        `data: ${data.label}, ${data.train.n} train / ${data.test.n} test images`,
        ...[r.teacher, r.scratch, r.distilled].map((s) => `${s.name.padEnd(9)} ${pct(s.accuracy)}${tag}  ${s.params} params  ${s.architecture}  (${s.seconds.toFixed(0)} s)`),
        `fixed point (distilled) ${pct(r.fixedAccuracy)}${tag}`,
        `wrote ${o.out}`,
      ].join('\n'),
    );
  });

  withJson(
    cn
      .command('eval')
      .description('float vs fixed-point accuracy of a model on the test split')
      .option('--model <file>', 'model file', DEFAULT_MODEL_PATH)
      .option('--data <spec>', 'synthetic:N[:M] (uses the M test images) or an IDX directory', 'synthetic:3000:1000')
      .option('--seed <n>', 'seed for synthetic data', int('--seed'), 1)
      .option('--separation <x>', 'synthetic class separation', num('--separation'))
      .option('--fit <mode>', 'crop | resize', 'crop')
      .option('--config <file>', 'check the model against this CellnetConfig JSON'),
  ).action((o) => {
    const expected = o.config ? readConfig(o.config) : undefined;
    const m = readModel(o.model, expected);
    const data = loadData(o.data, m.config, o.seed, parseFitMode(o.fit), o.separation, true);
    const r = evaluate(m, data.test);
    const tag = data.synthetic ? ' (synthetic)' : '';
    emit(o, { model: o.model, data: data.label, synthetic: data.synthetic, ...r }, () =>
      [
        `model ${o.model}: ${describeLayers(m.config)}, ${m.config.params} params`,
        `data ${data.label}: ${r.n} test images`,
        `float ${pct(r.float)}${tag}   fixed point ${pct(r.fixed)}${tag}   agreement ${pct(r.agreement)}`,
        ...r.perClass.map((c) => `  ${c.name.padEnd(4)} n=${c.n}  float ${pct(c.float)}  fixed ${pct(c.fixed)}`),
        `golden model: ${r.goldenImagesPerSecond.toFixed(0)} images/s`,
      ].join('\n'),
    );
  });

  withJson(
    cn
      .command('info')
      .description('architecture and fixed-point formats of a model')
      .option('--model <file>', 'model file', DEFAULT_MODEL_PATH)
      .option('--config <file>', 'check the model against this CellnetConfig JSON')
      .option('--export <file>', 'also write the QuantizedCellnet (integer weights, shifts) as JSON'),
  ).action((o) => {
    const m = readModel(o.model, o.config ? readConfig(o.config) : undefined);
    const q = quantize(m);
    if (o.export) writeAtomic(o.export, JSON.stringify(quantizedToJson(q)) + '\n');
    const layers = q.layers.map((l) =>
      l.kind === 'maxpool'
        ? { index: l.index, kind: l.kind, out: [l.outH, l.outW, l.channels], bits: l.bits }
        : { index: l.index, kind: l.kind, inBits: l.inBits, weightBits: l.weightBits, accBits: l.accBits, outBits: l.outBits, shift: l.shift, weightFrac: l.weightFrac, inFrac: l.inFrac, outFrac: l.outFrac },
    );
    emit(o, { model: o.model, architecture: describeLayers(m.config), params: m.config.params, macs: m.config.macs, classes: q.classes, logitBits: q.logitBits, scoreBits: q.scoreBits, logitFrac: q.logitFrac, layers, meta: m.meta }, () =>
      [
        `${describeLayers(m.config)}: ${m.config.params} params, ${m.config.macs} MACs/frame, classes ${q.classes.join('/')}`,
        ...layers.map((l) => `  ${JSON.stringify(l)}`),
        `logits: signed ${q.logitBits} bits, frac ${q.logitFrac}; score: unsigned ${q.scoreBits} bits`,
        ...(o.export ? [`wrote ${o.export}`] : []),
      ].join('\n'),
    );
  });

  withJson(
    cn
      .command('synth')
      .description('write synthetic images as LymphoMNIST-style IDX files (64x64, labels B/T4/T8 = 0/1/2)')
      .requiredOption('--out <dir>', 'directory for train_images, train_labels, test_images, test_labels')
      .option('--data <spec>', 'synthetic:N[:M]', 'synthetic:1000:250')
      .option('--seed <n>', 'seed', int('--seed'), 1)
      .option('--separation <x>', 'class separation', num('--separation'))
      .option('--three-class', 'draw B, T4 and T8 (default: the configured classes)', false)
      .option('--gzip', 'write .gz files', false)
      .option('--config <file>', 'CellnetConfig JSON (its classes pick the labels)'),
  ).action((o) => {
    const cfg = readConfig(o.config);
    const labelsCfg: CellnetParams = o.threeClass ? { ...cfg, classes: [{ name: 'B', label: 0 }, { name: 'T4', label: 1 }, { name: 'T8', label: 2 }] } : cfg;
    const { split, label } = loadSplit(o.data, labelsCfg, o.seed, o.separation);
    if (!label.startsWith('synthetic')) throw new InputError('--data must be synthetic:N[:M] for synth');
    const files = writeIdxDir(o.out, split, o.gzip);
    emit(o, { out: o.out, data: label, files, train: split.train.n, test: split.test.n }, () => `wrote ${files.join(', ')} (${label})`);
  });

  withJson(
    cn
      .command('samples')
      .description('write a PNG grid of synthetic images, one row per class (B, T4, T8)')
      .requiredOption('--out <file>', 'PNG file')
      .option('--per-class <n>', 'images per class', int('--per-class'), 8)
      .option('--scale <n>', 'integer zoom', int('--scale'), 3)
      .option('--seed <n>', 'seed', int('--seed'), 1)
      .option('--separation <x>', 'class separation', num('--separation')),
  ).action((o) => {
    const labels = [0, 1, 2];
    const set = synthImages(o.perClass * labels.length, { seed: o.seed, labels, separation: o.separation });
    mkdirSync(dirname(o.out), { recursive: true });
    writeAtomic(o.out, imageGridPng(set, labels, o.perClass, o.scale));
    emit(o, { out: o.out, rows: ['B', 'T4', 'T8'], perClass: o.perClass }, () => `wrote ${o.out} (rows B, T4, T8; synthetic)`);
  });
}
