/**
 * The `mem: 'axi'` back-end of the LLM device: N AXI4 read masters (generator/lib/axi-read.ts), one per HBM
 * pseudo-channel, replace the on-chip region memories. Per step the back-end broadcasts one command per stream to
 * every master (w, s, the aux constant beat a0, the aux tail, the token's embedding row) with the addresses of
 * hbm-layout.ts; each master returns its slice of every word and the slices of all masters are joined into the
 * engine's w / s / aux words. AXI error responses raise `axi_err`; `axi_err_info` = {resp, stream, channel} of
 * the first one, so the host can name it (never silent garbage).
 */
import { Module, cat, lit, mux, orAll, type Expr, type Signal } from '../../hdl';
import { axiCmd, axiCmdBits, axiReadMasterModule } from '../../lib/axi-read';
import { bitsFor } from '../../util/errors';
import { HBM_ADDR_BITS } from './hbm-layout';
import type { LlmDeviceConfig } from './layout';
import { auxWalk, type BlockCtl } from './aux-walk';

/** Streams of each master, in port order; a0 and at share the `a` FIFO. */
const MASTER_STREAMS = ['w', 's', 'a', 'e'] as const;

export const axiPrefix = (k: number): string => `m${k}_axi_`;

export function axiBackend(m: Module, d: LlmDeviceConfig, E: Record<string, Signal>, blk: BlockCtl): Expr {
  const start = blk.start;
  const h = d.hbm!;
  const cfg = d.engine;
  const N = h.masters;
  const A = HBM_ADDR_BITS;
  const ap = { addrBits: A, lenBits: h.lenBits };
  const R = h.regions;
  const mm = axiReadMasterModule({
    name: `${d.design}_axi_rd`,
    dataBits: h.axiBits,
    addrBits: A,
    lenBits: h.lenBits,
    maxBurst: h.maxBurst,
    outstanding: h.outstanding,
    streams: MASTER_STREAMS.map((n) => ({ name: n, sliceBits: R[n === 'a' ? 'a0' : n].sliceBits, depth: h.fifoDepth[n] })),
  });
  const cb = axiCmdBits(ap);
  // ---- command issuers: hold a command until every master took it -----------------------------------------
  interface Iss { v: Signal; data: Signal; acc: Signal; fires: Expr[] }
  const iss = {} as Record<(typeof MASTER_STREAMS)[number], Iss>;
  for (const n of MASTER_STREAMS) iss[n] = { v: m.reg(`c_${n}_v`, 1, { init: 0 }), data: m.reg(`c_${n}_d`, cb, { init: 0 }), acc: m.reg(`c_${n}_acc`, N, { init: 0 }), fires: [] };
  const aPhase = m.reg('c_a_tail', 1, { init: 0 });
  const cmdLit = (name: keyof typeof R, beats: number, slices: number) => lit(axiCmd(ap, BigInt(R[name].offset), beats, slices), cb);
  // e row address: offset + id * rowBytes (a constant multiply).
  const rowBytes = h.eRowBeats * h.beatBytes;
  const eCmd = (tokId: Expr): Expr => {
    const eAddr = lit(R.e.offset, A).add(tokId.resize(A).mul(lit(rowBytes, bitsFor(rowBytes))).resize(A));
    return cat(lit(d.rowBeats, h.lenBits), lit(h.eRowBeats, h.lenBits), eAddr);
  };
  // A block: the a stream gets a0 once per token, then the tail; the e stream one row per token (aux-walk.ts order).
  const T = d.prefillBlock;
  const tb = bitsFor(Math.max(1, T - 1));
  const aTok = T > 1 ? m.reg('c_a_tok', tb, { init: 0 }) : lit(0, 1);
  const eTok = T > 1 ? m.reg('c_e_tok', tb, { init: 0 }) : lit(0, 1);
  const nLast = blk.nLast.resize(tb);

  const slicesOut: Record<string, { valid: Signal; ready: Signal; data: Signal }[]> = { w: [], s: [], a: [], e: [] };
  const errs: { err: Signal; resp: Signal; stream: Signal }[] = [];
  for (let k = 0; k < N; k++) {
    const pre = axiPrefix(k);
    const conn: Record<string, Expr> = {};
    for (const p of mm.portList()) {
      if (p.name === 'clk' || p.name === 'rst') continue;
      if (p.name.startsWith('m_axi_')) {
        const ext = pre + p.name.slice(6);
        conn[p.name] = p.dir === 'output' ? m.output(ext, p.width) : m.input(ext, p.width);
      } else conn[p.name] = m.wire(`mk${k}_${p.name}`, p.width);
    }
    m.instance(mm, `rd${k}`, conn);
    for (const n of MASTER_STREAMS) {
      const I = iss[n];
      const v = conn[`${n}_cmd_valid`] as Signal;
      m.assign(v, I.v.and(I.acc.bit(k).not()));
      m.assign(conn[`${n}_cmd_data`] as Signal, I.data);
      I.fires.push(v.and(conn[`${n}_cmd_ready`]!));
      slicesOut[n]!.push({ valid: conn[`${n}_valid`] as Signal, ready: conn[`${n}_ready`] as Signal, data: conn[`${n}_data`] as Signal });
    }
    errs.push({ err: conn.err as Signal, resp: conn.err_resp as Signal, stream: conn.err_stream as Signal });
  }
  const done = (I: Iss): Expr => I.acc.or(cat(...[...I.fires].reverse())).eq(2 ** N - 1);
  const firesVec = (I: Iss): Expr => cat(...[...I.fires].reverse());
  m.sync((b) => {
    for (const n of MASTER_STREAMS) {
      const I = iss[n];
      b.if(I.v, (t) => t.set(I.acc, I.acc.or(firesVec(I))).if(done(I), (u) => u.set(I.v, 0).set(I.acc, 0)));
    }
    // The a stream per step: the constant beat once per token of the block, then (when the step has one) the tail.
    const aNext = iss.a.v.and(done(iss.a)).and(aPhase.not());
    if (T > 1) {
      const [at, et] = [aTok as Signal, eTok as Signal];
      b.if(aNext.and(at.ne(nLast)), (t) => t.set(iss.a.v, 1).set(at, at.add(1)));
      b.if(iss.e.v.and(done(iss.e)).and(et.ne(nLast)), (t) => t.set(iss.e.v, 1).set(iss.e.data, eCmd(blk.idAt(et.add(1).resize(tb)))).set(et, et.add(1)));
      b.if(start, (t) => t.set(at, 0).set(et, 0));
    }
    if (d.tailBeats > 0)
      b.if(T > 1 ? aNext.and(aTok.eq(nLast)) : aNext, (t) => t.set(iss.a.v, 1).set(iss.a.data, cmdLit('at', h.atBeats, d.tailBeats)).set(aPhase, 1));
    b.if(start, (t) =>
      t
        .set(iss.w.v, 1)
        .set(iss.w.data, cmdLit('w', h.wBeats, d.wWords))
        .set(iss.s.v, 1)
        .set(iss.s.data, cmdLit('s', h.sBeats, d.sWords))
        .set(iss.a.v, 1)
        .set(iss.a.data, cmdLit('a0', 1, 1))
        .set(aPhase, 0)
        .set(iss.e.v, 1)
        .set(iss.e.data, eCmd(blk.firstId)),
    );
  });

  // ---- join the masters' slices into the engine's words ------------------------------------------------------
  const join = (n: 'w' | 's' | 'a' | 'e', width: number, consumerReady: Expr): { valid: Expr; data: Expr } => {
    const ss = slicesOut[n]!;
    const valid = m.let(`j_${n}_valid`, ss.map((s) => s.valid as Expr).reduce((a, x) => a.and(x)));
    for (const s of ss) m.assign(s.ready, consumerReady.and(valid));
    const all = cat(...ss.map((s) => s.data as Expr).reverse());
    return { valid, data: all.width > width ? all.slice(width - 1, 0) : all.resize(width) };
  };
  const wj = join('w', cfg.wPortBits, E.w_ready!);
  m.assign(E.w_valid!, wj.valid);
  m.assign(E.w_data!, E.w_data!.signed ? wj.data.asSigned() : wj.data);
  const sj = join('s', cfg.sPortBits, E.s_ready!);
  m.assign(E.s_valid!, sj.valid);
  m.assign(E.s_data!, E.s_data!.signed ? sj.data.asSigned() : sj.data);
  // aux, per token: a0, the embedding row (lanes zero-extended); then the tail (aux-walk.ts).
  const auxFire = m.wire('x_fire', 1);
  const isE = auxWalk(m, d, 'x', blk, auxFire).isE;
  const aj = join('a', cfg.auxBits, E.aux_ready!.and(isE.not()));
  const eb = d.embLaneBits;
  const ej = join('e', cfg.P * eb, E.aux_ready!.and(isE));
  const eWide = cat(...Array.from({ length: cfg.P }, (_, q) => ej.data.slice(q * eb + eb - 1, q * eb).zext(32)).reverse());
  m.assign(E.aux_valid!, mux(isE, ej.valid, aj.valid));
  const auxData = mux(isE, eWide, aj.data);
  m.assign(E.aux_data!, E.aux_data!.signed ? auxData.asSigned() : auxData);
  m.assign(auxFire, E.aux_valid!.and(E.aux_ready!));

  // ---- status: sticky error, first channel ------------------------------------------------------------------
  const anyErr = orAll(errs.map((e) => e.err as Expr));
  m.assign(m.output('axi_err', 1), anyErr);
  let info: Expr = lit(0, 9);
  for (let k = N - 1; k >= 0; k--) info = mux(errs[k]!.err, cat(errs[k]!.resp, errs[k]!.stream.resize(2), lit(k, 5)), info);
  m.assign(m.output('axi_err_info', 9), info);
  return orAll(MASTER_STREAMS.map((n) => iss[n].v as Expr));
}
