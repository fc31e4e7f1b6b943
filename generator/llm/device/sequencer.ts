/**
 * The LLM device core: the decode engine fed by a weight sequencer from the on-board weight memory.
 *
 *   link memory bus (mem_cmd / mem_rsp) ──► region memories w, s, a, e (32-bit limb memories, layout.ts)
 *   tok (host channel: a block of 1..prefillBlock token beats) ──► step control ──► engine tok (with the count)
 *                          └─ starts three prefetching readers: w words, s words, aux beats
 *                             (per token a[0] and its embedding row from e, then a[1..]) ──► engine w / s / aux
 *   engine logits ──► argmax unit ──► next {id, top logit}    (one beat per step / block, cheap over a UART)
 *                 └─► logits channel when register logits_en = 1
 *
 * Each reader issues one read per cycle while it has credit (issued - consumed < fifoDepth); a read's data
 * arrives `latency` cycles later (latency - 1 request-pipeline stages model HBM/DDR, then the block-RAM read)
 * and lands in a FIFO deep enough to sustain one word per cycle. The memories have two ports: the readers'
 * and the link's (write + readback), like a true dual-port BRAM or an HBM pseudo-channel shared with XDMA.
 */
import { Module, cat, lit, mux, orAll, select, type Expr, type Signal } from '../../hdl';
import { fifoModule } from '../../lib/fifo';
import { bitsFor, clog2 } from '../../util/errors';
import { llmEngineModule } from '../engine/rtl';
import { axiBackend } from './sequencer-axi';
import { auxWalk, type BlockCtl } from './aux-walk';
import { REGIONS, type LlmDeviceConfig, type RegionName } from './layout';

const abits = (n: number): number => Math.max(1, clog2(n));
/** Bits hi..lo of x, or a 1-bit zero when the field is empty. */
const field = (x: Expr, hi: number, lo: number): Expr => (hi < lo ? lit(0, 1) : x.slice(hi, lo));

interface ReaderSpec {
  name: string;
  width: number;
  /** Request: wanted this cycle (before credit), address and optional tag (both delayed with the request). */
  want: Expr;
  addr: Expr;
  tag?: Expr;
  /** Registered reads at the delayed address, and the wide word from them (given the delayed tag). */
  read: (addr: Expr) => Expr[];
  assemble: (regs: Expr[], tag: Expr) => Expr;
  /** The consumer's stream (ready in, valid/data out). */
  out: { valid: Signal; ready: Signal; data: Signal };
}

/** Credit-based prefetching reader: returns the issue strobe (advance the address generator on it). */
function reader(m: Module, d: LlmDeviceConfig, r: ReaderSpec): Expr {
  const depth = d.fifoDepth;
  const pend = m.reg(`${r.name}_pend`, bitsFor(depth), { init: 0 });
  const issue = m.let(`${r.name}_issue`, r.want.and(pend.ne(depth)));
  const pop = r.out.valid.and(r.out.ready);
  const one = lit(1, pend.width);
  m.sync((b) => b.set(pend, mux(issue.and(pop.not()), pend.add(one), mux(pop.and(issue.not()), pend.sub(one), pend))));
  // Request pipeline: latency - 1 stages of (valid, addr, tag).
  const tag0 = r.tag ?? lit(0, 1);
  let v: Expr = issue;
  let a: Expr = r.addr;
  let t: Expr = tag0;
  for (let i = 0; i < d.latency - 1; i++) {
    const rv = m.reg(`${r.name}_rq${i}_v`, 1, { init: 0 });
    const ra = m.reg(`${r.name}_rq${i}_a`, a.width);
    const rt = m.reg(`${r.name}_rq${i}_t`, t.width);
    m.sync((b) => b.set(rv, v).set(ra, a).set(rt, t));
    v = rv;
    a = ra;
    t = rt;
  }
  const regs = r.read(a);
  const dv = m.reg(`${r.name}_dv`, 1, { init: 0 });
  const dt = m.reg(`${r.name}_dt`, t.width);
  m.sync((b) => b.set(dv, v).set(dt, t));
  const fifo = fifoModule(`${d.design}_${r.name}_fifo`, r.width, depth);
  const fw = (n: string, w: number) => m.wire(`${r.name}_f_${n}`, w);
  const F = { in_valid: fw('in_valid', 1), in_ready: fw('in_ready', 1), in_data: fw('in_data', r.width), out_valid: fw('out_valid', 1), out_ready: fw('out_ready', 1), out_data: fw('out_data', r.width), count: fw('count', bitsFor(depth)) };
  m.instance(fifo, `${r.name}_fifo`, F);
  m.assign(F.in_valid, dv);
  m.assign(F.in_data, r.assemble(regs, dt));
  m.assign(r.out.valid, F.out_valid);
  m.assign(r.out.data, r.out.data.signed ? F.out_data.asSigned() : F.out_data);
  m.assign(F.out_ready, r.out.ready);
  return issue;
}

export function llmDeviceModule(d: LlmDeviceConfig): Module {
  const cfg = d.engine;
  const P = cfg.P;
  const V = cfg.engine.model.vocabSize;
  const R = d.regions;
  const m = new Module(d.design, {
    doc: `LLM decode engine (${cfg.engine.model.nLayers} layers, dim ${cfg.engine.model.dim}) fed by a weight sequencer, memory latency ${d.latency}`,
  });
  const tok = m.streamIn('tok', cfg.tokBits);
  const next = m.streamOut('next', d.resultBits);
  const lo = m.streamOut('logits', cfg.logitsBits, { last: true });
  const logitsEn = m.input('logits_en', 1);
  const busy = m.output('busy', 1);
  const stepsOut = m.output('steps', 32);
  const cyclesOut = m.output('step_cycles', 32);

  // The engine, unchanged.
  const eng = llmEngineModule(cfg);
  const E: Record<string, Signal> = {};
  for (const p of eng.portList()) if (p.name !== 'clk' && p.name !== 'rst') E[p.name] = m.wire(`eng_${p.name}`, p.width, { signed: p.signed });
  m.instance(eng, 'engine', E);
  for (const n of ['perf_gemv', 'perf_attn', 'perf_other', 'perf_idle']) if (E[n]) m.assign(m.output(n, 32), E[n]!.asUnsigned().resize(32));

  // ---- step control: a block is `count` tok beats {count - 1, restart, id} (count and restart from its first) ----
  const idBits = d.idBits;
  const T = d.prefillBlock;
  const stepActive = m.reg('step_active', 1, { init: 0 });
  const tokFull = m.reg('tok_q_full', 1, { init: 0 });
  const tokData = m.reg('tok_q', cfg.tokBits, { init: 0 });
  const cyc = m.reg('cyc', 32, { init: 0 });
  const steps = m.reg('steps_q', 32, { init: 0 });
  const lastCycles = m.reg('last_cycles', 32, { init: 0 });
  m.assign(stepsOut, steps);
  m.assign(cyclesOut, lastCycles);
  m.assign(busy, stepActive);
  m.assign(m.output('prefill_block', 16), lit(T, 16));
  m.assign(E.tok_valid!, tokFull);
  m.assign(E.tok_data!, tokData);
  const idIn = tok.data.slice(idBits - 1, 0);
  const kb = bitsFor(Math.max(1, T - 1));
  const kIn = m.reg('blk_k', kb, { init: 0 });
  const nReg = m.reg('blk_n', kb, { init: 0 });
  const rstReg = m.reg('blk_restart', 1, { init: 0 });
  const ids = T > 1 ? Array.from({ length: T }, (_, k) => m.reg(`blk_id${k}`, idBits, { init: 0 })) : [];
  const first = m.let('blk_first', kIn.eq(0));
  // count - 1 from the beat, clamped to the block's most (the host never sends more; a stray beat cannot overrun).
  const rawCount = d.countBits ? tok.data.slice(idBits + d.countBits, idBits + 1) : lit(0, 1);
  const countIn = T > 1 && 2 ** rawCount.width > T ? mux(rawCount.gt(lit(T - 1, rawCount.width)), lit(T - 1, rawCount.width), rawCount) : rawCount;
  const nNow = m.let('blk_n_now', mux(first, countIn.resize(kb), nReg));
  const start = m.let('blk_start', tok.fire.and(nNow.eq(kIn)));
  const blk: BlockCtl = {
    start,
    firstId: T > 1 ? mux(first, idIn, ids[0]!) : idIn,
    nLast: nReg,
    idAt: (k) => select(k, ids),
  };
  // The engine's beat: the block's count and restart, the last token's id (the rows come on aux).
  const engBeat = cat(...(d.countBits ? [nNow.resize(d.countBits)] : []), mux(first, tok.data.bit(idBits), rstReg), idIn);
  const readerBusy = d.hbm ? axiBackend(m, d, E, blk) : bramBackend(m, d, E, blk);
  m.assign(tok.ready, stepActive.or(readerBusy).not());
  // ---- argmax over the logits stream (first index of the largest value, as run.c) ------------------------------
  const resFull = m.reg('res_full', 1, { init: 0 });
  const resData = m.reg('res_data', d.resultBits, { init: 0 });
  const ib = bitsFor(V - 1 + P);
  const baseIdx = m.reg('lg_base', ib, { init: 0 });
  const bestV = m.reg('lg_best_v', 32, { signed: true, init: 0 });
  const bestI = m.reg('lg_best_i', ib, { init: 0 });
  const ld = E.logits_data!.asUnsigned();
  type Cand = { ok: Expr; v: Expr; i: Expr };
  let cands: Cand[] = Array.from({ length: P }, (_, q) => {
    const i = baseIdx.add(lit(q, ib));
    return { ok: i.lt(lit(V, ib)), v: ld.slice(32 * q + 31, 32 * q).asSigned(), i };
  });
  // Each level's winners are named signals, so the printed expression stays linear in P (not exponential).
  for (let level = 0; cands.length > 1; level++) {
    const nx: Cand[] = [];
    for (let k = 0; k + 1 < cands.length; k += 2) {
      const a = cands[k]!;
      const b2 = cands[k + 1]!;
      const takeB = m.let(`lg_t${level}_${k / 2}`, b2.ok.and(a.ok.not().or(b2.v.gt(a.v))));
      const n = `lg_${level}_${k / 2}`;
      nx.push({ ok: m.let(`${n}_ok`, a.ok.or(b2.ok)), v: m.let(`${n}_v`, mux(takeB, b2.v, a.v)), i: m.let(`${n}_i`, mux(takeB, b2.i, a.i)) });
    }
    if (cands.length % 2) nx.push(cands[cands.length - 1]!);
    cands = nx;
  }
  const beatBest = cands[0]!;
  const takeNew = m.let('lg_take', baseIdx.eq(0).or(beatBest.v.gt(bestV)));
  const finV = m.let('lg_fin_v', mux(takeNew, beatBest.v, bestV));
  const finI = m.let('lg_fin_i', mux(takeNew, beatBest.i, bestI));
  // Logits for the host go through a FIFO holding a whole step, so a slow link never stalls the classifier.
  const lf = fifoModule(`${d.design}_logits_fifo`, cfg.logitsBits + 1, d.logitsFifo);
  const lw = (n: string, w: number) => m.wire(`lf_${n}`, w);
  const LF = { in_valid: lw('in_valid', 1), in_ready: lw('in_ready', 1), in_data: lw('in_data', cfg.logitsBits + 1), out_valid: lw('out_valid', 1), out_ready: lw('out_ready', 1), out_data: lw('out_data', cfg.logitsBits + 1), count: lw('count', bitsFor(d.logitsFifo)) };
  m.instance(lf, 'logits_fifo', LF);
  const engReady = m.let('lg_ready', resFull.not().and(logitsEn.not().or(LF.in_ready)));
  m.assign(E.logits_ready!, engReady);
  m.assign(LF.in_valid, E.logits_valid!.and(logitsEn).and(resFull.not()));
  m.assign(LF.in_data, cat(E.logits_last!, E.logits_data!.asUnsigned()));
  m.assign(lo.valid, LF.out_valid);
  m.assign(lo.data, LF.out_data.slice(cfg.logitsBits - 1, 0));
  m.assign(lo.last!, LF.out_data.bit(cfg.logitsBits));
  m.assign(LF.out_ready, lo.ready);
  m.assign(next.valid, resFull);
  m.assign(next.data, resData);
  const lgFire = E.logits_valid!.and(engReady);
  const lastBeat = lgFire.and(E.logits_last!);

  m.sync((b) => {
    b.if(E.tok_ready!.and(tokFull), (t) => t.set(tokFull, 0));
    b.if(stepActive, (t) => t.set(cyc, cyc.add(1)));
    b.if(tok.fire, (t) => {
      ids.forEach((r, k) => t.if(kIn.eq(k), (u) => u.set(r, idIn)));
      t.if(first, (u) => u.set(nReg, countIn.resize(kb)).set(rstReg, tok.data.bit(idBits)));
      t.if(start, (u) => u.set(kIn, 0).set(stepActive, 1).set(tokFull, 1).set(tokData, engBeat).set(cyc, 0), (u) => u.set(kIn, kIn.add(1)));
    });
    b.if(lgFire, (t) => t.set(bestV, finV).set(bestI, finI).set(baseIdx, baseIdx.add(lit(P, ib))));
    b.if(lastBeat, (t) =>
      t
        .set(baseIdx, 0)
        .set(resFull, 1)
        .set(resData, cat(finI.resize(idBits), finV.asUnsigned()))
        .set(stepActive, 0)
        .set(steps, steps.add(1))
        .set(lastCycles, cyc.add(1)),
    );
    b.if(next.fire, (t) => t.set(resFull, 0));
  });
  return m;
}


/** Region memories behind the link's memory bus, and three credit-based readers (the on-chip back-end). */
function bramBackend(m: Module, d: LlmDeviceConfig, E: Record<string, Signal>, blk: BlockCtl): Expr {
  const cfg = d.engine;
  const P = cfg.P;
  const R = d.regions;
  const wAct = m.reg('w_act', 1, { init: 0 });
  const sAct = m.reg('s_act', 1, { init: 0 });
  const xAct = m.reg('x_act', 1, { init: 0 });
  const wCnt = m.reg('w_cnt', bitsFor(d.wWords), { init: 0 });
  const sCnt = m.reg('s_cnt', bitsFor(d.sWords), { init: 0 });
  const eAb = abits(R.e.words);
  const aAb = abits(R.a.words);
  const rowBase = m.reg('row_base', eAb, { init: 0 });
  const rowOf = (id: Expr): Expr => id.mul(lit(d.rowBeats, bitsFor(d.rowBeats))).resize(eAb);
  const cmd = m.streamIn('mem_cmd', 65);
  const rsp = m.streamOut('mem_rsp', 32);
  const rs = d.regionShift;
  const cAddr = cmd.data.slice(63, 32);
  const cWe = cmd.data.bit(64);
  const cData = cmd.data.slice(31, 0);
  const hiOk = rs + 2 < 32 ? cAddr.slice(31, rs + 2).eq(0) : lit(1, 1);
  const cRegion = cAddr.slice(rs + 1, rs);
  const mems = {} as Record<RegionName, ReturnType<Module['memory']>[]>;
  const lb = (n: RegionName) => clog2(R[n].stride);
  const maxLb = Math.max(1, ...REGIONS.map(lb));
  const lkPend = m.reg('lk_pend', 1, { init: 0 });
  const lkRegion = m.reg('lk_region', 2, { init: 0 });
  const lkLimb = m.reg('lk_limb', maxLb, { init: 0 });
  const lkOk = m.reg('lk_ok', 1, { init: 0 });
  const rspValid = m.reg('rsp_valid', 1, { init: 0 });
  const rspData = m.reg('rsp_data', 32, { init: 0 });
  const okAny: Expr[] = [];
  const lkData: Expr[] = [];
  REGIONS.forEach((n, ri) => {
    const g = R[n];
    const ab = abits(g.words);
    const word = field(cAddr, rs - 1, lb(n));
    const limb = field(cAddr, lb(n) - 1, 0);
    const below = (x: Expr, n2: number) => x.zext(x.width + 1).lt(lit(n2, x.width + 1));
    const ok = m.let(`lk_ok_${n}`, hiOk.and(cRegion.eq(ri)).and(below(word, g.words)).and(below(limb, g.limbs)));
    okAny.push(ok);
    const wa = m.let(`lk_word_${n}`, word.resize(ab));
    mems[n] = [];
    const regs: Expr[] = [];
    for (let k = 0; k < g.limbs; k++) {
      const mem = m.memory(`mem_${n}${k}`, 32, g.words);
      mems[n].push(mem);
      const q = m.reg(`lk_q_${n}${k}`, 32);
      m.sync((b) => {
        b.if(cmd.fire.and(cWe).and(ok).and(limb.eq(k)), (t) => t.write(mem, wa, cData));
        b.set(q, mem.read(wa));
      });
      regs.push(q);
    }
    lkData.push(select(field(lkLimb, lb(n) - 1, 0), regs));
  });
  m.assign(cmd.ready, lkPend.or(rspValid).not());
  m.assign(rsp.valid, rspValid);
  m.assign(rsp.data, rspData);
  m.sync((b) => {
    b.if(rsp.fire, (t) => t.set(rspValid, 0));
    b.if(cmd.fire.and(cWe.not()), (t) => t.set(lkPend, 1).set(lkRegion, cRegion).set(lkLimb, field(cAddr, maxLb - 1, 0).resize(maxLb)).set(lkOk, orAll(okAny)));
    b.if(lkPend, (t) => t.set(lkPend, 0).set(rspValid, 1).set(rspData, mux(lkOk, select(lkRegion, lkData), lit(0, 32))));
  });

  // ---- readers --------------------------------------------------------------------------------------------------
  const limbsOf = (n: RegionName, addr: Expr, prefix: string): Expr[] =>
    mems[n].map((mem, k) => {
      const q = m.reg(`${prefix}_q_${n}${k}`, 32);
      m.sync((b) => b.set(q, mem.read(addr.resize(abits(R[n].words)))));
      return q;
    });
  const wide = (regs: Expr[], width: number): Expr => cat(...[...regs].reverse()).slice(width - 1, 0);
  const wIssue = reader(m, d, {
    name: 'w',
    width: cfg.wPortBits,
    want: wAct,
    addr: wCnt.resize(abits(R.w.words)),
    read: (a) => limbsOf('w', a, 'w'),
    assemble: (regs) => wide(regs, cfg.wPortBits),
    out: { valid: E.w_valid!, ready: E.w_ready!, data: E.w_data! },
  });
  const sIssue = reader(m, d, {
    name: 's',
    width: cfg.sPortBits,
    want: sAct,
    addr: sCnt.resize(abits(R.s.words)),
    read: (a) => limbsOf('s', a, 's'),
    assemble: (regs) => wide(regs, cfg.sPortBits),
    out: { valid: E.s_valid!, ready: E.s_ready!, data: E.s_data! },
  });
  // aux, per token of the block: a[0] (embedding constant), e[row + i] for i < rowBeats; then a[1 + i] (aux-walk.ts).
  const xIssueW = m.wire('x_issue_w', 1);
  const walk = auxWalk(m, d, 'x', blk, xIssueW);
  const xCnt = walk.cnt;
  const isE = walk.isE;
  const aAddr = m.let('x_a_addr', mux(xCnt.eq(0), lit(0, aAb), xCnt.sub(d.rowBeats).resize(aAb)));
  const eAddr = m.let('x_e_addr', rowBase.add(xCnt.sub(1).resize(eAb)));
  const xw = Math.max(aAb, eAb);
  const eb = d.embLaneBits;
  const xIssue: Expr = reader(m, d, {
    name: 'x',
    width: cfg.auxBits,
    want: xAct,
    addr: mux(isE, eAddr.resize(xw), aAddr.resize(xw)),
    tag: isE,
    read: (a) => [...limbsOf('a', a, 'x'), ...limbsOf('e', a, 'x')],
    assemble: (regs, tag) => {
      const aw = wide(regs.slice(0, R.a.limbs), cfg.auxBits);
      const raw = cat(...regs.slice(R.a.limbs).reverse());
      const ew = cat(...Array.from({ length: P }, (_, q) => raw.slice(q * eb + eb - 1, q * eb).zext(32)).reverse());
      return mux(tag, ew, aw);
    },
    out: { valid: E.aux_valid!, ready: E.aux_ready!, data: E.aux_data! },
  });

  m.assign(xIssueW, xIssue);
  m.sync((b) => {
    if (d.prefillBlock > 1) b.if(xIssue.and(walk.wraps), (t) => t.set(rowBase, rowOf(blk.idAt(walk.tok.add(1).resize(walk.tok.width)))));
    b.if(blk.start, (t) => t.set(rowBase, rowOf(blk.firstId)).set(wAct, 1).set(sAct, 1).set(xAct, 1).set(wCnt, 0).set(sCnt, 0));
    b.if(wIssue, (t) => t.set(wCnt, wCnt.add(1)).if(wCnt.eq(d.wWords - 1), (u) => u.set(wAct, 0)));
    b.if(sIssue, (t) => t.set(sCnt, sCnt.add(1)).if(sCnt.eq(d.sWords - 1), (u) => u.set(sAct, 0)));
    b.if(xIssue.and(walk.last), (t) => t.set(xAct, 0));
  });
  return wAct.or(sAct).or(xAct);
}
