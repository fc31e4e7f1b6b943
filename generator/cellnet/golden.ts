import { InputError } from '../util/errors';

/**
 * Fixed-point golden model of the cell classifier: from one uint8 inputSize x inputSize image, the exact
 * integers the hardware computes. The RTL must match it bit for bit.
 *
 * QuantizedCellnet (built by quantize.ts from a model file) is what the RTL generator consumes:
 *
 *  Input: uint8 pixels in raster order (row 0 left to right, then row 1, ...). The normalisation
 *    (p/255 - mean)/std is folded into the first weighted layer, so raw pixels go straight in.
 *  Activations: HWC order (all channels of pixel (0,0), then of (0,1), ...), unsigned integers.
 *
 *  conv (valid, stride 1): for output (y, x, o)
 *      acc = bias[o] + sum_{ky,kx,i} weights[((o*k + ky)*k + kx)*inC + i] * in[((y+ky)*inW + x+kx)*inC + i]
 *      out = min(2^outBits - 1, max(0, (acc + 2^(shift-1)) >> shift))        (ReLU, round half up, saturate)
 *    with `>>` an arithmetic shift (floor) and no rounding constant when shift = 0.
 *  maxpool (size p, stride p, trailing rows/columns dropped):
 *      out(y, x, c) = max_{dy,dx < p} in((y*p + dy), (x*p + dx), c)
 *  dense: for output o, with j the HWC-flattened input index
 *      acc = bias[o] + sum_j weights[o*inputs + j] * in[j]
 *      hidden (relu): as conv;  last: logit = min(2^(logitBits-1) - 1, max(-2^(logitBits-1), (acc + 2^(shift-1)) >> shift))
 *  result: class = argmax(logits), ties to the lowest index;
 *          score = min(2^scoreBits - 1, logit[class] - max_{j != class} logit[j])   (unsigned, >= 0)
 *
 *  Every accumulator fits its layer's accBits (signed), every product is weightBits x inBits.
 *  Real values: an activation a stands for a * 2^-outFrac, a weight w for w * 2^-weightFrac, a logit for
 *  logit * 2^-logitFrac (so score * 2^-logitFrac is the float logit margin).
 */
export interface QConvLayer {
  kind: 'conv';
  index: number;
  kernel: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  inBits: number;
  weightBits: number;
  /** outC * kernel * kernel * inC, layout [o][ky][kx][i]. */
  weights: Int8Array;
  /** outC biases at the accumulator scale. */
  bias: Int32Array;
  shift: number;
  accBits: number;
  /** Unsigned output width (actBits). */
  outBits: number;
  weightFrac: number;
  inFrac: number;
  outFrac: number;
}

export interface QPoolLayer {
  kind: 'maxpool';
  index: number;
  size: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  /** Width of the (unchanged) values. */
  bits: number;
}

export interface QDenseLayer {
  kind: 'dense';
  index: number;
  inputs: number;
  outputs: number;
  inBits: number;
  weightBits: number;
  /** outputs * inputs, layout [o][j], j = HWC-flattened input index. */
  weights: Int8Array;
  bias: Int32Array;
  shift: number;
  accBits: number;
  /** True for hidden layers (unsigned outBits after ReLU); false for the logits (signed outBits). */
  relu: boolean;
  outBits: number;
  weightFrac: number;
  inFrac: number;
  outFrac: number;
}

export type QLayer = QConvLayer | QPoolLayer | QDenseLayer;

export interface QuantizedCellnet {
  inputSize: number;
  /** Always 8: uint8 pixels. */
  inputBits: number;
  classes: string[];
  layers: QLayer[];
  logitBits: number;
  scoreBits: number;
  logitFrac: number;
}

export interface GoldenResult {
  logits: Int32Array;
  cls: number;
  score: number;
}

/** Round half up by 2^s (arithmetic shift), the one rounding rule of the datapath. */
export function roundShift(acc: number, s: number): number {
  return s === 0 ? acc : (acc + (1 << (s - 1))) >> s;
}

/** argmax with ties to the lowest index, and the saturated margin to the runner-up. */
export function decide(logits: ArrayLike<number>, scoreBits: number): { cls: number; score: number } {
  let cls = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[cls]!) cls = i;
  let second = -Infinity;
  for (let i = 0; i < logits.length; i++) if (i !== cls && logits[i]! > second) second = logits[i]!;
  const max = 2 ** scoreBits - 1;
  return { cls, score: Math.min(max, logits[cls]! - second) };
}

/** Per-layer output buffers, reused across calls on the same network. */
const scratch = new WeakMap<QuantizedCellnet, Int32Array[]>();

function buffers(q: QuantizedCellnet): Int32Array[] {
  let b = scratch.get(q);
  if (!b) {
    b = q.layers.map((l) => new Int32Array(l.kind === 'conv' ? l.outH * l.outW * l.outC : l.kind === 'maxpool' ? l.outH * l.outW * l.channels : l.outputs));
    scratch.set(q, b);
  }
  return b;
}

/**
 * Run the integer network. Returns views of internal buffers for every layer (valid until the next call
 * on the same network); goldenTrace copies them.
 */
function run(q: QuantizedCellnet, img: ArrayLike<number>): Int32Array[] {
  const n = q.inputSize * q.inputSize;
  if (img.length !== n) throw new InputError(`image has ${img.length} pixels, expected ${q.inputSize}x${q.inputSize} = ${n}`);
  const bufs = buffers(q);
  let x: ArrayLike<number> = img;
  for (let li = 0; li < q.layers.length; li++) {
    const l = q.layers[li]!;
    const y = bufs[li]!;
    if (l.kind === 'conv') conv(l, x, y);
    else if (l.kind === 'maxpool') pool(l, x, y);
    else dense(l, x, y);
    x = y;
  }
  return bufs;
}

function conv(l: QConvLayer, x: ArrayLike<number>, y: Int32Array): void {
  const { kernel: k, inW, inC, outH, outW, outC, weights: w, bias, shift } = l;
  const rowLen = k * inC;
  const fan = k * rowLen;
  const hi = 2 ** l.outBits - 1;
  const rnd = shift === 0 ? 0 : 1 << (shift - 1);
  // Gather each window once (k rows of k*inC contiguous HWC values), then one long dot product per channel.
  const patch = new Int32Array(fan);
  for (let oy = 0; oy < outH; oy++)
    for (let ox = 0; ox < outW; ox++) {
      for (let ky = 0, p = 0; ky < k; ky++) {
        const xb = ((oy + ky) * inW + ox) * inC;
        for (let t = 0; t < rowLen; t++) patch[p++] = x[xb + t]!;
      }
      const ob = (oy * outW + ox) * outC;
      for (let o = 0, wb = 0; o < outC; o++, wb += fan) {
        let acc = bias[o]!;
        for (let t = 0; t < fan; t++) acc += w[wb + t]! * patch[t]!;
        const v = (acc + rnd) >> shift;
        y[ob + o] = v < 0 ? 0 : v > hi ? hi : v;
      }
    }
}

function pool(l: QPoolLayer, x: ArrayLike<number>, y: Int32Array): void {
  const { size: p, inW, channels: c, outH, outW } = l;
  for (let oy = 0; oy < outH; oy++)
    for (let ox = 0; ox < outW; ox++)
      for (let ch = 0; ch < c; ch++) {
        let best = -1;
        for (let dy = 0; dy < p; dy++)
          for (let dx = 0; dx < p; dx++) {
            const v = x[((oy * p + dy) * inW + ox * p + dx) * c + ch]!;
            if (v > best) best = v;
          }
        y[(oy * outW + ox) * c + ch] = best;
      }
}

function dense(l: QDenseLayer, x: ArrayLike<number>, y: Int32Array): void {
  const { inputs: n, outputs: m, weights: w, bias, shift } = l;
  const rnd = shift === 0 ? 0 : 1 << (shift - 1);
  const hi = l.relu ? 2 ** l.outBits - 1 : 2 ** (l.outBits - 1) - 1;
  const lo = l.relu ? 0 : -(2 ** (l.outBits - 1));
  for (let o = 0; o < m; o++) {
    let acc = bias[o]!;
    const wb = o * n;
    for (let j = 0; j < n; j++) acc += w[wb + j]! * x[j]!;
    const v = (acc + rnd) >> shift;
    y[o] = v < lo ? lo : v > hi ? hi : v;
  }
}

/** Classify one uint8 image: integer logits, class (argmax, ties low) and score. */
export function goldenClassify(q: QuantizedCellnet, img: ArrayLike<number>): GoldenResult {
  const bufs = run(q, img);
  const logits = Int32Array.from(bufs[bufs.length - 1]!);
  return { logits, ...decide(logits, q.scoreBits) };
}

/** Every layer's integer output (HWC), for layer-by-layer comparison with the RTL. */
export function goldenTrace(q: QuantizedCellnet, img: ArrayLike<number>): Int32Array[] {
  return run(q, img).map((b) => Int32Array.from(b));
}

/** Classify n images stored one after another. */
export function goldenBatch(q: QuantizedCellnet, pixels: Uint8Array, n: number): GoldenResult[] {
  const px = q.inputSize * q.inputSize;
  if (pixels.length !== n * px) throw new InputError(`${pixels.length} pixels for ${n} images of ${q.inputSize}x${q.inputSize}`);
  const out: GoldenResult[] = [];
  for (let i = 0; i < n; i++) out.push(goldenClassify(q, pixels.subarray(i * px, (i + 1) * px)));
  return out;
}
