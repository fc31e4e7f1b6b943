/**
 * The W2A8 GEMV unit: y = A x for 2-bit group-scaled weights and int8 x (formats: docs/formats.md#gemv).
 *
 * Streams (valid/ready, docs/architecture.md#streams):
 *   job  in   nGroups | nRowBlocks << groupCountBits     one word per matrix
 *             (| reuse << (groupCountBits+rowBlockCountBits) when cfg.xReuse: keep the buffered x, no x beats)
 *   x    in   simd int8 values per beat                 nGroups * stepsPerGroup beats, loaded before the weights
 *   w    in   lanes*simd 2-bit codes per beat           nRowBlocks * nGroups * stepsPerGroup beats
 *   s    in   lanes scale codes per beat                consumed together with the last w beat of each group
 *   y    out  lanes signed outputs per beat             one beat per row block
 * With cfg.tokens > 1 (prefill) the job also carries count-1 above the reuse bit: x holds that many vectors
 * (token-major), every w word is held while each token's x passes it (one token per cycle) and y gives one beat
 * per row block and token (token order); the group and row accumulators are small memories indexed by token.
 *
 * Pipeline (all stages advance together while `en`; en drops only when a finished y word cannot leave):
 *   S0 handshake w(+s), read x buffer   S1 per-lane 2q-3 dot product over simd columns   S2 group accumulate
 *   S3 scale multiply   S4 row accumulate   S5 round/saturate into the y register.
 * With nothing stalling it, the unit consumes one w word every cycle of a job.
 */
import { Module, cat, lit, mux, sumTree, type Block, type Expr, type Signal } from '../../hdl';
import { bitsFor, clog2 } from '../../util/errors';
import { MAX_PRODUCT, xBufAddrBits, xBufWords, type GemvConfig } from './config';
import { dspLanePair, dspPackHigh } from './dsp-half';
import { QUAD, QUAD_FIELD_BITS } from './sparse';

const IDLE = 0;
const LOADX = 1;
const RUN = 2;

/**
 * One lane's 2:4 dot product over a weight word: per quad field (sparse.ts) select the x of the two kept positions
 * from the pattern, then sum (2q-3) x = 2 q0 x + 4 q1 x - 3 x over the simd/2 selected values; the pruned products
 * are never formed.
 */
function sparseLaneSum(m: Module, l: number, w1: Expr, xs: Expr[], pBits: number): Expr {
  const quads = xs.length / QUAD;
  const zero = lit(0, 8, true);
  const sel: Expr[] = [];
  const q0: Expr[] = [];
  const q1: Expr[] = [];
  for (let k = 0; k < quads; k++) {
    const base = QUAD_FIELD_BITS * (l * quads + k);
    const pat = w1.slice(base + 6, base + 4);
    const x = (p: number) => xs[QUAD * k + p]!;
    // first kept position: 0 for patterns 0-2, 1 for 3-4, 2 for 5; second: 1 for 0, 2 for 1 and 3, 3 otherwise
    const first = mux(pat.lt(3), x(0), mux(pat.lt(5), x(1), x(2)));
    const second = mux(pat.eq(0), x(1), mux(pat.eq(1).or(pat.eq(3)), x(2), x(3)));
    for (const [i, xv] of [first, second].entries()) {
      const v = m.let(`xs_l${l}_q${k}_${i}`, xv);
      sel.push(v);
      q0.push(mux(w1.bit(base + 2 * i), v, zero));
      q1.push(mux(w1.bit(base + 2 * i + 1), v, zero));
    }
  }
  const sx = sumTree(sel, pBits);
  return m.let(`p_lane${l}`, sumTree(q0, pBits).shl(1).add(sumTree(q1, pBits).shl(2)).sub(sx.shl(1).add(sx)));
}

export function gemvModule(cfg: GemvConfig, name = 'gemv'): Module {
  const m = new Module(name, {
    doc:
      `W2A8 GEMV unit: lanes=${cfg.lanes} simd=${cfg.simd} group=${cfg.group} scaleBits=${cfg.scaleBits} ` +
      `accBits=${cfg.accBits} out=${cfg.outBits}b>>${cfg.outShift} maxCols=${cfg.maxCols} maxRows=${cfg.maxRows}` +
      (cfg.sparse ? ` 2:4 sparse (${cfg.macsPerLane} products per lane)` : ''),
  });
  const { lanes, simd } = cfg;
  const job = m.streamIn('job', cfg.jobBits);
  const ext = cfg.xExternal;
  const x = ext ? undefined : m.streamIn('x', cfg.xPortBits);
  const w = m.streamIn('w', cfg.weightPortBits);
  const s = m.streamIn('s', cfg.scalePortBits);
  const y = m.streamOut('y', cfg.yPortBits);

  // ---- control -------------------------------------------------------------------------------
  const gcb = cfg.groupCountBits;
  const rcb = cfg.rowBlockCountBits;
  const stepBits = bitsFor(cfg.stepsPerGroup - 1);
  const addrBits = Math.max(1, clog2(cfg.maxColSteps));
  const state = m.reg('state', 2, { init: IDLE });
  const lastGroupIdx = m.reg('last_group_idx', gcb, { init: 0 });
  const lastRowBlock = m.reg('last_row_block', rcb, { init: 0 });
  const step = m.reg('step_in_group', stepBits, { init: 0 });
  const groupIdx = m.reg('group_idx', gcb, { init: 0 });
  const colStep = m.reg('col_step', addrBits, { init: 0 });
  const rowBlock = m.reg('row_block', rcb, { init: 0 });
  const multi = cfg.tokens > 1;
  const tkb = Math.max(1, cfg.tokenCountBits);
  const tokIdx = m.reg('tok_idx', tkb, { init: 0 });
  const lastTok = m.reg('last_tok', tkb, { init: 0 });
  /** Held: a later token of the block passes the weight word fetched for token 0. */
  const hold = multi ? m.let('hold_w', tokIdx.ne(0)) : lit(0, 1);
  const lastTokNow = multi ? m.let('last_tok_now', tokIdx.eq(lastTok)) : lit(1, 1);
  // DSP half: K tokens per product step (token tokIdx on the LUT lanes, the next ones on the DSPs); slot = step index
  const K = cfg.tokensPerStep;
  const slotBits = K > 1 ? Math.max(1, clog2(Math.ceil(cfg.tokens / K))) : tkb;
  const slot = K > 1 ? m.reg('slot_idx', slotBits, { init: 0 }) : undefined;
  const lastSlotNow = K > 1 ? m.let('last_slot_now', tokIdx.zext(tkb + 2).add(lit(K - 1, tkb + 2)).ge(lastTok.zext(tkb + 2))) : lastTokNow;

  const yValid = m.reg('y_valid_r', 1, { init: 0 });
  const yData = m.reg('y_data_r', cfg.yPortBits);
  m.assign(y.valid, yValid);
  m.assign(y.data, yData);
  // DSP half: the step's tokens still to leave through y after the first (K - 1 bits)
  const rem = cfg.tokensPerStep > 1 ? m.reg('y_rem', cfg.tokensPerStep - 1, { init: 0 }) : undefined;
  const en = rem
    ? m.let('en', yValid.and(y.ready.not()).not().and(rem.any().not()))
    : m.let('en', yValid.and(y.ready.not()).not());

  const inState = (v: number) => state.eq(v);
  const lastInGroup = m.let('last_in_group', step.eq(cfg.stepsPerGroup - 1));
  const lastGroup = m.let('last_group', groupIdx.eq(lastGroupIdx));
  const endOfRow = m.let('end_of_row', lastInGroup.and(lastGroup));

  m.assign(job.ready, inState(IDLE));
  if (x) m.assign(x.ready, inState(LOADX));
  const running = m.let('running', inState(RUN).and(en));
  m.assign(w.ready, running.and(hold.not()).and(lastInGroup.not().or(s.valid)));
  m.assign(s.ready, running.and(hold.not()).and(lastInGroup).and(w.valid));
  const fireW = m.let('fire_w', w.valid.and(w.ready));
  // one product step: a fetched weight word (token 0) or a held one (later tokens)
  const go = multi ? m.let('go', fireW.or(running.and(hold))) : fireW;

  const jobGroups = job.data.slice(gcb - 1, 0);
  const jobRows = job.data.slice(gcb + rcb - 1, gcb);

  /** Advance the (step, group, column) counters; shared by LOADX and RUN. */
  const advance = (b: Block) => {
    b.if(lastInGroup, (t) => t.set(step, 0), (e) => e.set(step, step.add(1)));
    b.if(endOfRow, (t) => t.set(colStep, 0), (e) => e.set(colStep, colStep.add(1)));
    b.if(lastInGroup, (t) => t.if(lastGroup, (u) => u.set(groupIdx, 0), (u) => u.set(groupIdx, groupIdx.add(1))));
  };

  const xDepth = xBufWords(cfg);
  const xbuf = ext ? undefined : m.memory('xbuf', cfg.xPortBits, xDepth);
  const xaW = xBufAddrBits(cfg);
  const xAddr = multi
    ? m.let('x_addr', tokIdx.zext(xaW).mul(lit(cfg.maxColSteps, xaW)).resize(xaW).add(colStep.zext(xaW)))
    : colStep;
  // x of the step's j-th token: the unit's buffer, or (xExternal) the engine's memory through x_raddr / x_rdata<j>
  const xIn = ext ? Array.from({ length: K }, (_, j) => m.input(`x_rdata${j}`, cfg.xPortBits)) : [];
  if (ext) m.assign(m.output('x_raddr', xaW), xAddr);
  const xRead = (j: number): Expr => (ext ? xIn[j]! : xbuf!.read(j === 0 ? xAddr : xAddr.add(lit(j * cfg.maxColSteps, xaW))));
  /** After the last column of a row: the next token's x (LOADX) or product steps (RUN), or done with the tokens. */
  const nextTok = (b: Block, done: (d: Block) => void) => {
    if (!multi) return done(b);
    b.if(lastTokNow, (t) => {
      t.set(tokIdx, 0);
      done(t);
    }, (e) => e.set(tokIdx, tokIdx.add(1)));
  };
  /** RUN with the DSP half: the next K tokens, or done with the tokens. */
  const nextSlot = (b: Block, done: (d: Block) => void) => {
    if (K === 1) return nextTok(b, done);
    b.if(lastSlotNow, (t) => {
      t.set(tokIdx, 0).set(slot!, 0);
      done(t);
    }, (e) => e.set(tokIdx, tokIdx.zext(tkb + 2).add(lit(K, tkb + 2)).resize(tkb)).set(slot!, slot!.add(1)));
  };
  m.sync((b) => {
    b.switch(state, [
      [
        IDLE,
        (c) =>
          c.if(job.valid.and(jobGroups.ne(0)).and(jobRows.ne(0)), (t) => {
            t.set(lastGroupIdx, jobGroups.sub(1));
            t.set(lastRowBlock, jobRows.sub(1));
            t.set(step, 0).set(groupIdx, 0).set(colStep, 0).set(rowBlock, 0);
            if (multi) t.set(lastTok, job.data.slice(gcb + rcb + tkb, gcb + rcb + 1)).set(tokIdx, 0);
            if (slot) t.set(slot, 0);
            if (ext) t.set(state, RUN);
            else if (cfg.xReuse) t.if(job.data.bit(gcb + rcb), (u) => u.set(state, RUN), (u) => u.set(state, LOADX));
            else t.set(state, LOADX);
          }),
      ],
      [
        LOADX,
        (c) =>
          c.if(x ? x.valid : lit(0, 1), (t) => {
            if (x && xbuf) t.write(xbuf, xAddr, x.data);
            advance(t);
            t.if(endOfRow, (u) => nextTok(u, (d) => d.set(state, RUN)));
          }),
      ],
      [
        RUN,
        (c) =>
          c.if(go, (t) =>
            nextSlot(t, (d) => {
              advance(d);
              d.if(endOfRow, (u) =>
                u.if(rowBlock.eq(lastRowBlock), (v) => v.set(rowBlock, 0).set(state, IDLE), (v) => v.set(rowBlock, rowBlock.add(1))),
              );
            }),
          ),
      ],
    ]);
  }, 'control');

  // ---- S0 -> S1: register the weight word, flags and scales; read the x buffer ----------------
  const v1 = m.reg('v1', 1, { init: 0 });
  const w1 = m.reg('w1', cfg.weightPortBits);
  const s1 = m.reg('s1', cfg.scalePortBits);
  const first1 = m.reg('first_in_group1', 1);
  const last1 = m.reg('last_in_group1', 1);
  const firstG1 = m.reg('first_group1', 1);
  const lastG1 = m.reg('last_group1', 1);
  const x1 = m.reg('x1', cfg.xPortBits);
  // token index of each pipeline stage (prefill units only)
  const tk = (n: number) => (multi ? m.reg(`tok${n}`, slotBits, { init: 0 }) : undefined);
  const [t1, t2, t3, t4] = [tk(1), tk(2), tk(3), tk(4)];
  // DSP half: the other tokens' x and which of them exist (a partial last step), per stage
  const xd1 = Array.from({ length: K - 1 }, (_, j) => m.reg(`x1_d${j + 1}`, cfg.xPortBits));
  const mk = (n: number) => (K > 1 ? m.reg(`dmask${n}`, K - 1, { init: 0 }) : undefined);
  const [dm1, dm2, dm3, dm4, dm5] = [mk(1), mk(2), mk(3), mk(4), mk(5)];
  const dMaskNow =
    K > 1 ? cat(...Array.from({ length: K - 1 }, (_, j) => tokIdx.zext(tkb + 2).add(lit(j + 1, tkb + 2)).le(lastTok.zext(tkb + 2))).reverse()) : undefined;
  m.sync((b) =>
    b.if(en, (t) => {
      t.set(v1, go);
      if (multi) {
        t.if(hold.not(), (u) => u.set(w1, w.data).set(s1, s.data));
        t.set(t1!, slot ?? tokIdx);
      } else t.set(w1, w.data).set(s1, s.data);
      t.set(first1, step.eq(0)).set(last1, lastInGroup);
      t.set(firstG1, groupIdx.eq(0)).set(lastG1, lastGroup);
      t.set(x1, xRead(0));
      xd1.forEach((r, j) => t.set(r, xRead(j + 1)));
      if (dm1) t.set(dm1, dMaskNow!);
    }),
  'stage0');

  // ---- S1 -> S2: per-lane sum_j (2q-3) x_j = 2*A + 4*B - 3*sum(x), with A = sum q0*x, B = sum q1*x ------
  const pBits = bitsFor(MAX_PRODUCT * simd) + 1;
  const xs: Expr[] = [];
  for (let j = 0; j < simd; j++) xs.push(m.let(`xj${j}`, x1.slice(8 * j + 7, 8 * j).asSigned()));
  // Dense: the -3*sum(x) term is shared by every lane. 2:4: each lane sums its own selected x (sparseLaneSum).
  const sumX = cfg.sparse ? undefined : m.let('sum_x', sumTree(xs, pBits));
  const threeSumX = sumX ? m.let('three_sum_x', sumX.shl(1).add(sumX)) : lit(0, pBits, true);
  const zero = lit(0, 8, true);
  const v2 = m.reg('v2', 1, { init: 0 });
  const first2 = m.reg('first_in_group2', 1);
  const last2 = m.reg('last_in_group2', 1);
  const firstG2 = m.reg('first_group2', 1);
  const lastG2 = m.reg('last_group2', 1);
  const s2 = m.reg('s2', cfg.scalePortBits);
  const p2: Signal[] = [];
  const pNext: Expr[] = [];
  for (let l = 0; l < lanes; l++) {
    if (cfg.sparse) pNext.push(sparseLaneSum(m, l, w1, xs, pBits));
    else {
      const q = (j: number, b: number) => w1.bit(2 * (l * simd + j) + b);
      const a = sumTree(xs.map((xj, j) => mux(q(j, 0), xj, zero)), pBits);
      const bb = sumTree(xs.map((xj, j) => mux(q(j, 1), xj, zero)), pBits);
      pNext.push(m.let(`p_lane${l}`, a.shl(1).add(bb.shl(2)).sub(threeSumX)));
    }
    p2.push(m.reg(`p2_${l}`, pBits, { signed: true }));
  }
  // DSP half: tokens 1..K-1 of the step, two per DSP (p2d[k-1][lane])
  const p2d: Signal[][] = [];
  const pdNext: Expr[][] = [];
  for (let k = 1; k < K; k += 2) {
    const xsOf = (r: Signal, tag: string) => Array.from({ length: simd }, (_, j) => m.let(`${tag}_j${j}`, r.slice(8 * j + 7, 8 * j).asSigned()));
    const [xa, xb] = [xsOf(xd1[k - 1]!, `xd${k}`), xsOf(xd1[k]!, `xd${k + 1}`)];
    const hi = dspPackHigh(m, xa, xb, `dsp${k}`);
    const pair = Array.from({ length: lanes }, (_, l) => dspLanePair(m, cfg, l, w1, xa, hi, pBits, `dsp${k}`));
    for (const t of [0, 1]) {
      pdNext.push(pair.map((p) => p[t]!));
      p2d.push(Array.from({ length: lanes }, (_, l) => m.reg(`p2_d${k + t}_${l}`, pBits, { signed: true })));
    }
  }
  m.sync((b) =>
    b.if(en, (t) => {
      t.set(v2, v1).set(first2, first1).set(last2, last1).set(firstG2, firstG1).set(lastG2, lastG1).set(s2, s1);
      if (multi) t.set(t2!, t1!);
      p2.forEach((p, l) => t.set(p, pNext[l]!));
      p2d.forEach((row, k) => row.forEach((p, l) => t.set(p, pdNext[k]![l]!)));
      if (dm2) t.set(dm2, dm1!);
    }),
  'stage1');

  // ---- S2 -> S3: accumulate over the group; emit the group sum at its last step -----------------
  // (with the DSP half every per-token register and accumulator word below exists for each of the step's K tokens)
  const nm = (base: string, k: number, l: number) => (k ? `${base}_d${k}_${l}` : `${base}_${l}`);
  const pAll = [p2, ...p2d];
  const gBits = cfg.groupSumBits;
  const v3 = m.reg('v3', 1, { init: 0 });
  const firstG3 = m.reg('first_group3', 1);
  const lastG3 = m.reg('last_group3', 1);
  const s3 = m.reg('s3', cfg.scalePortBits);
  const gacc: Signal[] = [];
  const gd3: Signal[][] = [];
  const gsum: Expr[] = [];
  // per-token accumulators (prefill): one word of every lane's sum per token (per step: K tokens), read and written
  // at the stage's token
  const gMem = multi ? m.memory('gacc_mem', K * lanes * gBits, Math.ceil(cfg.tokens / K)) : undefined;
  const gRd = gMem ? m.let('gacc_rd', gMem.read(t2!)) : undefined;
  for (let k = 0; k < K; k++) {
    gd3.push([]);
    for (let l = 0; l < lanes; l++) {
      if (!gRd) gacc.push(m.reg(`gacc_${l}`, gBits, { signed: true }));
      gd3[k]!.push(m.reg(nm('gd3', k, l), gBits, { signed: true }));
      const at = gBits * (k * lanes + l);
      const prev = gRd ? gRd.slice(at + gBits - 1, at).asSigned() : gacc[l]!;
      gsum.push(m.let(nm('gsum', k, l), mux(first2, lit(0, gBits, true), prev).add(pAll[k]![l]!.sext(gBits))));
    }
  }
  m.sync((b) =>
    b.if(en, (t) => {
      t.set(v3, v2.and(last2)).set(firstG3, firstG2).set(lastG3, lastG2).set(s3, s2);
      if (multi) t.set(t3!, t2!);
      if (dm3) t.set(dm3, dm2!);
      if (gMem) t.if(v2, (u) => u.write(gMem, t2!, cat(...[...gsum].reverse().map((g) => g.asUnsigned()))));
      for (let k = 0; k < K; k++)
        for (let l = 0; l < lanes; l++) {
          if (!gMem) t.if(v2, (u) => u.set(gacc[l]!, gsum[l]!));
          t.set(gd3[k]![l]!, gsum[k * lanes + l]!);
        }
    }),
  'stage2');

  // ---- S3 -> S4: multiply each group sum by its scale code -------------------------------------
  const sb = cfg.scaleBits;
  const v4 = m.reg('v4', 1, { init: 0 });
  const firstG4 = m.reg('first_group4', 1);
  const lastG4 = m.reg('last_group4', 1);
  const m4: Signal[][] = [];
  for (let k = 0; k < K; k++) m4.push(Array.from({ length: lanes }, (_, l) => m.reg(nm('m4', k, l), cfg.accBits, { signed: true })));
  m.sync((b) =>
    b.if(en, (t) => {
      t.set(v4, v3).set(firstG4, firstG3).set(lastG4, lastG3);
      if (multi) t.set(t4!, t3!);
      if (dm4) t.set(dm4, dm3!);
      for (let k = 0; k < K; k++)
        for (let l = 0; l < lanes; l++) {
          const scale = s3.slice(sb * l + sb - 1, sb * l).zext(sb + 1).asSigned();
          t.set(m4[k]![l]!, gd3[k]![l]!.mul(scale).resize(cfg.accBits));
        }
    }),
  'stage3');

  // ---- S4 -> S5: accumulate the row; S5 -> y: round half up, saturate -------------------------
  const A = cfg.accBits;
  const v5 = m.reg('v5', 1, { init: 0 });
  const racc: Signal[] = [];
  const r5: Signal[][] = [];
  const rMem = multi ? m.memory('racc_mem', K * lanes * A, Math.ceil(cfg.tokens / K)) : undefined;
  const rRd = rMem ? m.let('racc_rd', rMem.read(t4!)) : undefined;
  for (let k = 0; k < K; k++) {
    r5.push([]);
    for (let l = 0; l < lanes; l++) {
      if (!rRd) racc.push(m.reg(`racc_${l}`, A, { signed: true }));
      r5[k]!.push(m.reg(nm('r5', k, l), A, { signed: true }));
    }
  }
  m.sync((b) =>
    b.if(en, (t) => {
      t.set(v5, v4.and(lastG4));
      if (dm5) t.set(dm5, dm4!.and(mux(v4.and(lastG4), lit((1 << (K - 1)) - 1, K - 1), lit(0, K - 1))));
      const sums: Expr[] = [];
      for (let k = 0; k < K; k++)
        for (let l = 0; l < lanes; l++) {
          const at = A * (k * lanes + l);
          const prev = rRd ? rRd.slice(at + A - 1, at).asSigned() : racc[l]!;
          const sum = m.let(nm('rsum', k, l), mux(firstG4, lit(0, A, true), prev).add(m4[k]![l]!));
          sums.push(sum);
          if (!rMem) t.if(v4, (u) => u.set(racc[l]!, sum));
          t.set(r5[k]![l]!, sum);
        }
      if (rMem) t.if(v4, (u) => u.write(rMem, t4!, cat(...[...sums].reverse().map((x) => x.asUnsigned()))));
    }),
  'stage4');

  const hi = 2n ** BigInt(cfg.outBits - 1) - 1n;
  const outWord = (k: number) => {
    const outWords: Expr[] = [];
    for (let l = lanes - 1; l >= 0; l--) {
      const wide = r5[k]![l]!.sext(A + 1);
      const rounded = cfg.outShift === 0 ? wide : wide.add(lit(1n << BigInt(cfg.outShift - 1), A + 1, true)).shr(cfg.outShift);
      const sat = mux(rounded.gt(lit(hi, A + 1, true)), lit(hi, A + 1, true), mux(rounded.lt(lit(-hi - 1n, A + 1, true)), lit(-hi - 1n, A + 1, true), rounded));
      outWords.push(m.let(k ? `y_d${k}_lane${l}` : `y_lane${l}`, sat.slice(cfg.outBits - 1, 0)));
    }
    return cat(...outWords);
  };
  const yNext = outWord(0);
  if (K === 1) {
    m.sync((b) =>
      b.if(en, (t) => {
        t.set(yValid, v5);
        t.if(v5, (u) => u.set(yData, yNext));
      }),
    'output');
    return m;
  }
  // DSP half: a step's K row results leave one token per beat (token order); the pipeline waits while they do
  // (captured with token 0's: the next step's results overwrite r5 while these wait)
  const yDsp = Array.from({ length: K - 1 }, (_, j) => outWord(j + 1));
  const yHeld = Array.from({ length: K - 1 }, (_, j) => m.reg(`y_held${j + 1}`, cfg.yPortBits));
  m.sync((b) =>
    b.if(
      en,
      (t) => {
        t.set(yValid, v5);
        t.if(v5, (u) => {
          u.set(yData, yNext);
          yHeld.forEach((r, j) => u.set(r, yDsp[j]!));
        });
        t.set(rem!, dm5!);
      },
      (e) =>
        e.if(rem!.any().and(yValid.not().or(y.ready)), (u) => {
          u.set(yValid, 1);
          // the lowest pending token goes next
          const pick = (c: Block, j: number): void => {
            if (j === K - 1) return;
            const keep = rem!.and(lit(((1 << (K - 1)) - 1) ^ (1 << j), K - 1));
            c.if(rem!.bit(j), (v) => v.set(yData, yHeld[j]!).set(rem!, keep), (o) => pick(o, j + 1));
          };
          pick(u, 0);
        }),
    ),
  'output');
  return m;
}
