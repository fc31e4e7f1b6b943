/**
 * Simulation-only HBM model: one AXI4 read slave per pseudo-channel, behind a host write/read port (the XDMA side),
 * with the timing of docs/llm-device.md#hbm-model (Shuhai, Huang et al., FCCM 2020; PG276 for refresh):
 *   - page hit / miss latency (1 KB page per pseudo-channel; refresh closes it);
 *   - refresh: every tREFI cycles no data for tRFC cycles;
 *   - sustained rate: a token bucket of `ratePer256`/256 beats per cycle outside refresh, so long sequential bursts
 *     reach Shuhai's measured 425 of 460 GB/s;
 *   - seeded random backpressure on ARREADY and RVALID, and random extra latency (registers, for tests);
 *   - SLVERR on the n-th returned beat, the m-th returned inverted (a corrupted word; registers, 0 = off); reads beyond the
 *     modelled depth answer DECERR.
 */
import { Module, cat, lit, mux, type Expr } from '../../generator/hdl';
import { fifoModule } from '../../generator/lib/fifo';
import { bitsFor, clog2 } from '../../generator/util/errors';

export interface HbmTiming {
  hitCycles: number;
  missCycles: number;
  refiCycles: number;
  rfcCycles: number;
  ratePer256: number;
}

/** Cycles at the 225 MHz kernel clock (docs/llm-device.md#hbm-model gives the sources and the arithmetic). */
export const HBM_TIMING_225: HbmTiming = {
  hitCycles: 24, // 106.7 ns page hit (Shuhai)
  missCycles: 31, // 137.8 ns page miss (Shuhai)
  refiCycles: 878, // tREFI 3.9 us (PG276)
  rfcCycles: 59, // tRFC 260 ns (PG276, 4H stacks)
  // 425/460 = 0.924 overall; refresh alone leaves 1 - 59/878 = 0.933, so the bucket runs at 0.924/0.933 = 0.990.
  ratePer256: 253,
};

export interface HbmModelParams {
  name: string;
  dataBits: number;
  addrBits: number;
  /** Data words held (dataBits each); reads beyond answer DECERR. */
  depth: number;
  /** Index of this channel (mixed into the seed). */
  pc: number;
  timing?: HbmTiming;
  /** AR queue depth (bursts the controller accepts ahead). */
  queue?: number;
  /** Timing-only model for benches: addresses wrap at `depth` instead of answering DECERR (data is not meaningful). */
  wrap?: boolean;
}

export function hbmChannelModule(p: HbmModelParams): Module {
  const T = p.timing ?? HBM_TIMING_225;
  const D = p.dataBits;
  const A = p.addrBits;
  const limbs = D / 32;
  const ab = Math.max(1, clog2(p.depth));
  const bshift = clog2(D / 8);
  const m = new Module(p.name, { doc: `HBM pseudo-channel model (${p.depth} x ${D} bits), simulation only` });
  const arvalid = m.input('s_axi_arvalid', 1);
  const araddr = m.input('s_axi_araddr', A);
  const arlen = m.input('s_axi_arlen', 8);
  m.input('s_axi_arsize', 3);
  m.input('s_axi_arburst', 2);
  m.input('s_axi_arid', 6);
  const rready = m.input('s_axi_rready', 1);
  const arready = m.output('s_axi_arready', 1);
  const rvalid = m.output('s_axi_rvalid', 1);
  const rdata = m.output('s_axi_rdata', D);
  const rresp = m.output('s_axi_rresp', 2);
  const rlast = m.output('s_axi_rlast', 1);
  // Host port: 32-bit limb writes and reads (word index, limb).
  const hwe = m.input('h_we', 1);
  const hre = m.input('h_re', 1);
  const haddr = m.input('h_word', ab);
  const hlimb = m.input('h_limb', Math.max(1, clog2(limbs)));
  const hdata = m.input('h_wdata', 32);
  const hq = m.output('h_rdata', 32);
  // Test knobs.
  const seed = m.input('cfg_seed', 32);
  const stallThr = m.input('cfg_stall', 8);
  const extraMask = m.input('cfg_extra', 8);
  const errAt = m.input('cfg_err_at', 32);
  const flipAt = m.input('cfg_flip_at', 32);

  const mems = Array.from({ length: limbs }, (_, k) => m.memory(`mem${k}`, 32, p.depth));
  const hregs = mems.map((mem, k) => {
    const q = m.reg(`hq${k}`, 32);
    m.sync((b) => {
      b.if(hwe.and(hlimb.eq(k)), (t) => t.write(mem, haddr, hdata));
      b.if(hre, (t) => t.set(q, mem.read(haddr)));
    });
    return q;
  });
  const hl = m.reg('h_limb_q', hlimb.width, { init: 0 });
  m.sync((b) => b.if(hre, (t) => t.set(hl, hlimb)));
  let hsel: Expr = hregs[limbs - 1]!;
  for (let k = limbs - 2; k >= 0; k--) hsel = mux(hl.eq(k), hregs[k]!, hsel);
  m.assign(hq, hsel);

  // Random source: xorshift32, reseeded when cfg_seed changes.
  const rnd = m.reg('rnd', 32, { init: ((0x9e3779b9 ^ Math.imul(p.pc, 0x85ebca6b)) >>> 0) || 1 });
  const lastSeed = m.reg('last_seed', 32, { init: 0 });
  const x1 = rnd.xor(rnd.shl(13).resize(32));
  const x2 = x1.xor(x1.shr(17));
  const x3 = x2.xor(x2.shl(5).resize(32));
  m.sync((b) => b.set(rnd, mux(seed.ne(lastSeed), seed.xor(lit(Math.imul(p.pc, 0x27d4eb2d) >>> 0, 32)).or(lit(1, 32)), x3)).set(lastSeed, seed));
  const stallAr = m.let('stall_ar', rnd.slice(7, 0).lt(stallThr));
  const stallR = m.let('stall_r', rnd.slice(15, 8).lt(stallThr));

  const now = m.reg('now', 32, { init: 0 });
  const refc = m.reg('ref_cnt', bitsFor(T.refiCycles), { init: 0 });
  const refreshing = m.let('refreshing', refc.lt(lit(T.rfcCycles, refc.width)));
  m.sync((b) => b.set(now, now.add(1)).set(refc, mux(refc.eq(T.refiCycles - 1), lit(0, refc.width), refc.add(1))));

  // AR queue with each burst's ready time.
  const qd = p.queue ?? 16;
  const qw = A + 8 + 32;
  const q = fifoModule(`${p.name}_arq`, qw, qd);
  const w = (n: string, width: number) => m.wire(`q_${n}`, width);
  const Q = { in_valid: w('in_valid', 1), in_ready: w('in_ready', 1), in_data: w('in_data', qw), out_valid: w('out_valid', 1), out_ready: w('out_ready', 1), out_data: w('out_data', qw), count: w('count', bitsFor(qd)) };
  m.instance(q, 'arq', Q);
  m.assign(arready, Q.in_ready.and(stallAr.not()));
  const arFire = m.let('ar_fire', arvalid.and(arready));
  const openRow = m.reg('open_row', A - 10, { init: 0 });
  const rowOpen = m.reg('row_open', 1, { init: 0 });
  const row = araddr.slice(A - 1, 10);
  const hit = rowOpen.and(openRow.eq(row));
  const lat = mux(hit, lit(T.hitCycles, 32), lit(T.missCycles, 32)).add(rnd.slice(23, 16).and(extraMask).zext(32));
  m.assign(Q.in_valid, arFire);
  m.assign(Q.in_data, cat(now.add(lat), arlen, araddr));
  m.sync((b) => {
    b.if(arFire, (t) => t.set(openRow, row).set(rowOpen, 1));
    b.if(refc.eq(0), (t) => t.set(rowOpen, 0));
  });

  // Data return: one burst at a time, one beat per cycle at most, paced by the bucket and refresh.
  const bAct = m.reg('b_act', 1, { init: 0 });
  const bWord = m.reg('b_word', A - bshift, { init: 0 });
  const bLeft = m.reg('b_left', 8, { init: 0 });
  const headAt = Q.out_data.slice(qw - 1, A + 8);
  const headDue = m.let('head_due', Q.out_valid.and(now.sub(headAt).bit(31).not()));
  const take = m.let('b_take', bAct.not().and(headDue));
  m.assign(Q.out_ready, take);
  const bucket = m.reg('bucket', 10, { init: 256 });
  const rv = m.reg('rv', 1, { init: 0 });
  const rd = m.reg('rd', D, { init: 0 });
  const rr = m.reg('rr', 2, { init: 0 });
  const rl = m.reg('rl', 1, { init: 0 });
  const beatNo = m.reg('beat_no', 32, { init: 0 });
  m.assign(rvalid, rv);
  m.assign(rdata, rd);
  m.assign(rresp, rr);
  m.assign(rlast, rl);
  const slot = m.let('r_slot', rv.not().or(rready));
  const emit = m.let('r_emit', slot.and(bAct).and(refreshing.not()).and(bucket.ge(lit(256, 10))).and(stallR.not()));
  const inRange = p.wrap ? lit(1, 1) : bWord.lt(lit(p.depth, bWord.width));
  const wordIdx = bWord.resize(ab);
  const word = m.let('r_word', cat(...[...mems].reverse().map((mem) => mem.read(wordIdx))));
  const n1 = beatNo.add(1);
  const flip = m.let('r_flip', flipAt.ne(0).and(n1.eq(flipAt)));
  m.sync((b) => {
    const fill = bucket.add(lit(T.ratePer256, 10));
    b.set(bucket, mux(emit, fill.sub(lit(256, 10)), mux(fill.gt(lit(512, 10)), lit(512, 10), fill)));
    b.if(take, (t) => t.set(bAct, 1).set(bWord, Q.out_data.slice(A - 1, bshift)).set(bLeft, Q.out_data.slice(A + 7, A)));
    b.if(slot, (t) => t.set(rv, 0));
    b.if(emit, (t) =>
      t
        .set(rv, 1)
        .set(rd, mux(inRange, word.xor(mux(flip, lit((1n << BigInt(D)) - 1n, D), lit(0, D))), lit(0, D)))
        .set(rr, mux(inRange.not(), lit(3, 2), mux(errAt.ne(0).and(n1.eq(errAt)), lit(2, 2), lit(0, 2))))
        .set(rl, bLeft.eq(0))
        .set(beatNo, n1)
        .set(bWord, bWord.add(1))
        .set(bLeft, bLeft.sub(1))
        .if(bLeft.eq(0), (u) => u.set(bAct, 0)),
    );
  });
  return m;
}
