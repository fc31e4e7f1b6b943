import { checkImage } from './dataset';
import type { CellnetModel } from './model';

/**
 * Float reference inference (float64, HWC) of a trained model on one uint8 image: the accuracy the
 * network has before quantisation. Also returns every layer's output so calibration can measure ranges.
 */
export function floatForward(m: CellnetModel, img: ArrayLike<number>, keep = false): { logits: Float64Array; acts: Float64Array[] } {
  const cfg = m.config;
  checkImage(img, cfg.inputSize);
  let x = new Float64Array(img.length);
  for (let i = 0; i < img.length; i++) x[i] = (img[i]! / 255 - cfg.mean) / cfg.std;
  const acts: Float64Array[] = [];
  for (const s of cfg.shapes) {
    const [, iw, ic] = s.in;
    const [oh, ow, oc] = s.out;
    const y = new Float64Array(oh * ow * oc);
    const l = s.layer;
    if (l.kind === 'conv') {
      const { kernel, bias } = m.weights[s.index]!;
      const k = l.kernel;
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const base = (oy * ow + ox) * oc;
          for (let o = 0; o < oc; o++) y[base + o] = bias[o]!;
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++)
              for (let i = 0; i < ic; i++) {
                const v = x[((oy + ky) * iw + ox + kx) * ic + i]!;
                const wb = ((ky * k + kx) * ic + i) * oc;
                for (let o = 0; o < oc; o++) y[base + o]! += v * kernel[wb + o]!;
              }
          for (let o = 0; o < oc; o++) if (y[base + o]! < 0) y[base + o] = 0;
        }
    } else if (l.kind === 'maxpool') {
      const p = l.size;
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (let c = 0; c < oc; c++) {
            let best = -Infinity;
            for (let dy = 0; dy < p; dy++) for (let dx = 0; dx < p; dx++) best = Math.max(best, x[((oy * p + dy) * iw + ox * p + dx) * ic + c]!);
            y[(oy * ow + ox) * oc + c] = best;
          }
    } else {
      const { kernel, bias } = m.weights[s.index]!;
      const n = s.fanIn;
      for (let o = 0; o < oc; o++) y[o] = bias[o]!;
      for (let j = 0; j < n; j++) {
        const v = x[j]!;
        if (v === 0) continue;
        for (let o = 0; o < oc; o++) y[o]! += v * kernel[j * oc + o]!;
      }
      if (!s.last) for (let o = 0; o < oc; o++) if (y[o]! < 0) y[o] = 0;
    }
    if (keep) acts.push(y);
    x = y;
  }
  return { logits: x, acts };
}

/** Index of the largest value; ties go to the lowest index (the hardware's rule too). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Float accuracy over a set of network-ready images. */
export function floatAccuracy(m: CellnetModel, pixels: Uint8Array, classes: Uint8Array): number {
  const px = m.config.inputSize * m.config.inputSize;
  let ok = 0;
  for (let i = 0; i < classes.length; i++) if (argmax(floatForward(m, pixels.subarray(i * px, (i + 1) * px)).logits) === classes[i]) ok++;
  return classes.length ? ok / classes.length : 0;
}
