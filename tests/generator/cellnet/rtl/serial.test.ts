import { beforeAll, describe, expect, it } from 'vitest';
import { cellnetConfig, type CellnetConfig } from '../../../../generator/cellnet/config';
import { goldenBatch, type QuantizedCellnet } from '../../../../generator/cellnet/golden';
import { Rng } from '../../../../generator/util/rng';
import { cellnetHw, cellnetSerialModule, packWeights, serialPlan } from '../../../../generator/cellnet/rtl';
import { triggerGolden } from '../../../../generator/cellnet/rtl/trigger-golden';
import { ConfigError } from '../../../../generator/util/errors';
import { buildCellnetSim, runCellnet, type CellnetSim } from '../../../../sim/designs/cellnet';
import { cli } from '../../flow/helpers';
import { cellImages, randomImages, randomizedWeights, randomQuantized, shippedModel, expectLintAndIcarus } from './helpers';

/** The serial engine computes ~1.4 M cycles per frame with no stream transfer. */
const IDLE = 5_000_000;
const STALLS = { wload: 0.3, cfg: 0.3 };

const three = cellnetConfig({
  classes: [{ name: 'B', label: 0 }, { name: 'T4', label: 1 }, { name: 'T8', label: 2 }],
  layers: [...cellnetConfig().layers.slice(0, 4), { kind: 'dense', units: 3, weightBits: 8 }],
});
/** Other shapes: conv->conv without a pool, narrow activations (6/7 bits) and weights, pool 3 after a 5x5 conv, 1x1 conv. */
const small: Array<[string, CellnetConfig]> = [
  ['conv-conv-pool, 4-bit weights, 6/7-bit activations', cellnetConfig({ inputSize: 16, layers: [{ kind: 'conv', kernel: 3, outChannels: 6, weightBits: 4, actBits: 6 }, { kind: 'conv', kernel: 3, outChannels: 5, weightBits: 5, actBits: 7 }, { kind: 'maxpool', size: 2 }, { kind: 'dense', units: 2, weightBits: 6 }], logitBits: 12, scoreBits: 8 })],
  ['conv5-pool3-conv3-pool2, 3 classes', cellnetConfig({ inputSize: 24, classes: three.classes, layers: [{ kind: 'conv', kernel: 5, outChannels: 4, weightBits: 8, actBits: 8 }, { kind: 'maxpool', size: 3 }, { kind: 'conv', kernel: 3, outChannels: 6, weightBits: 8, actBits: 8 }, { kind: 'maxpool', size: 2 }, { kind: 'dense', units: 3, weightBits: 8 }] })],
  ['1x1 conv, conv3, dense', cellnetConfig({ inputSize: 8, layers: [{ kind: 'conv', kernel: 1, outChannels: 3, weightBits: 8, actBits: 8 }, { kind: 'conv', kernel: 3, outChannels: 2, weightBits: 8, actBits: 8 }, { kind: 'dense', units: 2, weightBits: 8 }] })],
];

/** q with each layer's weights and biases permuted (seeded): a different model with the same magnitudes. */
function shuffledWeights(q: QuantizedCellnet, seed: number): QuantizedCellnet {
  const rng = new Rng(seed);
  const perm = <T extends Int8Array | Int32Array>(a: T): T => {
    const b = a.slice() as T;
    for (let i = b.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [b[i], b[j]] = [b[j]!, b[i]!];
    }
    return b;
  };
  return { ...q, layers: q.layers.map((l) => (l.kind === 'maxpool' ? l : { ...l, weights: perm(l.weights), bias: perm(l.bias) })) };
}

/** Issue cycles of a frame, recomputed from the config's layer shapes (not from serialPlan). */
function expectedIssueCycles(cfg: CellnetConfig): number {
  let n = 0;
  cfg.shapes.forEach((s, i) => {
    const l = s.layer;
    const biasBytes = Math.ceil(s.accBits / 8);
    if (l.kind === 'conv') {
      const next = cfg.layers[i + 1];
      const p = next?.kind === 'maxpool' ? next.size : 1;
      n += Math.floor(s.out[0] / p) * Math.floor(s.out[1] / p) * s.out[2] * p * p * (s.fanIn + biasBytes);
    } else if (l.kind === 'dense') n += s.out[2] * (s.fanIn + biasBytes);
  });
  return n;
}

describe('serial (time-multiplexed) cell classifier: plan and tools', () => {
  it('plans one pass per conv (+ fused pool) and one dense pass; cycle count from the layer shapes', () => {
    const { model } = shippedModel();
    const sp = serialPlan(cellnetHw(model.config, 1));
    expect(sp.passes.map((p) => [p.kind, p.pool, p.outH, p.outW, p.outC])).toEqual([
      ['conv', 2, 23, 23, 16],
      ['conv', 2, 10, 10, 16],
      ['dense', 1, 1, 1, 2],
    ]);
    expect(sp.passes.reduce((n, p) => n + p.cycles, 0)).toBe(expectedIssueCycles(model.config));
    for (const [, cfg] of small) expect(serialPlan(cellnetHw(cfg, 1)).passes.reduce((n, p) => n + p.cycles, 0)).toBe(expectedIssueCycles(cfg));
    expect(sp.weightBytes).toBe(5768);
    expect(() => serialPlan(cellnetHw(model.config, 8))).toThrow(ConfigError);
    const poolFirst = cellnetConfig({ inputSize: 16, layers: [{ kind: 'maxpool', size: 2 }, { kind: 'conv', kernel: 3, outChannels: 3, weightBits: 8, actBits: 8 }, { kind: 'dense', units: 2, weightBits: 8 }] });
    expect(() => serialPlan(cellnetHw(poolFirst, 1))).toThrow(/pool must follow a conv/);
  });

  it('passes verilator --lint-only -Wall and compiles in Icarus (shipped model, 3 classes, small variants)', async () => {
    const { model, q } = shippedModel();
    const designs = [
      { what: 'shipped model', m: cellnetSerialModule(cellnetHw(model.config, 1), q) },
      { what: '3 classes', m: cellnetSerialModule(cellnetHw(three, 1), randomQuantized(three, 3)) },
      ...small.map(([what, cfg]) => ({ what, m: cellnetSerialModule(cellnetHw(cfg, 1), randomQuantized(cfg, 5)) })),
    ];
    await expectLintAndIcarus(designs);
  }, 600_000);
});

describe('serial cell classifier in Verilator (shipped model)', () => {
  let cs: CellnetSim;
  const { model, q } = shippedModel();
  beforeAll(async () => {
    cs = await buildCellnetSim(model.config, q, 1, { serial: true });
  }, 1_800_000);

  it('classifies synthetic images bit-exactly under random stalls on every stream; events and pulses match the goldens', async () => {
    const n = 40;
    const pixels = cellImages(n, 301);
    const gold = goldenBatch(q, pixels, n);
    const scores = gold.map((g) => g.score).sort((a, b) => a - b);
    const regs = { enable: true, classMask: 0b10, threshold: scores[n >> 1]!, delay: 1000, width: 50 };
    const r = await runCellnet(cs, pixels, { seed: 4, pxStall: 0.3, eventStall: 0.5, stalls: STALLS, regs, idleCycles: IDLE });
    expect(r.status).toEqual({ overrun: false, frameError: false, eventsLost: 0 });
    expect(r.events.map((e) => [e.frame, e.cls, e.score])).toEqual(gold.map((g, i) => [i, g.cls, g.score]));
    const tg = triggerGolden(cs.hw, r.events, r.writes);
    expect(r.events).toEqual(tg.events);
    expect(r.pulses).toEqual(tg.pulses);
    expect(r.events.some((e) => e.fired)).toBe(true);
    expect(r.events.every((e) => e.fired === (e.cls === 1 && e.score >= regs.threshold))).toBe(true);
    expect(new Set(gold.map((g) => g.cls)).size).toBe(2);
    // latency after the last pixel is the same for every frame and matches the plan's cycle count
    const sp = serialPlan(cs.hw);
    const lat = r.events.map((e, i) => e.timestamp - r.lastPixel[i]!);
    expect(new Set(lat).size).toBe(1);
    expect(lat[0]! - sp.computeCycles).toBeGreaterThanOrEqual(0);
    expect(lat[0]! - sp.computeCycles).toBeLessThanOrEqual(8);
    // px is back-pressured while computing: the next frame starts only after the result
    for (let i = 1; i < n; i++) expect(r.firstPixel[i]!).toBeGreaterThan(r.lastPixel[i - 1]! + sp.computeCycles);
  }, 600_000);

  it('loads seeded random weights through wload (stalled) and computes them bit-exactly', async () => {
    const n = 10;
    const pixels = cellImages(n, 11);
    // fully random weights (logits mostly saturate), then the shipped weights shuffled per layer (scores in range)
    for (const q2 of [randomizedWeights(q, 9), shuffledWeights(q, 4)]) {
      const gold = goldenBatch(q2, pixels, n);
      expect(gold.map((g) => [g.cls, g.score])).not.toEqual(goldenBatch(q, pixels, n).map((g) => [g.cls, g.score]));
      const r = await runCellnet(cs, pixels, { seed: 5, pxStall: 0.2, eventStall: 0.2, stalls: STALLS, load: packWeights(cs.hw, q2, q), idleCycles: IDLE });
      expect(r.events.map((e) => [e.cls, e.score])).toEqual(gold.map((g) => [g.cls, g.score]));
    }
    expect(goldenBatch(shuffledWeights(q, 4), pixels, n).some((g) => g.score < 2 ** q.scoreBits - 1)).toBe(true);
  }, 600_000);
});

describe('serial cell classifier in Verilator (other architectures, seeded random networks and images)', () => {
  it.each(small)('%s: bit-exact with random stalls', async (_what, cfg) => {
    const n = 30;
    const pixels = randomImages(n, cfg.inputSize, 8);
    let seed = 1;
    let q = randomQuantized(cfg, seed);
    while (new Set(goldenBatch(q, pixels, n).map((g) => g.cls)).size < 2 && seed < 50) q = randomQuantized(cfg, ++seed);
    const gold = goldenBatch(q, pixels, n);
    const cs = await buildCellnetSim(cfg, q, 1, { serial: true });
    const r = await runCellnet(cs, pixels, { seed: 2, pxStall: 0.4, eventStall: 0.3, stalls: STALLS, idleCycles: IDLE });
    expect(r.status).toEqual({ overrun: false, frameError: false, eventsLost: 0 });
    expect(r.events.map((e) => [e.frame, e.cls, e.score])).toEqual(gold.map((g, i) => [i, g.cls, g.score]));
    expect(new Set(gold.map((g) => g.cls)).size).toBeGreaterThan(1);
  }, 900_000);
});

describe('lutforge sort with the serial engine (virtual board: link + serial core in Verilator)', () => {
  it('sorts synthetic images with --serial; every event equals the golden model', () => {
    const r = cli(['sort', '--device', 'sim', '--images', 'synthetic:4', '--serial', '--sort', '1', '--seed', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { images: number; events: number; goldenMismatches: number; perClass: Record<string, number> };
    expect(s).toMatchObject({ images: 4, events: 4, goldenMismatches: 0 });
    expect(Object.values(s.perClass).reduce((a, b) => a + b, 0)).toBe(4);
  }, 600_000);
});
