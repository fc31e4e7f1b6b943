/**
 * The GEMV unit's DSP half (prefill, docs/llm-engine.md#the-dsp-half-in-the-engine): beside the LUT datapath, which
 * forms one token's lane sums of a held weight word per cycle, one DSP48E2 per kept weight of the word multiplies
 * the weight's level 2q - 3 by two more tokens' int8 activations packed into one operand, x_b * 2^18 + x_a (the
 * WP486 roles of prefill/dsp-array.ts). A lane's packed products add up (an adder tree in carry chains; Yosys
 * does not fold these combinational adds into the DSPs' post-adders) to T = 2^18 * sum((2q-3) x_b) +
 * sum((2q-3) x_a); the low field is read as a signed 18-bit value L (|L| <= 384 * kept < 2^17, checked by
 * gemvConfig) and the high one as (T - L) / 2^18. With 2:4 weights each lane selects, per quad and token, the x of
 * its two kept positions (the LUT path's selection). Combinational: the sums enter the unit's S1 -> S2 register like
 * the LUT lanes'.
 */
import { cat, lit, mux, sumTree, type Expr, type Module } from '../../hdl';
import { bitsFor } from '../../util/errors';
import { DSP_PACK_SHIFT as PACK_SHIFT, type GemvConfig } from './config';
import { splitPairSum } from '../../lib/dsp-pack';

/** Bits of the packed pair's high field (x_b minus a borrow): 18 + 9 = 27, the DSP48E2's A port. */
const PACK_HI = 9;
import { QUAD, QUAD_FIELD_BITS } from './sparse';

/**
 * The high field of each column's packed pair, once for every lane: x_b * 2^18 + x_a = (x_b - [x_a < 0]) * 2^18 +
 * (x_a mod 2^18), so a lane selects (high, x_a) per kept weight and the pair is wired, not added, per product.
 */
export function dspPackHigh(m: Module, xa: Expr[], xb: Expr[], tag: string): Expr[] {
  return xb.map((b, j) => m.let(`${tag}_hi_j${j}`, b.sext(PACK_HI).sub(xa[j]!.bit(7).zext(PACK_HI).asSigned())));
}

/**
 * Lane l's dot products sum((2q-3) x) of the weight word w1 for two tokens (xa: simd int8; hi: dspPackHigh of the
 * second token's), pBits wide.
 */
export function dspLanePair(m: Module, cfg: GemvConfig, l: number, w1: Expr, xa: Expr[], hi: Expr[], pBits: number, tag: string): [Expr, Expr] {
  const codes: Expr[] = [];
  const sel: [Expr[], Expr[]] = [[], []];
  if (cfg.sparse) {
    const quads = cfg.simd / QUAD;
    for (let k = 0; k < quads; k++) {
      const base = QUAD_FIELD_BITS * (l * quads + k);
      const pat = w1.slice(base + 6, base + 4);
      [xa, hi].forEach((xs, t) => {
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
      sel[1].push(hi[j]!);
    }
  const hiBits = bitsFor(3 * 128 * codes.length) + 1;
  const W = PACK_SHIFT + hiBits + 1;
  // Each DSP multiplies the packed pair (27 bits: the A port) by the weight's level 2q - 3 in {-3, -1, 1, 3}, a
  // 3-bit signed value wired from the code (!q1, q0, 1), so no sum(x) correction is needed.
  const prods = codes.map((q, j) => {
    const a = sel[0][j]!;
    const packed = cat(sel[1][j]!, ...Array<Expr>(PACK_SHIFT - 8).fill(a.bit(7)), a.slice(7, 0)).asSigned();
    const level = cat(q.bit(1).not(), q.bit(0), lit(1, 1)).asSigned();
    return packed.mul(level).resize(W);
  });
  const T = m.let(`${tag}_t_l${l}`, sumTree(prods, W));
  const [lo, high] = splitPairSum(T, PACK_SHIFT);
  return [m.let(`${tag}_p0_l${l}`, lo.resize(pBits)), m.let(`${tag}_p1_l${l}`, high.resize(pBits))];
}
