import { describe, expect, it } from 'vitest';
import { cellnetConfig, type CellnetConfig } from '../../../../generator/cellnet/config';
import { goldenBatch } from '../../../../generator/cellnet/golden';
import { cellnetHw, cellnetModule, unpackFields } from '../../../../generator/cellnet/rtl';
import { runIcarus } from '../../../../sim/testbench';
import { buildCellnetSim, runCellnet } from '../../../../sim/designs/cellnet';
import { cellImages, randomImages, randomQuantized, shippedModel, expectLintAndIcarus } from './helpers';

const three = cellnetConfig({
  classes: [{ name: 'B', label: 0 }, { name: 'T4', label: 1 }, { name: 'T8', label: 2 }],
  layers: [...cellnetConfig().layers.slice(0, 4), { kind: 'dense', units: 3, weightBits: 8 }],
});
/** Small architectures that exercise other plan shapes: conv->conv, pool 3, narrow widths, odd sizes. */
const small: Array<[string, CellnetConfig, number]> = [
  ['conv-conv-pool, 4-bit weights', cellnetConfig({ inputSize: 16, layers: [{ kind: 'conv', kernel: 3, outChannels: 6, weightBits: 4, actBits: 6 }, { kind: 'conv', kernel: 3, outChannels: 5, weightBits: 5, actBits: 7 }, { kind: 'maxpool', size: 2 }, { kind: 'dense', units: 2, weightBits: 6 }], logitBits: 12, scoreBits: 8 }), 4],
  ['conv5-pool3-conv3-pool2, 3 classes', cellnetConfig({ inputSize: 24, classes: three.classes, layers: [{ kind: 'conv', kernel: 5, outChannels: 4, weightBits: 8, actBits: 8 }, { kind: 'maxpool', size: 3 }, { kind: 'conv', kernel: 3, outChannels: 6, weightBits: 8, actBits: 8 }, { kind: 'maxpool', size: 2 }, { kind: 'dense', units: 3, weightBits: 8 }] }), 2],
  ['pool first, ppc 8', cellnetConfig({ inputSize: 16, layers: [{ kind: 'maxpool', size: 2 }, { kind: 'conv', kernel: 3, outChannels: 3, weightBits: 8, actBits: 8 }, { kind: 'dense', units: 2, weightBits: 8 }] }), 8],
  ['1x1 conv, ppc 1', cellnetConfig({ inputSize: 8, layers: [{ kind: 'conv', kernel: 1, outChannels: 3, weightBits: 8, actBits: 8 }, { kind: 'conv', kernel: 3, outChannels: 2, weightBits: 8, actBits: 8 }, { kind: 'dense', units: 2, weightBits: 8 }] }), 1],
];

describe('generated cell sorter Verilog', () => {
  it('passes verilator --lint-only -Wall and compiles in Icarus for every ppc, the 3-class head and small variants', async () => {
    const { q } = shippedModel();
    const designs = [
      ...[1, 2, 4, 8].map((ppc) => ({ what: `shipped model, ppc ${ppc}`, m: cellnetModule(cellnetHw(shippedModel().model.config, ppc), q) })),
      ...[1].map((ppc) => ({ what: `3 classes, ppc ${ppc}`, m: cellnetModule(cellnetHw(three, ppc), randomQuantized(three, 3)) })),
      ...small.map(([what, cfg, ppc]) => ({ what, m: cellnetModule(cellnetHw(cfg, ppc), randomQuantized(cfg, 5)) })),
    ];
    await expectLintAndIcarus(designs);
  }, 900_000);

  it.each(small)('%s: bit-exact in Verilator with random stalls', async (_what, cfg, ppc) => {
    const n = 60;
    const pixels = randomImages(n, cfg.inputSize, 8);
    // the first seeded random network whose answers are not all one class, so the comparison can fail
    let seed = 1;
    let q = randomQuantized(cfg, seed);
    while (new Set(goldenBatch(q, pixels, n).map((g) => g.cls)).size < 2 && seed < 50) q = randomQuantized(cfg, ++seed);
    const gold = goldenBatch(q, pixels, n);
    const cs = await buildCellnetSim(cfg, q, ppc);
    const r = await runCellnet(cs, pixels, { seed: 2, pxStall: 0.4, eventStall: 0.2 });
    expect(r.status).toEqual({ overrun: false, frameError: false, eventsLost: 0 });
    expect(r.events.map((e) => [e.frame, e.cls, e.score])).toEqual(gold.map((g, i) => [i, g.cls, g.score]));
    expect(new Set(gold.map((g) => g.cls)).size).toBeGreaterThan(1);
  }, 900_000);

  it('gives the same results under Icarus as under Verilator (ppc 8, shipped model)', async () => {
    const { model, q } = shippedModel();
    const hw = cellnetHw(model.config, 8);
    const n = 3;
    const pixels = cellImages(n, 21);
    const words: bigint[] = [];
    for (let b = 0; b < (n * 48 * 48) / 8; b++) {
      let w = 0n;
      for (let i = 7; i >= 0; i--) w = (w << 8n) | BigInt(pixels[b * 8 + i]!);
      words.push(w);
    }
    const ivl = await runIcarus(cellnetModule(hw, q), { inputs: { px: words }, outputs: { event: n }, stall: 0, maxCycles: 100_000 });
    const icarus = (ivl.outputs.event ?? []).map((w) => unpackFields(hw.event, w));
    const cs = await buildCellnetSim(model.config, q, 8);
    const ver = await runCellnet(cs, pixels, { seed: 1, last: false });
    expect(icarus.map((e) => [e.frame, e.cls, e.score, e.fired])).toEqual(ver.events.map((e) => [e.frame, e.cls, e.score, e.fired ? 1 : 0]));
    // same timing: timestamps relative to the first pixel agree (the two benches start the stream one cycle apart at most)
    const offset = icarus[0]!.timestamp! - ver.events[0]!.timestamp;
    expect(Math.abs(offset)).toBeLessThanOrEqual(1);
    expect(icarus.map((e) => e.timestamp! - offset)).toEqual(ver.events.map((e) => e.timestamp));
    expect(goldenBatch(q, pixels, n).map((g) => [g.cls, g.score])).toEqual(ver.events.map((e) => [e.cls, e.score]));
  }, 900_000);
});
