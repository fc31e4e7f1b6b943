import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../generator/util/errors';
import { CELLNET_DEFAULTS, cellnetConfig, configMismatch } from '../../../generator/cellnet/config';

describe('CellnetConfig', () => {
  it('derives the paper student: 5,682 parameters, 1.32 M MACs', () => {
    const c = cellnetConfig();
    expect(c.params).toBe(160 + 2320 + 3202);
    expect(c.shapes.map((s) => s.out)).toEqual([[46, 46, 16], [23, 23, 16], [21, 21, 16], [10, 10, 16], [1, 1, 2]]);
    expect(c.macs).toBe(46 * 46 * 16 * 9 + 21 * 21 * 16 * 144 + 1600 * 2);
    // Accumulator bound 3 * fanIn * 255 * 127 as a signed width.
    expect(c.shapes.map((s) => s.accBits)).toEqual([21, 0, 25, 0, 29]);
  });

  it('supports the three-class head', () => {
    const c = cellnetConfig({
      classes: [{ name: 'B', label: 0 }, { name: 'T4', label: 1 }, { name: 'T8', label: 2 }],
      layers: [...CELLNET_DEFAULTS.layers.slice(0, 4), { kind: 'dense', units: 3, weightBits: 8 }],
    });
    expect(c.params).toBe(160 + 2320 + 1600 * 3 + 3);
  });

  it('rejects bad parameters with ConfigError naming the field', () => {
    const bad = (p: object, re: RegExp) => {
      expect(() => cellnetConfig(p)).toThrow(ConfigError);
      expect(() => cellnetConfig(p)).toThrow(re);
    };
    bad({ inputSize: 2 }, /inputSize/);
    bad({ classes: [{ name: 'B', label: 0 }] }, /classes/);
    bad({ classes: [{ name: 'B', label: 0 }, { name: 'T', label: 0 }] }, /unique/);
    bad({ layers: [{ kind: 'conv', kernel: 3, outChannels: 4, weightBits: 8, actBits: 8 }] }, /last layer must be dense/);
    bad({ layers: [{ kind: 'dense', units: 3, weightBits: 8 }] }, /number of classes/);
    bad({ layers: [{ kind: 'dense', units: 2, weightBits: 12 }] }, /weightBits/);
    bad({ layers: [{ kind: 'maxpool', size: 2 }, { kind: 'dense', units: 4, weightBits: 8 }, { kind: 'dense', units: 2, weightBits: 8 }] }, /actBits/);
    bad({ layers: [{ kind: 'conv', kernel: 60, outChannels: 4, weightBits: 8, actBits: 8 }, { kind: 'dense', units: 2, weightBits: 8 }] }, /kernel/);
    bad({ layers: [{ kind: 'fft' }, { kind: 'dense', units: 2, weightBits: 8 }] } as object, /'conv', 'maxpool' or 'dense'/);
    bad({ std: 0 }, /std/);
  });

  it('describes architecture mismatches', () => {
    const a = cellnetConfig();
    expect(configMismatch(a, cellnetConfig())).toBeUndefined();
    const wider = cellnetConfig({ layers: [{ ...CELLNET_DEFAULTS.layers[0]!, outChannels: 8 } as never, ...CELLNET_DEFAULTS.layers.slice(1)] });
    expect(configMismatch(a, wider)).toMatch(/layer 0/);
  });
});
