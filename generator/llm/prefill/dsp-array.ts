/**
 * The prefill DSP array's datapath (docs/llm-engine.md#prefill): per lane (one weight row) and cycle, the group
 * dot products of one column step for TWO tokens, with one DSP48E2 per (kept) weight. The 2-bit code q is the
 * shared operand and the two tokens' int8 activations are packed into the other (WP486, generator/lib/dsp-pack.ts),
 * so each DSP forms q * x_a and q * x_b; the level 2q - 3 follows as 2 * sum(q x) - 3 * sum(x).
 * With 2:4 weights (gemv/sparse.ts quad fields) each lane selects the x of its two kept positions per quad (4:1
 * multiplexers per token) and sums only those: dspPerLane DSPs cover 2 * dspPerLane columns, and the -3 * sum(x)
 * term is per lane. Dense, x is not selected and sum(x) is shared by all lanes.
 *
 * Streams: in = {xb, xa, w} (w lowest: the weight word, then cols int8 of token a, then of token b); y = {yb, ya},
 * lanes signed dotBits sums per token (lane 0 lowest). The pipeline has a fixed latency and no enable; a credit
 * counter admits a beat only when the output FIFO (depth >= latency) has room for it, so stalls on y never drop one.
 * The accumulation over column steps, the scale multiply and the per-token accumulators stay with the array's
 * controller (not built: see docs).
 */
import { Module, cat, mux, type Expr } from '../../hdl';
import { delay, pipelinedSum, register } from '../../lib/addtree';
import { dotProducts } from '../../lib/dsp-pack';
import { fifoModule } from '../../lib/fifo';
import { ConfigError, bitsFor, requireInt } from '../../util/errors';
import { QUAD, QUAD_FIELD_BITS } from '../gemv/sparse';

export interface DspArrayConfig {
  lanes: number;
  dspPerLane: number;
  sparse: boolean;
}

export function dspArrayGeometry(c: DspArrayConfig) {
  requireInt('lanes', c.lanes, 1, 4096);
  requireInt('dspPerLane', c.dspPerLane, 1, 1024);
  if (c.sparse && c.dspPerLane % 2) throw new ConfigError('dspPerLane', 'must be even with 2:4 weights (two kept weights per quad)', c.dspPerLane);
  const cols = c.sparse ? 2 * c.dspPerLane : c.dspPerLane;
  const wBits = c.sparse ? c.lanes * (c.dspPerLane / 2) * QUAD_FIELD_BITS : c.lanes * c.dspPerLane * 2;
  const xBits = 8 * cols;
  // |sum (2q-3) x| <= 3 * 128 * kept columns
  const dotBits = bitsFor(3 * 128 * c.dspPerLane) + 1;
  return { cols, wBits, xBits, inBits: wBits + 2 * xBits, dotBits, yBits: 2 * c.lanes * dotBits };
}

export function dspArrayModule(c: DspArrayConfig, name = 'prefill_dsp_array'): Module {
  const g = dspArrayGeometry(c);
  const m = new Module(name, { doc: `prefill DSP array: ${c.lanes} lanes x ${c.dspPerLane} DSP48E2 (two tokens each), ${g.cols} columns per step${c.sparse ? ', 2:4' : ''}` });
  const inp = m.streamIn('in', g.inBits);
  const y = m.streamOut('y', g.yBits);
  const A = g.dotBits + 2;
  const lps = 2;

  // stage 0: register the accepted beat
  const fire = m.let('fire', inp.valid.and(inp.ready));
  const v0 = register(m, 'v0', fire);
  const d0 = m.reg('d0', g.inBits);
  m.sync((b) => b.if(fire, (t) => t.set(d0, inp.data)));
  const w = d0.slice(g.wBits - 1, 0);
  const xOf = (tok: number, col: number) => d0.slice(g.wBits + tok * g.xBits + 8 * col + 7, g.wBits + tok * g.xBits + 8 * col).asSigned();

  const sums: Expr[][] = [[], []];
  let latency = 0;
  let sharedSx: Expr[] | undefined;
  for (let l = 0; l < c.lanes; l++) {
    const codes: Expr[] = [];
    const sel: Expr[][] = [[], []];
    if (c.sparse) {
      const quads = c.dspPerLane / 2;
      for (let k = 0; k < quads; k++) {
        const base = QUAD_FIELD_BITS * (l * quads + k);
        const pat = w.slice(base + 6, base + 4);
        for (let tok = 0; tok < 2; tok++) {
          const x = (p: number) => xOf(tok, QUAD * k + p);
          // first kept position: 0 for patterns 0-2, 1 for 3-4, 2 for 5; second: 1 for 0, 2 for 1 and 3, 3 otherwise
          sel[tok]!.push(m.let(`xs${tok}_l${l}_q${k}_0`, mux(pat.lt(3), x(0), mux(pat.lt(5), x(1), x(2)))));
          sel[tok]!.push(m.let(`xs${tok}_l${l}_q${k}_1`, mux(pat.eq(0), x(1), mux(pat.eq(1).or(pat.eq(3)), x(2), x(3)))));
        }
        codes.push(w.slice(base + 1, base), w.slice(base + 3, base + 2));
      }
    } else {
      for (let j = 0; j < c.dspPerLane; j++) {
        codes.push(w.slice(2 * (l * c.dspPerLane + j) + 1, 2 * (l * c.dspPerLane + j)));
        for (let tok = 0; tok < 2; tok++) sel[tok]!.push(xOf(tok, j));
      }
    }
    const dots = dotProducts(m, { prefix: `d${l}`, xs: codes, ws: sel, accBits: A, levelsPerStage: lps, packing: 'wp486' });
    // sum of the (selected) x per token: per lane with 2:4, once for the array when dense
    const sx =
      c.sparse || !sharedSx
        ? [0, 1].map((tok) => {
            const t = pipelinedSum(m, `sx${tok}_l${c.sparse ? l : 'all'}`, sel[tok]!.map((e) => e.sext(A)), lps, A);
            return delay(m, `sxd${tok}_l${c.sparse ? l : 'all'}`, t.sum, dots.latency - t.latency);
          })
        : sharedSx;
    if (!c.sparse) sharedSx = sx;
    for (let tok = 0; tok < 2; tok++) sums[tok]!.push(register(m, `y${tok}_l${l}`, dots.sums[tok]!.shl(1).sub(sx[tok]!.shl(1)).sub(sx[tok]!).resize(g.dotBits)));
    latency = dots.latency + 1;
  }
  const vOut = delay(m, 'vpipe', v0, latency);

  // output FIFO and credits: at most `depth` beats between acceptance and leaving the FIFO
  const depth = 2 ** Math.ceil(Math.log2(latency + 2));
  const f = fifoModule(`${name}_yfifo`, g.yBits, depth);
  const fo = { valid: m.wire('yf_valid', 1), data: m.wire('yf_data', g.yBits), count: m.wire('yf_count', bitsFor(depth)), inReady: m.wire('yf_in_ready', 1) };
  m.instance(f, 'u_yfifo', { in_valid: vOut, in_ready: fo.inReady, in_data: cat(...[...sums[1]!].reverse(), ...[...sums[0]!].reverse()), out_valid: fo.valid, out_ready: y.ready, out_data: fo.data, count: fo.count });
  m.assign(y.valid, fo.valid);
  m.assign(y.data, fo.data);
  const pending = m.reg('pending', bitsFor(depth), { init: 0 });
  const pop = m.let('pop', fo.valid.and(y.ready));
  m.assign(inp.ready, pending.ne(depth));
  m.sync((b) =>
    b.if(fire.and(pop.not()), (t) => t.set(pending, pending.add(1)), (e) => e.if(pop.and(fire.not()), (t) => t.set(pending, pending.sub(1)))),
  );
  return m;
}

/** Latency-free description for the resource report: DSP48E2s the array instantiates. */
export const dspArrayDsps = (c: DspArrayConfig): number => c.lanes * c.dspPerLane;
