import { groupsOf, type W2Matrix } from '../../../generator/llm/gemv/golden';
import { quadField } from '../../../generator/llm/gemv/sparse';
import { prefillGemmGeometry, type PrefillGemmConfig } from '../../../generator/llm/prefill/gemm';

/** n int8 of x from `from` (zero past the end: padding columns), little-endian bytes. */
const bytes = (x: Int8Array, from: number, n: number) => Array.from(x.subarray(from, from + n)).reduce((a, v, i) => a | (BigInt(v & 0xff) << BigInt(8 * i)), 0n);

/** The job's streams from the matrix and the block's x, by the documented order and layouts. */
export function packGemmJob(c: PrefillGemmConfig, m: W2Matrix, xs: Int8Array[]) {
  const g = prefillGemmGeometry(c);
  const ng = groupsOf(m.cols, m.group);
  const steps = ng * g.stepsPerGroup;
  const rbs = m.rows / c.lanes;
  const x: bigint[] = [];
  for (let j = 0; j < steps; j++)
    for (let p = 0; p < c.tokens / 2; p++) x.push(bytes(xs[2 * p]!, j * g.cols, g.cols) | (bytes(xs[2 * p + 1]!, j * g.cols, g.cols) << BigInt(g.xBits)));
  const w: bigint[] = [];
  const s: bigint[] = [];
  const code = (r: number, col: number) => (col < m.cols ? m.codes[r * m.cols + col]! : 0);
  for (let rb = 0; rb < rbs; rb++) {
    for (let j = 0; j < steps; j++) {
      let word = 0n;
      for (let l = 0; l < c.lanes; l++) {
        const r = rb * c.lanes + l;
        if (c.sparse) for (let k = 0; k < g.cols / 4; k++) word |= BigInt(quadField(m, r, j * g.cols + 4 * k)) << BigInt(7 * (l * (g.cols / 4) + k));
        else for (let i = 0; i < g.cols; i++) word |= BigInt(code(r, j * g.cols + i)) << BigInt(2 * (l * g.cols + i));
      }
      w.push(word);
    }
    for (let gi = 0; gi < ng; gi++) s.push(Array.from({ length: c.lanes }, (_, l) => BigInt(m.scales[(rb * c.lanes + l) * ng + gi]!) << BigInt(c.scaleBits * l)).reduce((a, v) => a | v, 0n));
  }
  return { job: [BigInt(steps) | (BigInt(rbs) << BigInt(g.colStepBits))], x, w, s, yBeats: rbs * c.tokens };
}


/** y beats (row block major, token minor) back into per-token accumulator rows. */
export function readGemmY(c: PrefillGemmConfig, data: bigint[], rows: number): number[][] {
  const got = Array.from({ length: c.tokens }, () => new Array<number>(rows));
  data.forEach((word, i) => {
    const rb = Math.floor(i / c.tokens);
    for (let l = 0; l < c.lanes; l++) got[i % c.tokens]![rb * c.lanes + l] = Number(BigInt.asIntN(c.accBits, word >> BigInt(c.accBits * l)));
  });
  return got;
}
