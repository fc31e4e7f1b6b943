/**
 * AXI4 read master for one memory port (one HBM pseudo-channel), shared by several sequential read streams.
 *
 * Each stream g takes commands `{slices, beats, addr}` on `<g>_cmd` (addr: a byte address aligned to the data
 * width; beats = ceil(slices / (dataBits / sliceBits))) and delivers `slices` slices of sliceBits on `<g>`, lowest
 * slice of each beat first; the rest of a segment's last beat is dropped, so every segment starts on a beat.
 *   - bursts: INCR, at most maxBurst (<= 256) beats, never across a 4 KB boundary;
 *   - a burst is issued only when the stream's FIFO has room for all its beats (credit), so R never stalls and
 *     up to `outstanding` bursts are in flight (the in-flight queue routes R beats to their stream, in order);
 *   - round-robin between the streams that have a command and credit;
 *   - an R beat with RRESP != OKAY sets the sticky `err` output and records the first response and stream.
 */
import { Module, cat, lit, mux, orAll, select, type Expr, type Signal } from '../hdl';
import { ConfigError, bitsFor, clog2 } from '../util/errors';
import { fifoModule } from './fifo';

export interface AxiReadStream {
  name: string;
  sliceBits: number;
  /** Beat FIFO depth (power of two, >= maxBurst). */
  depth: number;
}

export interface AxiReadParams {
  name: string;
  dataBits: number;
  addrBits: number;
  /** Width of the beats/slices fields of a command. */
  lenBits: number;
  maxBurst: number;
  outstanding: number;
  streams: readonly AxiReadStream[];
}

export const AXI_4K = 4096;

/** Longest burst allowed at this data width: 256 beats, and one burst may not span more than 4 KB. */
export const axiMaxBurst = (dataBits: number): number => Math.min(256, AXI_4K / (dataBits / 8));

export const axiCmdBits = (p: Pick<AxiReadParams, 'addrBits' | 'lenBits'>): number => p.addrBits + 2 * p.lenBits;

/** Packs a command word for stream cmd ports: {slices, beats, addr}. */
export const axiCmd = (p: Pick<AxiReadParams, 'addrBits' | 'lenBits'>, addr: bigint, beats: number, slices: number): bigint =>
  (BigInt(slices) << BigInt(p.addrBits + p.lenBits)) | (BigInt(beats) << BigInt(p.addrBits)) | addr;

export function checkAxiReadParams(p: AxiReadParams): void {
  const pow2 = (x: number) => Number.isInteger(x) && x >= 1 && (x & (x - 1)) === 0;
  if (!pow2(p.dataBits) || p.dataBits < 32 || p.dataBits > 1024) throw new ConfigError('axiBits', 'must be a power of two in 32..1024', p.dataBits);
  if (p.maxBurst < 1 || p.maxBurst > axiMaxBurst(p.dataBits) || !pow2(p.maxBurst))
    throw new ConfigError('maxBurst', `must be a power of two <= ${axiMaxBurst(p.dataBits)} (256 beats and 4 KB at ${p.dataBits} bits)`, p.maxBurst);
  if (!pow2(p.outstanding) || p.outstanding < 2) throw new ConfigError('outstanding', 'must be a power of two >= 2', p.outstanding);
  for (const s of p.streams) {
    if (!pow2(s.sliceBits) || s.sliceBits > p.dataBits)
      throw new ConfigError(`${s.name}.sliceBits`, `must be a power of two <= the AXI data width (${p.dataBits})`, s.sliceBits);
    if (!pow2(s.depth) || s.depth < p.maxBurst) throw new ConfigError(`${s.name}.depth`, `must be a power of two >= maxBurst (${p.maxBurst})`, s.depth);
  }
}

/** AXI port names of a master with prefix `pre` (e.g. m0_axi_): the ones the module has, in this order. */
export const AXI_READ_PORTS = {
  out: [['arvalid', 1], ['araddr', 0], ['arlen', 8], ['arsize', 3], ['arburst', 2], ['arid', 6], ['rready', 1]],
  in: [['arready', 1], ['rvalid', 1], ['rdata', 0], ['rresp', 2], ['rlast', 1]],
} as const;

export function axiReadMasterModule(p: AxiReadParams): Module {
  checkAxiReadParams(p);
  const D = p.dataBits;
  const A = p.addrBits;
  const L = p.lenBits;
  const G = p.streams.length;
  const gb = Math.max(1, clog2(G));
  const m = new Module(p.name, { doc: `AXI4 read master, ${D}-bit data, ${G} streams, bursts <= ${p.maxBurst} beats, ${p.outstanding} outstanding` });
  const arvalid = m.output('m_axi_arvalid', 1);
  const araddr = m.output('m_axi_araddr', A);
  const arlen = m.output('m_axi_arlen', 8);
  const arsize = m.output('m_axi_arsize', 3);
  const arburst = m.output('m_axi_arburst', 2);
  const arid = m.output('m_axi_arid', 6);
  const rready = m.output('m_axi_rready', 1);
  const arready = m.input('m_axi_arready', 1);
  const rvalid = m.input('m_axi_rvalid', 1);
  const rdata = m.input('m_axi_rdata', D);
  const rresp = m.input('m_axi_rresp', 2);
  const rlast = m.input('m_axi_rlast', 1);
  const err = m.output('err', 1);
  const errResp = m.output('err_resp', 2);
  const errStream = m.output('err_stream', gb);
  m.assign(arsize, lit(clog2(D / 8), 3));
  m.assign(arburst, lit(1, 2));
  m.assign(arid, lit(0, 6));

  const beatBytes = D / 8;
  const bshift = clog2(beatBytes);
  const blw = bitsFor(p.maxBurst);
  // ---- per-stream command state, burst length, credit ------------------------------------------------------
  interface St { want: Expr; len: Expr; addr: Signal; left: Signal; resv: Signal; depth: number; pop: Signal; issue: Signal; beatIn: Signal; fifoIn: Record<string, Signal> }
  const st: St[] = p.streams.map((s, g) => {
    const cmd = m.streamIn(`${s.name}_cmd`, axiCmdBits(p));
    const act = m.reg(`${s.name}_act`, 1, { init: 0 });
    const addr = m.reg(`${s.name}_addr`, A, { init: 0 });
    const left = m.reg(`${s.name}_left`, L, { init: 0 });
    const rw = bitsFor(s.depth);
    const resv = m.reg(`${s.name}_resv`, rw, { init: 0 });
    // Segment queue: slices per accepted command, consumed by the slice converter.
    const sq = fifoModule(`${p.name}_${s.name}_segq`, L, 4);
    const w = (n: string, width: number) => m.wire(`${s.name}_sq_${n}`, width);
    const SQ = { in_valid: w('in_valid', 1), in_ready: w('in_ready', 1), in_data: w('in_data', L), out_valid: w('out_valid', 1), out_ready: w('out_ready', 1), out_data: w('out_data', L), count: w('count', bitsFor(4)) };
    m.instance(sq, `${s.name}_segq`, SQ);
    m.assign(cmd.ready, act.not().and(SQ.in_ready));
    m.assign(SQ.in_valid, cmd.valid.and(act.not()));
    m.assign(SQ.in_data, cmd.data.slice(A + 2 * L - 1, A + L));
    // Beats to the next 4 KB boundary (1..4096/beatBytes), the burst cap and what is left.
    const off = addr.slice(11, bshift).zext(13 - bshift);
    const to4k = m.let(`${s.name}_to4k`, lit(AXI_4K / beatBytes, 13 - bshift).sub(off));
    const cap = m.let(`${s.name}_cap`, mux(to4k.lt(lit(p.maxBurst, 13 - bshift)), to4k.resize(blw), lit(p.maxBurst, blw)));
    const leftS = left.resize(Math.max(L, blw) + 1);
    const len = m.let(`${s.name}_len`, mux(leftS.lt(cap.resize(leftS.width)), left.resize(blw), cap));
    const room = m.let(`${s.name}_room`, resv.zext(rw + 1).add(len.zext(rw + 1).resize(rw + 1)).le(lit(s.depth, rw + 1)));
    const want = m.let(`${s.name}_want`, act.and(room));
    const issue = m.wire(`${s.name}_issue`, 1);
    const pop = m.wire(`${s.name}_beat_pop`, 1);
    const beatIn = m.wire(`${s.name}_beat_in`, 1);
    m.sync((b) => {
      b.if(cmd.fire, (t) => t.set(act, 1).set(addr, cmd.data.slice(A - 1, 0)).set(left, cmd.data.slice(A + L - 1, A)));
      b.if(issue, (t) =>
        t
          .set(addr, addr.add(cat(len, lit(0, bshift)).resize(A)))
          .set(left, left.sub(len.resize(L)))
          .if(left.eq(len.resize(L)), (u) => u.set(act, 0)),
      );
      b.set(resv, resv.add(mux(issue, len.zext(rw).resize(rw), lit(0, rw))).sub(mux(pop, lit(1, rw), lit(0, rw))));
    });
    void g;
    return { want, len, addr, left, resv, depth: s.depth, pop, issue, beatIn, fifoIn: SQ };
  });

  // ---- AR channel: round-robin pick, one registered request ---------------------------------------------------
  const inflDepth = p.outstanding;
  const infl = fifoModule(`${p.name}_inflight`, gb, inflDepth);
  const iw = (n: string, width: number) => m.wire(`infl_${n}`, width);
  const IF = { in_valid: iw('in_valid', 1), in_ready: iw('in_ready', 1), in_data: iw('in_data', gb), out_valid: iw('out_valid', 1), out_ready: iw('out_ready', 1), out_data: iw('out_data', gb), count: iw('count', bitsFor(inflDepth)) };
  m.instance(infl, 'inflight', IF);
  const arV = m.reg('ar_v', 1, { init: 0 });
  const arA = m.reg('ar_a', A, { init: 0 });
  const arL = m.reg('ar_l', 8, { init: 0 });
  const rr = m.reg('rr', gb, { init: 0 });
  m.assign(arvalid, arV);
  m.assign(araddr, arA);
  m.assign(arlen, arL);
  const canLoad = m.let('ar_can_load', arV.not().or(arready).and(IF.in_ready));
  // Priority order rr, rr+1, ...: the first stream that wants wins.
  const pickOf: Expr[] = [];
  const anyOf: Expr[] = [];
  for (let r = 0; r < G; r++) {
    let pick: Expr = lit(0, gb);
    let any: Expr = lit(0, 1);
    for (let k = G - 1; k >= 0; k--) {
      const g = (r + k) % G;
      pick = mux(st[g]!.want, lit(g, gb), pick);
      any = any.or(st[g]!.want);
    }
    pickOf.push(pick);
    anyOf.push(any);
  }
  const pick = m.let('ar_pick', select(rr, pickOf));
  const any = m.let('ar_any', select(rr, anyOf));
  const load = m.let('ar_load', canLoad.and(any));
  st.forEach((s, g) => m.assign(s.issue, load.and(pick.eq(g))));
  m.assign(IF.in_valid, load);
  m.assign(IF.in_data, pick);
  const pickLen = select(pick, st.map((s) => s.len));
  const pickAddr = select(pick, st.map((s) => s.addr));
  m.sync((b) => {
    b.if(arV.and(arready), (t) => t.set(arV, 0));
    b.if(load, (t) =>
      t
        .set(arV, 1)
        .set(arA, pickAddr)
        .set(arL, pickLen.resize(9).sub(1).resize(8))
        .set(rr, G === 1 ? lit(0, gb) : mux(pick.eq(G - 1), lit(0, gb), pick.add(1))),
    );
  });

  // ---- R channel: route by the in-flight queue into the stream FIFOs (credit guarantees room) -------------------
  m.assign(rready, IF.out_valid);
  const rFire = m.let('r_fire', rvalid.and(IF.out_valid));
  m.assign(IF.out_ready, rFire.and(rlast));
  const errQ = m.reg('err_q', 1, { init: 0 });
  const errR = m.reg('err_resp_q', 2, { init: 0 });
  const errS = m.reg('err_stream_q', gb, { init: 0 });
  m.assign(err, errQ);
  m.assign(errResp, errR);
  m.assign(errStream, errS);
  m.sync((b) => b.if(rFire.and(rresp.ne(0)).and(errQ.not()), (t) => t.set(errQ, 1).set(errR, rresp).set(errS, IF.out_data)));

  // ---- per stream: beat FIFO, then slices ----------------------------------------------------------------------
  p.streams.forEach((s, g) => {
    const S = st[g]!;
    const out = m.streamOut(s.name, s.sliceBits);
    const bf = fifoModule(`${p.name}_${s.name}_beats`, D, s.depth);
    const w = (n: string, width: number) => m.wire(`${s.name}_bf_${n}`, width);
    const BF = { in_valid: w('in_valid', 1), in_ready: w('in_ready', 1), in_data: w('in_data', D), out_valid: w('out_valid', 1), out_ready: w('out_ready', 1), out_data: w('out_data', D), count: w('count', bitsFor(s.depth)) };
    m.instance(bf, `${s.name}_beats`, BF);
    m.assign(S.beatIn, rFire.and(IF.out_data.eq(g)));
    m.assign(BF.in_valid, S.beatIn);
    m.assign(BF.in_data, rdata);
    const K = D / s.sliceBits;
    const kb = Math.max(1, clog2(K));
    const idx = m.reg(`${s.name}_slice`, kb, { init: 0 });
    const segAct = m.reg(`${s.name}_seg_act`, 1, { init: 0 });
    const segLeft = m.reg(`${s.name}_seg_left`, L, { init: 0 });
    const SQ = S.fifoIn;
    m.assign(SQ.out_ready!, segAct.not().and(SQ.out_valid!));
    m.assign(out.valid, BF.out_valid.and(segAct));
    const slices = Array.from({ length: K }, (_, q) => BF.out_data.slice(q * s.sliceBits + s.sliceBits - 1, q * s.sliceBits));
    m.assign(out.data, K === 1 ? slices[0]! : select(idx, slices));
    const lastOfSeg = segLeft.eq(1);
    const lastOfBeat = K === 1 ? lit(1, 1) : idx.eq(K - 1);
    m.assign(BF.out_ready, out.fire.and(lastOfSeg.or(lastOfBeat)));
    m.assign(S.pop, BF.out_ready.and(BF.out_valid));
    m.sync((b) => {
      b.if(SQ.out_ready!, (t) => t.set(segAct, 1).set(segLeft, SQ.out_data!));
      b.if(out.fire, (t) =>
        t
          .set(segLeft, segLeft.sub(1))
          .set(idx, mux(lastOfSeg.or(lastOfBeat), lit(0, kb), K === 1 ? idx : idx.add(1)))
          .if(lastOfSeg, (u) => u.set(segAct, 0)),
      );
    });
  });
  void orAll;
  return m;
}
