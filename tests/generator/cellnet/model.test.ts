import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../generator/util/errors';
import { CELLNET_DEFAULTS, cellnetConfig } from '../../../generator/cellnet/config';
import { randomModel } from './helpers';
import { parseModel, readModel, serializeModel, writeModel } from '../../../generator/cellnet/model';

const dir = mkdtempSync(join(tmpdir(), 'cellnet-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model file', () => {
  it('round-trips weights bit for bit', () => {
    const m = randomModel(1);
    const p = join(dir, 'm.json');
    writeModel(p, m);
    const back = readModel(p, cellnetConfig());
    back.weights.forEach((w, i) => {
      if (!w) return expect(m.weights[i]).toBeNull();
      expect(Buffer.from(w.kernel.buffer).equals(Buffer.from(m.weights[i]!.kernel.buffer))).toBe(true);
      expect(Array.from(w.bias)).toEqual(Array.from(m.weights[i]!.bias));
    });
    expect(back.quant).toEqual(m.quant);
    expect(back.meta).toEqual(m.meta);
  });

  it('rejects a model that does not match the configured architecture', () => {
    const text = serializeModel(randomModel(2));
    const three = cellnetConfig({
      classes: [{ name: 'B', label: 0 }, { name: 'T4', label: 1 }, { name: 'T8', label: 2 }],
      layers: [...CELLNET_DEFAULTS.layers.slice(0, 4), { kind: 'dense', units: 3, weightBits: 8 }],
    });
    expect(() => parseModel(text, 'f', three)).toThrow(InputError);
    expect(() => parseModel(text, 'f', three)).toThrow(/does not match the configured architecture: 2 classes, expected 3/);
    const narrow = cellnetConfig({ layers: [{ ...CELLNET_DEFAULTS.layers[0]!, weightBits: 6 } as never, ...CELLNET_DEFAULTS.layers.slice(1)] });
    expect(() => parseModel(text, 'f', narrow)).toThrow(/layer 0/);
  });

  it('rejects inconsistent or corrupt files with a clear message', () => {
    const good = JSON.parse(serializeModel(randomModel(3)));
    const bad = (mut: (j: any) => void, re: RegExp) => {
      const j = structuredClone(good);
      mut(j);
      expect(() => parseModel(JSON.stringify(j), 'f')).toThrow(re);
    };
    bad((j) => j.weights[0].kernel.pop(), /kernel has 143 values, architecture needs 144|needs 144/);
    bad((j) => (j.weights[1].kernelShape = [3, 3, 16, 8]), /kernel shape \[3,3,16,8\], architecture needs \[3,3,16,16\]/);
    bad((j) => (j.weights[2].bias = [1]), /bias has 1 values, architecture needs 2/);
    bad((j) => (j.format = 'keras'), /not a lutforge-cellnet model/);
    bad((j) => (j.version = 9), /version 9/);
    bad((j) => (j.params = 1), /header says 1 parameters/);
    bad((j) => (j.config.layers[0].kernel = 0), /invalid architecture/);
    bad((j) => j.weights.pop(), /layer 4 \(dense\) has no weights/);
    bad((j) => (j.quant.actFrac[0] = null), /actFrac\[0\]/);
    expect(() => parseModel('{nope', 'f')).toThrow(/not JSON/);
    const p = join(dir, 'nan.json');
    writeFileSync(p, serializeModel(randomModel(4)).replace(/"bias":\[[^\]]*\]/, '"bias":[null]'));
    expect(() => readModel(p)).toThrow(InputError);
    expect(() => readModel(join(dir, 'missing.json'))).toThrow(/cannot read model file \(ENOENT\)/);
  });
});
