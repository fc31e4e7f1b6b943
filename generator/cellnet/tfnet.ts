import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';
import type { CellnetConfig } from './config';
import type { LayerWeights } from './model';

/**
 * A CellnetConfig network in TensorFlow.js for training on the pure-JS cpu backend.
 *
 * Convolution and max-pool are written as custom-gradient ops (im2col + matMul, and argmax pooling) in
 * plain typed-array loops: on the cpu backend, tf.conv2d's filter/input gradients and tf.maxPool's gradient
 * are 10-100x slower than this (measured ~5.5 s vs ~0.37 s per 32-image student step). The weight layout
 * is the model file's: conv kernel [k*k*inC, outC] (HWIO flattened), dense [in, out], HWC activations.
 */
export interface TfNet {
  cfg: CellnetConfig;
  /** Per layer: kernel and bias variables, or null for pools. */
  vars: ({ kernel: tf.Variable; bias: tf.Variable } | null)[];
}

let backendReady: Promise<void> | undefined;

/** Select the cpu backend once (tfjs-node cannot be installed; wasm has no conv gradient). */
export function useCpuBackend(): Promise<void> {
  backendReady ??= (async () => {
    // PROD silences tfjs's "install tfjs-node" banner (which cannot be followed here).
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
    await tf.ready();
  })();
  return backendReady;
}

/** He-normal initialisation from the project's seeded Rng (tfjs's own initialisers are not seeded by it). */
export function initNet(cfg: CellnetConfig, rng: Rng): TfNet {
  const vars = cfg.shapes.map((s) => {
    if (s.layer.kind === 'maxpool') return null;
    const std = Math.sqrt(2 / s.fanIn);
    const k = new Float32Array(s.weights);
    for (let i = 0; i < k.length; i++) k[i] = std * rng.normal();
    return { kernel: tf.variable(tf.tensor2d(k, [s.fanIn, s.out[2]])), bias: tf.variable(tf.zeros([s.out[2]])) };
  });
  return { cfg, vars };
}

export function netFromWeights(cfg: CellnetConfig, weights: (LayerWeights | null)[]): TfNet {
  const vars = cfg.shapes.map((s) => {
    const w = weights[s.index];
    if (s.layer.kind === 'maxpool' || !w) return null;
    return { kernel: tf.variable(tf.tensor2d(w.kernel, [s.fanIn, s.out[2]])), bias: tf.variable(tf.tensor1d(w.bias)) };
  });
  return { cfg, vars };
}

export function netWeights(net: TfNet): (LayerWeights | null)[] {
  return net.vars.map((v) => (v ? { kernel: Float32Array.from(v.kernel.dataSync()), bias: Float32Array.from(v.bias.dataSync()) } : null));
}

export function disposeNet(net: TfNet): void {
  for (const v of net.vars) if (v) (v.kernel.dispose(), v.bias.dispose());
}

export function trainableVars(net: TfNet): tf.Variable[] {
  return net.vars.flatMap((v) => (v ? [v.kernel, v.bias] : []));
}

/** Logits [B, classes] for a batch x [B, H, W, 1] of normalised images. */
export function forward(net: TfNet, x: tf.Tensor4D): tf.Tensor2D {
  let a: tf.Tensor = x;
  for (const s of net.cfg.shapes) {
    const l = s.layer;
    const v = net.vars[s.index];
    if (l.kind === 'conv') {
      const b = a.shape[0]!;
      const [oh, ow, oc] = s.out;
      const cols = im2col(a as tf.Tensor4D, l.kernel);
      a = tf.relu(tf.add(tf.matMul(cols, v!.kernel), v!.bias)).reshape([b, oh, ow, oc]);
    } else if (l.kind === 'maxpool') {
      a = maxPool(a as tf.Tensor4D, l.size);
    } else {
      const z = tf.add(tf.matMul(a.reshape([a.shape[0]!, s.fanIn]), v!.kernel), v!.bias);
      a = s.last ? z : tf.relu(z);
    }
  }
  return a as tf.Tensor2D;
}

/** [B, H, W, C] -> [B*OH*OW, k*k*C] patches for a valid k x k convolution; gradient scatters back. */
function im2col(x: tf.Tensor4D, k: number): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  const oh = h - k + 1;
  const ow = w - k + 1;
  const row = k * c;
  const op = tf.customGrad((xx) => {
    const xd = (xx as tf.Tensor).dataSync() as Float32Array;
    const out = new Float32Array(b * oh * ow * k * row);
    let o = 0;
    for (let n = 0; n < b; n++)
      for (let y = 0; y < oh; y++)
        for (let xo = 0; xo < ow; xo++)
          for (let dy = 0; dy < k; dy++) {
            const base = ((n * h + y + dy) * w + xo) * c;
            out.set(xd.subarray(base, base + row), o);
            o += row;
          }
    return {
      value: tf.tensor2d(out, [b * oh * ow, k * row]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const gx = new Float32Array(b * h * w * c);
        let i = 0;
        for (let n = 0; n < b; n++)
          for (let y = 0; y < oh; y++)
            for (let xo = 0; xo < ow; xo++)
              for (let dyy = 0; dyy < k; dyy++) {
                const base = ((n * h + y + dyy) * w + xo) * c;
                for (let j = 0; j < row; j++) gx[base + j]! += g[i++]!;
              }
        return tf.tensor4d(gx, [b, h, w, c]);
      },
    };
  });
  return op(x) as tf.Tensor2D;
}

/** Non-overlapping max-pool (trailing rows/cols dropped); gradient goes to the first maximum. */
function maxPool(x: tf.Tensor4D, p: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const oh = Math.floor(h / p);
  const ow = Math.floor(w / p);
  const op = tf.customGrad((xx) => {
    const d = (xx as tf.Tensor).dataSync() as Float32Array;
    const out = new Float32Array(b * oh * ow * c);
    const arg = new Int32Array(out.length);
    let o = 0;
    for (let n = 0; n < b; n++)
      for (let y = 0; y < oh; y++)
        for (let xo = 0; xo < ow; xo++)
          for (let ch = 0; ch < c; ch++) {
            let bi = -1;
            let best = -Infinity;
            for (let dy = 0; dy < p; dy++)
              for (let dx = 0; dx < p; dx++) {
                const idx = ((n * h + y * p + dy) * w + xo * p + dx) * c + ch;
                if (d[idx]! > best) (best = d[idx]!), (bi = idx);
              }
            out[o] = best;
            arg[o++] = bi;
          }
    return {
      value: tf.tensor4d(out, [b, oh, ow, c]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const gx = new Float32Array(b * h * w * c);
        for (let i = 0; i < g.length; i++) gx[arg[i]!]! += g[i]!;
        return tf.tensor4d(gx, [b, h, w, c]);
      },
    };
  });
  return op(x) as tf.Tensor4D;
}
