/**
 * Prefill GEMM on the DSP array (docs/llm-engine.md#prefill-mode-issue-15): Y[t] = W x[t] for a block of `tokens`
 * tokens, weights stationary. Each weight word (one row block, one column step) is read once and held while the
 * block's token pairs pass through the DSP datapath (dsp-array.ts), one pair per cycle; per lane and token the
 * column-step sums add up to a group sum, which is multiplied by the lane's group scale and added to the token's
 * accumulator. At the end of a row block its accumulators stream out, one token per beat, from one of two banks
 * while the next row block accumulates into the other (the consumer waits only if a row block ends before the
 * previous one has left: with fewer column steps x pairs than tokens).
 *
 * Streams (valid/ready):
 *   job  in  nColSteps | nRowBlocks << colStepBits                      one per matrix
 *   x    in  {x[2p+1], x[2p]} column slices (cols int8 each)            colSteps x tokens/2 beats, before the weights
 *   w    in  one weight word per (row block, column step)               dsp-array's layout (quad fields or codes)
 *   s    in  lanes scale codes per (row block, group)                   consumed with the group's last column step
 *   y    out lanes signed accBits accumulators for one token            rowBlocks x tokens beats (token order)
 */
import { Module, cat, lit, mux, type Expr, type Memory } from '../../hdl';
import { ConfigError, bitsFor, clog2, requireInt } from '../../util/errors';
import { dspArrayGeometry, dspArrayModule, type DspArrayConfig } from './dsp-array';

export interface PrefillGemmConfig extends DspArrayConfig {
  /** Tokens per block (even: the DSPs take them in pairs). */
  tokens: number;
  group: number;
  scaleBits: number;
  accBits: number;
  maxCols: number;
  maxRows: number;
}

export function prefillGemmGeometry(c: PrefillGemmConfig) {
  const g = dspArrayGeometry(c);
  requireInt('tokens', c.tokens, 2, 1024);
  if (c.tokens % 2) throw new ConfigError('tokens', 'must be even (the DSP array takes tokens in pairs)', c.tokens);
  if (c.group % g.cols) throw new ConfigError('group', `must be a multiple of the DSP array's ${g.cols} columns per step`, c.group);
  const stepsPerGroup = c.group / g.cols;
  const maxColSteps = Math.ceil(c.maxCols / c.group) * stepsPerGroup;
  const maxRowBlocks = Math.ceil(c.maxRows / c.lanes);
  const pairs = c.tokens / 2;
  return { ...g, stepsPerGroup, maxColSteps, maxRowBlocks, pairs, colStepBits: bitsFor(maxColSteps), rowBlockBits: bitsFor(maxRowBlocks), sumBits: g.dotBits + bitsFor(stepsPerGroup) };
}

const IDLE = 0;
const LOADX = 1;
const RUN = 2;

export function prefillGemmModule(c: PrefillGemmConfig, name = 'prefill_gemm'): Module {
  const g = prefillGemmGeometry(c);
  const m = new Module(name, { doc: `prefill GEMM: ${c.tokens} tokens per weight pass on ${c.lanes} x ${c.dspPerLane} DSP48E2${c.sparse ? ' (2:4)' : ''}` });
  const job = m.streamIn('job', g.colStepBits + g.rowBlockBits);
  const x = m.streamIn('x', 2 * g.xBits);
  const w = m.streamIn('w', g.wBits);
  const s = m.streamIn('s', c.lanes * c.scaleBits);
  const y = m.streamOut('y', c.lanes * c.accBits);
  const dp = dspArrayModule(c, `${name}_dsp`);
  const dIn = { valid: m.wire('dp_in_valid', 1), ready: m.wire('dp_in_ready', 1), data: m.wire('dp_in_data', g.inBits) };
  const dOut = { valid: m.wire('dp_y_valid', 1), ready: m.wire('dp_y_ready', 1), data: m.wire('dp_y_data', g.yBits) };
  m.instance(dp, 'u_dsp', { in_valid: dIn.valid, in_ready: dIn.ready, in_data: dIn.data, y_valid: dOut.valid, y_ready: dOut.ready, y_data: dOut.data });

  const xAddrBits = Math.max(1, clog2(g.maxColSteps * g.pairs));
  const pairBits = Math.max(1, clog2(g.pairs));
  const tokBits = Math.max(1, clog2(c.tokens));
  const gsBits = Math.max(1, clog2(g.stepsPerGroup));
  const state = m.reg('state', 2, { init: IDLE });
  const lastStep = m.reg('last_step', g.colStepBits, { init: 0 });
  const lastRb = m.reg('last_rb', g.rowBlockBits, { init: 0 });
  const xbuf = m.memory('xbuf', 2 * g.xBits, g.maxColSteps * g.pairs);
  const xa = m.reg('x_addr', xAddrBits, { init: 0 });

  // ---- job and x load ----
  m.assign(job.ready, state.eq(IDLE));
  m.assign(x.ready, state.eq(LOADX));
  const nSteps = job.data.slice(g.colStepBits - 1, 0);
  const nRb = job.data.slice(g.colStepBits + g.rowBlockBits - 1, g.colStepBits);
  const xEnd = m.let('x_end', xa.eq(lastStep.zext(xAddrBits).mul(lit(g.pairs, bitsFor(g.pairs))).resize(xAddrBits).add(lit(g.pairs - 1, xAddrBits))));

  // ---- feeder: (row block, column step, pair) into the datapath; the weight word is held for all pairs ----
  const fStep = m.reg('f_step', g.colStepBits, { init: 0 });
  const fPair = m.reg('f_pair', pairBits, { init: 0 });
  const fRb = m.reg('f_rb', g.rowBlockBits, { init: 0 });
  const fDone = m.reg('f_done', 1, { init: 1 });
  const wHold = m.reg('w_hold', g.wBits);
  const first = m.let('f_first', fPair.eq(0));
  const feeding = m.let('feeding', state.eq(RUN).and(fDone.not()));
  m.assign(dIn.valid, feeding.and(first.not().or(w.valid)));
  m.assign(w.ready, feeding.and(first).and(dIn.ready));
  const fFire = m.let('f_fire', dIn.valid.and(dIn.ready));
  const xRead = xbuf.read(fStep.zext(xAddrBits).mul(lit(g.pairs, bitsFor(g.pairs))).resize(xAddrBits).add(fPair.zext(xAddrBits)));
  m.assign(dIn.data, cat(xRead, mux(first, w.data, wHold)));

  // ---- consumer: datapath sums into group sums and accumulators; the accumulators stream out per row block ----
  const cStep = m.reg('c_step', g.colStepBits, { init: 0 });
  const cGs = m.reg('c_gs', gsBits, { init: 0 });
  const cPair = m.reg('c_pair', pairBits, { init: 0 });
  const out = m.reg('out_phase', 1, { init: 0 });
  const oTok = m.reg('o_tok', tokBits, { init: 0 });
  const oRb = m.reg('o_rb', g.rowBlockBits, { init: 0 });
  const cBank = m.reg('c_bank', 1, { init: 0 });
  const oBank = m.reg('o_bank', 1, { init: 0 });
  const sHold = m.reg('s_hold', c.lanes * c.scaleBits);
  const groupLast = m.let('c_group_last', cGs.eq(g.stepsPerGroup - 1));
  const needS = m.let('c_need_s', groupLast.and(cPair.eq(0)));
  // the beat that ends a row block hands its bank to the output, so it waits while the other bank is still leaving
  const rowEnd = m.let('c_row_end', cStep.eq(lastStep).and(cPair.eq(g.pairs - 1)));
  const consuming = m.let('consuming', state.eq(RUN).and(rowEnd.and(out).not()));
  m.assign(dOut.ready, consuming.and(needS.not().or(s.valid)));
  m.assign(s.ready, consuming.and(needS).and(dOut.valid));
  const cFire = m.let('c_fire', dOut.valid.and(dOut.ready));
  const scale = mux(needS, s.data, sHold);
  const firstGroup = m.let('c_first_group', cStep.lt(lit(g.stepsPerGroup, g.colStepBits)));

  const gsum: Memory[][] = [[], []];
  /** acc[bank][parity][lane] */
  const acc: Memory[][][] = [[[], []], [[], []]];
  const writes: Array<{ mem: Memory; data: Expr; when: Expr }> = [];
  for (let par = 0; par < 2; par++)
    for (let l = 0; l < c.lanes; l++) {
      const gm = m.memory(`gsum${par}_${l}`, g.sumBits, g.pairs);
      const am = [0, 1].map((bk) => m.memory(`acc${bk}_${par}_${l}`, c.accBits, g.pairs));
      gsum[par]!.push(gm);
      am.forEach((mm, bk) => acc[bk]![par]!.push(mm));
      const part = dOut.data.slice((par * c.lanes + l + 1) * g.dotBits - 1, (par * c.lanes + l) * g.dotBits).asSigned().sext(g.sumBits);
      const prevG = mux(cGs.eq(0), lit(0, g.sumBits, true), gm.read(cPair).asSigned());
      const gNew = m.let(`g_new${par}_${l}`, prevG.add(part));
      const sc = scale.slice((l + 1) * c.scaleBits - 1, l * c.scaleBits).zext(c.scaleBits + 1).asSigned();
      const prod = gNew.mul(sc).resize(c.accBits);
      const prevA = mux(firstGroup, lit(0, c.accBits, true), mux(cBank, am[1]!.read(cPair), am[0]!.read(cPair)).asSigned());
      const aNew = m.let(`a_new${par}_${l}`, prevA.add(prod));
      writes.push({ mem: gm, data: gNew, when: groupLast.not() }, { mem: am[0]!, data: aNew, when: groupLast.and(cBank.not()) }, { mem: am[1]!, data: aNew, when: groupLast.and(cBank) });
    }
  // output beat: token oTok = 2 * pair + parity
  const oPar = oTok.bit(0);
  const oPair = c.tokens > 2 ? oTok.slice(tokBits - 1, 1) : lit(0, 1);
  m.assign(y.valid, out);
  const rd = (bk: number, l: number) => mux(oPar, acc[bk]![1]![l]!.read(oPair), acc[bk]![0]![l]!.read(oPair));
  m.assign(y.data, cat(...Array.from({ length: c.lanes }, (_, i) => c.lanes - 1 - i).map((l) => mux(oBank, rd(1, l), rd(0, l)))));
  const yFire = m.let('y_fire', out.and(y.ready));

  m.sync((b) => {
    b.switch(state, [
      [
        IDLE,
        (t) =>
          t.if(job.valid.and(nSteps.ne(0)).and(nRb.ne(0)), (u) => {
            u.set(lastStep, nSteps.sub(1)).set(lastRb, nRb.sub(1)).set(xa, 0).set(state, LOADX);
            u.set(fStep, 0).set(fPair, 0).set(fRb, 0).set(fDone, 0);
            u.set(cStep, 0).set(cGs, 0).set(cPair, 0).set(out, 0).set(oTok, 0).set(oRb, 0).set(cBank, 0).set(oBank, 0);
          }),
      ],
      [LOADX, (t) => t.if(x.valid, (u) => u.write(xbuf, xa, x.data).set(xa, xa.add(1)).if(xEnd, (v) => v.set(state, RUN)))],
      [
        RUN,
        (t) => {
          t.if(fFire, (u) => {
            u.if(first, (v) => v.set(wHold, w.data));
            u.if(
              fPair.eq(g.pairs - 1),
              (v) => {
                v.set(fPair, 0);
                v.if(
                  fStep.eq(lastStep),
                  (q) => q.set(fStep, 0).if(fRb.eq(lastRb), (r) => r.set(fDone, 1), (r) => r.set(fRb, fRb.add(1))),
                  (q) => q.set(fStep, fStep.add(1)),
                );
              },
              (v) => v.set(fPair, fPair.add(1)),
            );
          });
          t.if(cFire, (u) => {
            u.if(needS, (v) => v.set(sHold, s.data));
            for (const wr of writes) u.if(wr.when, (v) => v.write(wr.mem, cPair, wr.data));
            u.if(
              cPair.eq(g.pairs - 1),
              (v) => {
                v.set(cPair, 0);
                v.if(groupLast, (q) => q.set(cGs, 0), (q) => q.set(cGs, cGs.add(1)));
                v.if(
                  cStep.eq(lastStep),
                  (q) => q.set(cStep, 0).set(out, 1).set(oBank, cBank).set(cBank, cBank.not()),
                  (q) => q.set(cStep, cStep.add(1)),
                );
              },
              (v) => v.set(cPair, cPair.add(1)),
            );
          });
          t.if(yFire, (u) =>
            u.if(
              oTok.eq(c.tokens - 1),
              (v) => v.set(oTok, 0).set(out, 0).if(oRb.eq(lastRb), (q) => q.set(state, IDLE), (q) => q.set(oRb, oRb.add(1))),
              (v) => v.set(oTok, oTok.add(1)),
            ),
          );
        },
      ],
    ]);
  });
  return m;
}
