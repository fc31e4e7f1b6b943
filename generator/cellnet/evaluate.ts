import { argmax, floatForward } from './float';
import { goldenClassify } from './golden';
import type { ClassSet } from './dataset';
import type { CellnetModel } from './model';
import { quantize } from './quantize';

export interface ClassReport {
  name: string;
  n: number;
  float: number;
  fixed: number;
}

export interface EvalReport {
  n: number;
  /** Float (JS float64 reference) accuracy. */
  float: number;
  /** Fixed-point golden model accuracy. */
  fixed: number;
  /** Share of images where float and fixed point pick the same class. */
  agreement: number;
  perClass: ClassReport[];
  /** Golden-model throughput measured during this run. */
  goldenImagesPerSecond: number;
}

/** Float vs fixed-point accuracy of a model on a network-ready test set. */
export function evaluate(m: CellnetModel, test: ClassSet): EvalReport {
  const q = quantize(m);
  const px = m.config.inputSize * m.config.inputSize;
  const k = m.config.classes.length;
  const counts = new Array<number>(k).fill(0);
  const fOk = new Array<number>(k).fill(0);
  const qOk = new Array<number>(k).fill(0);
  let agree = 0;
  let goldenMs = 0;
  for (let i = 0; i < test.n; i++) {
    const img = test.pixels.subarray(i * px, (i + 1) * px);
    const c = test.classes[i]!;
    const fc = argmax(floatForward(m, img).logits);
    const t0 = performance.now();
    const qc = goldenClassify(q, img).cls;
    goldenMs += performance.now() - t0;
    counts[c]!++;
    if (fc === c) fOk[c]!++;
    if (qc === c) qOk[c]!++;
    if (fc === qc) agree++;
  }
  const sum = (a: number[]): number => a.reduce((s, x) => s + x, 0);
  const n = test.n;
  return {
    n,
    float: n ? sum(fOk) / n : 0,
    fixed: n ? sum(qOk) / n : 0,
    agreement: n ? agree / n : 0,
    perClass: m.config.classes.map((c, i) => ({ name: c.name, n: counts[i]!, float: counts[i] ? fOk[i]! / counts[i]! : 0, fixed: counts[i] ? qOk[i]! / counts[i]! : 0 })),
    goldenImagesPerSecond: goldenMs > 0 ? (n / goldenMs) * 1000 : 0,
  };
}
