import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cellnetConfig } from '../../../generator/cellnet/config';
import { readModel, writeModel } from '../../../generator/cellnet/model';
import { loadData } from '../../../generator/cellnet/source';
import { trainCellnet } from '../../../generator/cellnet/train';
import { ConfigError } from '../../../generator/util/errors';

const dir = mkdtempSync(join(tmpdir(), 'cellnet-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training smoke run (tiny, seconds)', () => {
  const cfg = cellnetConfig();
  const tiny = { epochs: 1, teacherEpochs: 1, batch: 16, calibration: 16, teacherLayers: [{ kind: 'conv' as const, kernel: 3, outChannels: 4, weightBits: 8, actBits: 8 }, { kind: 'maxpool' as const, size: 4 }] };

  it('trains teacher, scratch and distilled students and writes a loadable, calibrated model', async () => {
    const d = loadData('synthetic:48:32', cfg, 3);
    const r = await trainCellnet(cfg, d.train, d.test, { ...tiny, seed: 3, dataLabel: d.label });
    for (const s of [r.teacher, r.scratch, r.distilled]) {
      expect(s.accuracy).toBeGreaterThanOrEqual(0);
      expect(s.accuracy).toBeLessThanOrEqual(1);
    }
    expect(r.scratch.params).toBe(5682);
    // One epoch of 48 images in batches of 16 is 3 steps: the loss curve samples each, ending at epoch 1.
    expect(r.distilled.lossCurve.map((p) => p.epoch)).toEqual([0.333, 0.667, 1]);
    expect(r.distilled.lossCurve.every((p) => Number.isFinite(p.loss) && p.loss > 0)).toBe(true);
    expect(r.teacher.architecture).toBe('conv3x3x4 > pool4 > dense2');
    // The JS float reference agrees with tfjs's forward pass of the same weights.
    expect(Math.abs(r.floatAccuracy - r.distilled.accuracy)).toBeLessThanOrEqual(1 / 32);
    const p = join(dir, 'm.json');
    writeModel(p, r.model);
    const back = readModel(p, cfg);
    expect(back.quant).toEqual(r.model.quant);
    expect(back.meta?.data).toMatch(/^synthetic/);

    // Same seed, same data: the same weights (the run is reproducible).
    const again = await trainCellnet(cfg, d.train, d.test, { ...tiny, seed: 3, dataLabel: d.label });
    expect(Array.from(again.model.weights[0]!.kernel)).toEqual(Array.from(r.model.weights[0]!.kernel));
  });

  it('validates options', async () => {
    const d = loadData('synthetic:4:4', cfg, 1);
    await expect(trainCellnet(cfg, d.train, d.test, { ...tiny, alpha: 2 })).rejects.toThrow(ConfigError);
  });
});
