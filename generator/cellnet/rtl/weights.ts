/**
 * The weight-load chain of the cell classifier: every parameter lives in a byte register of one long shift
 * chain. A beat on the `wload` stream shifts the whole chain by one byte (head = chain position 0, the byte
 * at position p moves to p + 1), so after `chainBytes` beats the first byte sent sits at the tail.
 *
 * Chain positions, in stage order:
 *   conv:  for each output channel o: its k*k*inC weights in [ky][kx][i] order, then its bias
 *          (biasBytes little-endian two's complement bytes).
 *   dense: the class biases (biasBytes each), then one entry per input beat of a frame (row y, beat b): for lane l,
 *          channel c, class o the weight of input pixel x = b*n + l (zero for junk lanes x >= validW).
 * A weight byte holds the weightBits two's complement value in its low bits (sign-extended to 8 bits).
 *
 * Rounding shifts are generation-time constants of the RTL: a model whose shifts differ needs regenerated RTL.
 */
import { InputError } from '../../util/errors';
import type { QConvLayer, QDenseLayer, QuantizedCellnet } from '../golden';
import type { CellnetHw, ConvPlan, DensePlan } from './plan';

/** Check that a quantised network has exactly the layers, shapes and widths the hardware was planned for. */
export function checkQuantized(hw: CellnetHw, q: QuantizedCellnet): void {
  const cfg = hw.cfg;
  const bad = (msg: string): never => {
    throw new InputError(`quantised model does not match the configured architecture: ${msg}`);
  };
  if (q.inputSize !== cfg.inputSize) bad(`input size ${q.inputSize}, expected ${cfg.inputSize}`);
  if (q.classes.length !== hw.classes) bad(`${q.classes.length} classes, expected ${hw.classes}`);
  if (q.logitBits !== cfg.logitBits || q.scoreBits !== cfg.scoreBits) bad(`logit/score bits ${q.logitBits}/${q.scoreBits}, expected ${cfg.logitBits}/${cfg.scoreBits}`);
  if (q.layers.length !== cfg.layers.length) bad(`${q.layers.length} layers, expected ${cfg.layers.length}`);
  cfg.shapes.forEach((s, i) => {
    const l = q.layers[i]!;
    if (l.kind !== s.layer.kind) bad(`layer ${i} is ${l.kind}, expected ${s.layer.kind}`);
    if (l.kind === 'maxpool') {
      if (s.layer.kind === 'maxpool' && l.size !== s.layer.size) bad(`layer ${i} pool size ${l.size}, expected ${s.layer.size}`);
      return;
    }
    if (l.weights.length !== s.weights || l.bias.length !== s.biases) bad(`layer ${i} has ${l.weights.length}+${l.bias.length} parameters, expected ${s.weights}+${s.biases}`);
    if (l.inBits !== s.inBits || l.outBits !== s.outBits || l.accBits !== s.accBits) bad(`layer ${i} widths in/out/acc ${l.inBits}/${l.outBits}/${l.accBits}, expected ${s.inBits}/${s.outBits}/${s.accBits}`);
    if (s.layer.kind !== 'maxpool' && l.weightBits !== s.layer.weightBits) bad(`layer ${i} weightBits ${l.weightBits}, expected ${s.layer.weightBits}`);
    if (l.kind === 'conv' && (s.layer.kind !== 'conv' || l.kernel !== s.layer.kernel || l.inC !== s.in[2] || l.outC !== s.out[2])) bad(`layer ${i} conv shape differs`);
    if (!Number.isInteger(l.shift) || l.shift < 0 || l.shift >= l.accBits) bad(`layer ${i} shift ${l.shift} outside [0, ${l.accBits - 1}]`);
  });
}

/** Shifts baked into generated RTL; a model loaded at run time must have the same ones. */
export function modelShifts(q: QuantizedCellnet): number[] {
  return q.layers.map((l) => (l.kind === 'maxpool' ? 0 : l.shift));
}

function weightByte(w: number, bits: number): number {
  const lim = 2 ** (bits - 1) - 1;
  if (!Number.isInteger(w) || w < -lim || w > lim) throw new InputError(`weight ${w} does not fit ${bits} signed bits`);
  return w & 0xff;
}

function biasBytes(b: number, accBits: number, n: number): number[] {
  if (!Number.isInteger(b) || b < -(2 ** (accBits - 1)) || b >= 2 ** (accBits - 1)) throw new InputError(`bias ${b} does not fit ${accBits} signed bits`);
  const v = BigInt.asUintN(8 * n, BigInt(b));
  return Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

export function convChannelBytes(p: ConvPlan, l: QConvLayer, o: number): number[] {
  const fan = p.k * p.k * p.inC;
  const out: number[] = [];
  for (let j = 0; j < fan; j++) out.push(weightByte(l.weights[o * fan + j]!, p.weightBits));
  out.push(...biasBytes(l.bias[o]!, p.accBits, p.biasBytes));
  return out;
}

export function denseBiasBytes(p: DensePlan, l: QDenseLayer): number[] {
  const out: number[] = [];
  for (let o = 0; o < p.classes; o++) out.push(...biasBytes(l.bias[o]!, p.accBits, p.biasBytes));
  return out;
}

/** Weight bytes of dense entry e (row y = e / beatsPerRow, beat b = e % beatsPerRow). */
export function denseEntryBytes(p: DensePlan, l: QDenseLayer, e: number): number[] {
  const s = p.in;
  const y = Math.floor(e / s.beatsPerRow);
  const b = e % s.beatsPerRow;
  const out: number[] = [];
  for (let lane = 0; lane < s.n; lane++)
    for (let c = 0; c < s.channels; c++)
      for (let o = 0; o < p.classes; o++) {
        const x = b * s.n + lane;
        out.push(x < s.validW ? weightByte(l.weights[o * l.inputs + (y * s.validW + x) * s.channels + c]!, p.weightBits) : 0);
      }
  return out;
}

/** Every chain byte in position order (head first). */
export function chainBytes(hw: CellnetHw, q: QuantizedCellnet): number[] {
  checkQuantized(hw, q);
  const out: number[] = [];
  for (const p of hw.stages) {
    const l = q.layers[p.index]!;
    if (p.kind === 'conv') for (let o = 0; o < p.outC; o++) out.push(...convChannelBytes(p, l as QConvLayer, o));
    else if (p.kind === 'dense') {
      out.push(...denseBiasBytes(p, l as QDenseLayer));
      for (let e = 0; e < p.entries; e++) out.push(...denseEntryBytes(p, l as QDenseLayer, e));
    }
  }
  if (out.length !== hw.chainBytes) throw new Error(`cellnet chain: ${out.length} bytes, plan says ${hw.chainBytes}`);
  return out;
}

/**
 * The `wload` beats that load model q into a design generated for `generatedFor` (same architecture; the
 * rounding shifts must agree, since they are constants of the RTL). Send them while no frame is in flight.
 */
export function packWeights(hw: CellnetHw, q: QuantizedCellnet, generatedFor?: QuantizedCellnet): number[] {
  if (generatedFor) {
    const a = modelShifts(generatedFor);
    const b = modelShifts(q);
    const i = a.findIndex((s, j) => s !== b[j]);
    if (i >= 0) throw new InputError(`model layer ${i} needs rounding shift ${b[i]}, the RTL was generated with ${a[i]}; regenerate the RTL for this model`);
  }
  return chainBytes(hw, q).reverse();
}
