import type { LlamaCheckpoint } from '../checkpoint';
import { FloatModel } from '../float-model';
import { sampleSequence } from '../sample';

/** Per-site mean squared activation E[x_c^2] of the inputs of each linear layer, gathered from the float model. */
export class Calibration {
  private readonly sums = new Map<string, Float64Array>();
  private readonly counts = new Map<string, number>();
  private readonly grams = new Map<string, Float64Array>();

  add(site: string, layer: number, x: Float32Array): void {
    const key = `${site}/${layer}`;
    let s = this.sums.get(key);
    if (!s) this.sums.set(key, (s = new Float64Array(x.length)));
    for (let i = 0; i < x.length; i++) s[i]! += x[i]! * x[i]!;
    const n = x.length;
    let g = this.grams.get(key);
    if (!g) this.grams.set(key, (g = new Float64Array(n * n)));
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      for (let j = 0; j < n; j++) g[i * n + j]! += xi * x[j]!;
    }
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** E[x x^T] (n x n row-major) for GPTQ. */
  gram(site: string, layer: number): Float64Array | undefined {
    const key = `${site}/${layer}`;
    const g = this.grams.get(key);
    return g && g.map((v) => v / this.counts.get(key)!);
  }

  /** E[x^2] per column, floored at 1e-3 of its mean so no column is ignored entirely. */
  get(site: string, layer: number): Float64Array | undefined {
    const key = `${site}/${layer}`;
    const s = this.sums.get(key);
    if (!s) return undefined;
    const n = this.counts.get(key)!;
    const h = s.map((v) => v / n);
    const mean = h.reduce((a, b) => a + b, 0) / h.length;
    return h.map((v) => Math.max(v, 1e-3 * mean));
  }
}

/** Sample `sequences` sequences of `length` tokens from the float model (seeded) and record activation statistics. */
export function calibrate(ckpt: LlamaCheckpoint, seed: number, sequences: number, length: number): Calibration {
  const cal = new Calibration();
  const model = new FloatModel(ckpt);
  const seqs = Array.from({ length: sequences }, (_, i) => sampleSequence(new FloatModel(ckpt), seed + i, length));
  model.onMatmulInput = (site, layer, x) => cal.add(site, layer, x);
  for (const seq of seqs) for (let pos = 0; pos < seq.length; pos++) model.forward(seq[pos]!, pos);
  return cal;
}
