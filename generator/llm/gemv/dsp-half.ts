/**
 * The GEMV unit's DSP half (prefill, docs/llm-engine.md#the-dsp-half-in-the-engine): beside the LUT datapath, which
 * forms one token's lane sums of a held weight word per cycle, one DSP48E2 per kept weight of the word multiplies
 * the weight's 2-bit code q by two more tokens' int8 activations packed into one operand, x_b * 2^18 + x_a (the
 * WP486 roles of prefill/dsp-array.ts). A lane's packed products add up (the DSPs' post-adder cascade) to
 * T = 2^18 * sum(q x_b) + sum(q x_a); the low field is read as a signed 18-bit value L = sum(q x_a) (|L| < 2^17,
 * checked by gemvConfig) and the high one as (T - L) / 2^18. The level follows as sum((2q-3) x) = 2 sum(q x) -
 * 3 sum(x). With 2:4 weights each lane selects, per quad and token, the x of its two kept positions (the LUT
 * path's selection). Combinational: the sums enter the unit's S1 -> S2 register like the LUT lanes'.
 */
import { mux, sumTree, type Expr, type Module } from '../../hdl';
import { bitsFor } from '../../util/errors';
import { DSP_PACK_SHIFT as PACK_SHIFT, type GemvConfig } from './config';
import { QUAD, QUAD_FIELD_BITS } from './sparse';

/** Lane l's dot products sum((2q-3) x) of the weight word w1 for two tokens (xa, xb: simd int8 each), pBits wide. */
export function dspLanePair(m: Module, cfg: GemvConfig, l: number, w1: Expr, xa: Expr[], xb: Expr[], pBits: number, tag: string): [Expr, Expr] {
  const codes: Expr[] = [];
  const sel: [Expr[], Expr[]] = [[], []];
  if (cfg.sparse) {
    const quads = cfg.simd / QUAD;
    for (let k = 0; k < quads; k++) {
      const base = QUAD_FIELD_BITS * (l * quads + k);
      const pat = w1.slice(base + 6, base + 4);
      [xa, xb].forEach((xs, t) => {
        const x = (p: number) => xs[QUAD * k + p]!;
        // first kept position: 0 for patterns 0-2, 1 for 3-4, 2 for 5; second: 1 for 0, 2 for 1 and 3, 3 otherwise
        sel[t].push(m.let(`${tag}_xs${t}_l${l}_q${k}_0`, mux(pat.lt(3), x(0), mux(pat.lt(5), x(1), x(2)))));
        sel[t].push(m.let(`${tag}_xs${t}_l${l}_q${k}_1`, mux(pat.eq(0), x(1), mux(pat.eq(1).or(pat.eq(3)), x(2), x(3)))));
      });
      codes.push(w1.slice(base + 1, base), w1.slice(base + 3, base + 2));
    }
  } else
    for (let j = 0; j < cfg.simd; j++) {
      codes.push(w1.slice(2 * (l * cfg.simd + j) + 1, 2 * (l * cfg.simd + j)));
      sel[0].push(xa[j]!);
      sel[1].push(xb[j]!);
    }
  const hiBits = bitsFor(3 * 128 * codes.length) + 1;
  const W = PACK_SHIFT + hiBits + 1;
  const prods = codes.map((q, j) => sel[1][j]!.sext(W).shl(PACK_SHIFT).add(sel[0][j]!.sext(W)).mul(q.zext(3).asSigned()));
  const T = m.let(`${tag}_t_l${l}`, sumTree(prods, W));
  const lo = T.slice(PACK_SHIFT - 1, 0).asSigned();
  const hi = T.slice(W - 1, PACK_SHIFT).asSigned().add(T.bit(PACK_SHIFT - 1).zext(W - PACK_SHIFT).asSigned());
  const level = (s: Expr, t: 0 | 1): Expr => {
    const sx = sumTree(sel[t], pBits);
    return m.let(`${tag}_p${t}_l${l}`, s.resize(pBits).shl(1).sub(sx.shl(1).add(sx)));
  };
  return [level(lo, 0), level(hi, 1)];
}
