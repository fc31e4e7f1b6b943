import { expect } from 'vitest';
import { printDesign, type Module } from '../../../../generator/hdl';
import { compileIcarus } from '../../../../sim/icarus';
import { lintVerilog } from '../../../../sim/lint';
import { fitImages } from '../../../../generator/cellnet/dataset';
import type { QuantizedCellnet } from '../../../../generator/cellnet/golden';
import { DEFAULT_MODEL_PATH, readModel, type CellnetModel } from '../../../../generator/cellnet/model';
import { quantize } from '../../../../generator/cellnet/quantize';
import { synthImages } from '../../../../generator/cellnet/synth';
import { Rng } from '../../../../generator/util/rng';

let shipped: { model: CellnetModel; q: QuantizedCellnet } | undefined;

/** The shipped trained model, quantised. */
export function shippedModel(): { model: CellnetModel; q: QuantizedCellnet } {
  if (!shipped) {
    const model = readModel(DEFAULT_MODEL_PATH);
    shipped = { model, q: quantize(model) };
  }
  return shipped;
}

/** n synthetic 48x48 cell images (labels B/T4 alternating), flattened. */
export function cellImages(n: number, seed: number, size = 48): Uint8Array {
  return fitImages(synthImages(n, { seed, labels: [0, 1] }), size).pixels;
}

/** A copy of q with every weight and bias replaced by seeded random values of the same ranges (same shifts). */
export function randomizedWeights(q: QuantizedCellnet, seed: number): QuantizedCellnet {
  const rng = new Rng(seed);
  return {
    ...q,
    layers: q.layers.map((l) => {
      if (l.kind === 'maxpool') return l;
      const wmax = 2 ** (l.weightBits - 1) - 1;
      const weights = l.weights.map(() => rng.int(-wmax, wmax));
      const bmax = Math.max(1, Math.max(...Array.from(l.bias, Math.abs)));
      const bias = l.bias.map(() => rng.int(-bmax, bmax));
      return { ...l, weights, bias };
    }),
  };
}

import type { CellnetConfig } from '../../../../generator/cellnet/config';
import type { QLayer } from '../../../../generator/cellnet/golden';

/** A seeded random integer network for any architecture (for RTL tests of configurations without a trained model). */
export function randomQuantized(cfg: CellnetConfig, seed: number): QuantizedCellnet {
  const rng = new Rng(seed);
  const layers: QLayer[] = cfg.shapes.map((s): QLayer => {
    const l = s.layer;
    const [ih, iw, ic] = s.in;
    const [oh, ow, oc] = s.out;
    if (l.kind === 'maxpool') return { kind: 'maxpool', index: s.index, size: l.size, inH: ih, inW: iw, channels: ic, outH: oh, outW: ow, bits: s.inBits };
    const wmax = 2 ** (l.weightBits - 1) - 1;
    const weights = Int8Array.from({ length: s.weights }, () => rng.int(-wmax, wmax));
    // shift so that typical sums land inside the output range
    const typical = Math.sqrt(s.fanIn) * wmax * 2 ** (s.inBits - 1);
    const shift = Math.max(0, Math.round(Math.log2(typical / 2 ** (s.outBits - 1))));
    const bias = Int32Array.from({ length: s.biases }, () => rng.int(-(2 ** (shift + 2)), 2 ** (shift + 2)));
    const common = { index: s.index, inBits: s.inBits, weightBits: l.weightBits, weights, bias, shift, accBits: s.accBits, outBits: s.outBits, weightFrac: 0, inFrac: 0, outFrac: 0 };
    if (l.kind === 'conv') return { kind: 'conv', kernel: l.kernel, inH: ih, inW: iw, inC: ic, outH: oh, outW: ow, outC: oc, ...common };
    return { kind: 'dense', inputs: s.fanIn, outputs: oc, relu: !s.last, ...common };
  });
  return { inputSize: cfg.inputSize, inputBits: 8, classes: cfg.classes.map((c) => c.name), layers, logitBits: cfg.logitBits, scoreBits: cfg.scoreBits, logitFrac: 0 };
}

/** Seeded random uint8 images, each with its own brightness and contrast so the network's outputs vary. */
export function randomImages(n: number, size: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n * size * size);
  for (let i = 0; i < n; i++) {
    const base = rng.int(0, 255);
    const amp = rng.int(0, 255);
    for (let j = 0; j < size * size; j++) out[i * size * size + j] = Math.max(0, Math.min(255, base + Math.round(amp * (rng.next() - 0.5))));
  }
  return out;
}

/** Every design lints clean (`verilator --lint-only -Wall`) and compiles in Icarus; failures name the design. */
export async function expectLintAndIcarus(designs: ReadonlyArray<{ what: string; m: Module }>): Promise<void> {
  for (const { what, m } of designs) {
    const d = printDesign(m);
    const lint = await lintVerilog(d.files, d.top, { throwOnWarning: false });
    expect(lint.messages, what).toEqual([]);
    const ivl = await compileIcarus(d.files, d.top);
    expect(ivl.vvp, what).toMatch(/\.vvp$/);
  }
}
