import { describe, expect, it } from 'vitest';
import { cellnetConfig } from '../../../../generator/cellnet/config';
import { chainBytes, cellnetHw, checkQuantized, packFields, packWeights, unpackFields } from '../../../../generator/cellnet/rtl';
import { ConfigError, InputError } from '../../../../generator/util/errors';
import { framePixels } from '../../../../sim/designs/cellnet';
import { randomQuantized, shippedModel } from './helpers';

describe('cell sorter hardware plan', () => {
  const cfg = cellnetConfig();

  it('sizes every conv engine to finish a row within the input row period, for every ppc', () => {
    for (const ppc of [1, 2, 4, 8]) {
      const hw = cellnetHw(cfg, ppc);
      expect(hw.frameBeats).toBe(2304 / ppc);
      for (const s of hw.stages) {
        if (s.kind !== 'conv') continue;
        expect(s.busy, `ppc ${ppc} layer ${s.index}`).toBeLessThanOrEqual(s.in.rowPeriod);
        expect(s.steps * s.lanes).toBeGreaterThanOrEqual(s.outW);
        expect(s.windowW).toBeGreaterThanOrEqual(s.steps * s.lanes + s.k - 1);
      }
      const dense = hw.stages.at(-1)!;
      expect(dense.kind).toBe('dense');
    }
    // more pixels per cycle needs more multipliers
    const mults = [1, 2, 4, 8].map((p) => cellnetHw(cfg, p).totalMults);
    expect([...mults].sort((a, b) => a - b)).toEqual(mults);
  });

  it('packs the products of channel (conv) and class (dense) pairs two per DSP: 1,456 DSPs at ppc 4, 2,896 at ppc 8', () => {
    // conv1: L x 16/2 pairs x 9 taps; conv2: L x 8 pairs x 144; dense: n px x 16 ch x (2 classes / 2)
    expect(cellnetHw(cfg, 4).totalDsps).toBe(4 * 8 * 9 + 1 * 8 * 144 + 1 * 16);
    expect(cellnetHw(cfg, 8).totalDsps).toBe(8 * 8 * 9 + 2 * 8 * 144 + 1 * 16);
    expect(cellnetHw(cfg, 4, {}, { packing: 'offset' }).totalDsps).toBe(1456);
    for (const ppc of [1, 2, 4, 8]) {
      const plain = cellnetHw(cfg, ppc, {}, { packing: 'none' });
      expect(plain.totalDsps).toBe(plain.totalMults);
      expect(cellnetHw(cfg, ppc).totalDsps * 2).toBe(plain.totalMults);
    }
    // three classes: one pair and one plain product per input
    const three = cellnetConfig({ classes: [{ name: 'B', label: 0 }, { name: 'T4', label: 1 }, { name: 'T8', label: 2 }], layers: [...cfg.layers.slice(0, 4), { kind: 'dense', units: 3, weightBits: 8 }] });
    const d = cellnetHw(three, 1).stages.at(-1)!;
    expect(d.kind === 'dense' && [d.mults, d.dsps]).toEqual([48, 32]);
    expect(() => cellnetHw(cfg, 4, {}, { packing: 'quad' as never })).toThrow(ConfigError);
    expect(() => cellnetHw(cfg, 4, {}, { treeLevelsPerStage: 0 })).toThrow(ConfigError);
  });

  it('rejects bad ppc values and unsupported architectures with ConfigError', () => {
    expect(() => cellnetHw(cfg, 3)).toThrow(ConfigError);
    expect(() => cellnetHw(cfg, 16)).toThrow(/ppc/);
    expect(() => cellnetHw(cellnetConfig({ inputSize: 20 }), 8)).toThrow(/divide the input width/);
    const hidden = cellnetConfig({ layers: [{ kind: 'conv', kernel: 3, outChannels: 4, weightBits: 8, actBits: 8 }, { kind: 'dense', units: 8, weightBits: 8, actBits: 8 }, { kind: 'dense', units: 2, weightBits: 8 }] });
    expect(() => cellnetHw(hidden, 1)).toThrow(/hidden dense/);
    expect(() => cellnetHw(cfg, 8, { eventDepth: 12 })).toThrow(ConfigError);
  });

  it('rejects a model that does not match the configured architecture, and a model needing other shifts', () => {
    const { model, q } = shippedModel();
    const hw = cellnetHw(model.config, 4);
    const three = cellnetConfig({ classes: [{ name: 'B', label: 0 }, { name: 'T4', label: 1 }, { name: 'T8', label: 2 }], layers: [...cfg.layers.slice(0, 4), { kind: 'dense', units: 3, weightBits: 8 }] });
    expect(() => checkQuantized(hw, randomQuantized(three, 1))).toThrow(InputError);
    expect(() => checkQuantized(hw, randomQuantized(three, 1))).toThrow(/3 classes, expected 2/);
    const narrow = cellnetConfig({ layers: [{ ...cfg.layers[0]!, outChannels: 8 } as typeof cfg.layers[0], ...cfg.layers.slice(1)] });
    expect(() => checkQuantized(hw, randomQuantized(narrow, 1))).toThrow(/layer 0/);
    const shifted = { ...q, layers: q.layers.map((l) => (l.kind === 'conv' ? { ...l, shift: l.shift + 1 } : l)) };
    expect(() => packWeights(hw, shifted, q)).toThrow(/rounding shift/);
    expect(packWeights(hw, q, q)).toHaveLength(hw.chainBytes);
    expect(chainBytes(hw, q).every((b) => Number.isInteger(b) && b >= 0 && b < 256)).toBe(true);
  });

  it('rejects images of the wrong size or range with InputError', () => {
    const hw = cellnetHw(cfg, 8);
    expect(() => framePixels(hw, [new Uint8Array(47 * 47)])).toThrow(/image 0 has 2209 pixels, expected 48x48/);
    expect(() => framePixels(hw, new Uint8Array(2304 * 2 + 5))).toThrow(InputError);
    expect(() => framePixels(hw, [Array.from({ length: 2304 }, () => 256)])).toThrow(/uint8/);
    expect(framePixels(hw, [new Uint8Array(2304), new Uint8Array(2304)])).toHaveLength(4608);
  });

  it('packs and unpacks event records', () => {
    const hw = cellnetHw(cfg, 1);
    const v = { frame: 65535, cls: 1, score: 1234, sof: 77, timestamp: 2 ** 32 - 1, fired: 1, dropped: 0 };
    expect(unpackFields(hw.event, packFields(hw.event, v))).toEqual(v);
    expect(() => packFields(hw.event, { ...v, cls: 2 })).toThrow(RangeError);
  });
});
