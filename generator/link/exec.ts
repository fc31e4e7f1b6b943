/**
 * Request executor and response encoder (docs/protocol.md).
 * Takes committed frames from link_rx, applies the sequence rule, executes the request against the register
 * bank, the memory bus or a stream channel, writes the response into a one-frame buffer and sends it
 * (CRC + stuffing + FLAGs). The buffer doubles as the cache that answers a retransmitted request without
 * executing it twice:
 *   seq == expected (or HELLO)       execute, respond, expected += 1
 *   seq == expected - 1              resend the cached response
 *   anything else                    NAK carrying `expected` (all before it are done)
 *   SYNC (any seq)                   NAK echoing SYNC and its seq; nothing executes, the cache is kept
 * Every NAK ends with the receiver's held bitmap (bit k: seq expected + k is in the reorder buffer). When idle with a
 * hole pending (a frame was filed ahead of `expected`), it sends a NAK echoing NAK_HOLE and that frame's seq.
 */
import { Module, cat, lit, mux, select, type Block, type Expr } from '../hdl';
import { bitsFor } from '../util/errors';
import type { LinkConfig } from './config';
import { crcByte } from './crc';
import { CRC_BITS, CRC_INIT, CRC_XOROUT, ESC, ESC_XOR, FLAG, MEM_WORD_BYTES, NAK, NAK_FIXED_BYTES, NAK_HOLE, REQ, RESP_BIT, RESP_HEADER, RESUME_BIT, STATUS, nakBitmapBytes } from './protocol';

/** Argument bytes each request type carries before its data. */
export const ARG_BYTES: Record<number, number> = {
  [REQ.HELLO]: 0,
  [REQ.REG_WRITE]: 6,
  [REQ.REG_READ]: 2,
  [REQ.MEM_WRITE]: 4,
  [REQ.MEM_READ]: 5,
  [REQ.STREAM_WRITE]: 1,
  [REQ.STREAM_READ]: 3,
};
const MAX_ARGS = 6;

export interface ExecChannels {
  /** Host-to-device channels (count only: bytes flow into the hub). */
  inCount: number;
  /** Bytes per beat of each device-to-host channel. */
  outBytes: number[];
  hasMem: boolean;
}

const S = {
  IDLE: 0, TYPE: 1, SEQ: 2, DECIDE: 3, ARGS: 4, CHECK: 5, REGW: 6, REGR: 7, PUTW: 8, MEMW_BYTE: 9, MEMW_CMD: 10,
  MEMR_CMD: 11, MEMR_RSP: 12, SW: 13, SR: 14, SR_BYTE: 15, DRAIN: 16, FIN: 17,
} as const;
const ACT_EXEC = 0;
const ACT_RESEND = 1;
const ACT_NAK = 2;

const P = { IDLE: 0, FLAG0: 1, FETCH: 2, USE: 3, CRC: 4, FLAG1: 5 } as const;

export function linkExecModule(cfg: LinkConfig, ch: ExecChannels, name = 'link_exec'): Module {
  const m = new Module(name, { doc: `link executor: ${ch.inCount} in / ${ch.outBytes.length} out channels, memory bus ${ch.hasMem ? 'yes' : 'no'}` });
  const L = cfg.lenBits;
  const W = cfg.maxFrames;
  /** NAK frame: [0xFF, expected, stalled, stall_seq, req_type, req_seq, held bitmap...] (req_* echo the request). */
  const NAK_BYTES = NAK_FIXED_BYTES + nakBitmapBytes(W);
  // rx side
  const frameAvail = m.input('frame_avail', 1);
  const frameLen = m.input('frame_len', L);
  const rdData = m.input('rd_data', 8);
  const rdNext = m.output('rd_next', 1);
  const frameDone = m.output('frame_done', 1);
  const held = m.input('held', W);
  const holeIn = m.input('hole', 1);
  const holeSeqIn = m.input('hole_seq', 8);
  const expectedOut = m.output('expected_o', 8);
  const execIdle = m.output('exec_idle', 1);
  const helloClear = m.output('hello_clear', 1);
  // register bank
  const regWe = m.output('reg_we', 1);
  const regAddr = m.output('reg_addr', 16);
  const regWdata = m.output('reg_wdata', 32);
  const regRdata = m.input('reg_rdata', 32);
  const regRok = m.input('reg_rok', 1);
  const regWok = m.input('reg_wok', 1);
  // channel hub
  const hValid = m.output('h_valid', 1);
  const hCh = m.output('h_ch', 8);
  const hData = m.output('h_data', 8);
  const hReady = m.input('h_ready', 1);
  /** Free bytes in the selected input channel's FIFO. */
  const hFree = m.input('h_free', 16);
  const dPop = m.output('d_pop', 1);
  const dCh = m.output('d_ch', 8);
  const dAvail = m.input('d_avail', 1);
  const dData = m.input('d_data', 8);
  const dLast = m.input('d_last', 1);
  // memory bus: {we, addr[31:0], wdata[31:0]} out, rdata in
  const memCmd = m.streamOut('mem_cmd', 65);
  const memRsp = m.streamIn('mem_rsp', 32);
  // response bytes to the UART
  const out = m.streamOut('out', 8);
  const busy = m.output('busy', 1);

  const PW = bitsFor(cfg.maxPayload + RESP_HEADER);
  const state = m.reg('state', 5, { init: S.IDLE });
  const action = m.reg('action', 2, { init: ACT_EXEC });
  const expected = m.reg('expected', 8, { init: 0 });
  const cached = m.reg('cached', 1, { init: 0 });
  const cachedLen = m.reg('cached_len', PW, { init: 0 });
  const type = m.reg('req_type', 8, { init: 0 });
  const seq = m.reg('req_seq', 8, { init: 0 });
  const rem = m.reg('rem', L, { init: 0 });
  const args = m.reg('args', 8 * MAX_ARGS, { init: 0 });
  const argi = m.reg('arg_i', 3, { init: 0 });
  const status = m.reg('status', 8, { init: 0 });
  const pw = m.reg('pw', PW, { init: 0 });
  const word = m.reg('word', 32, { init: 0 });
  const wcnt = m.reg('wcnt', 2, { init: 0 });
  const putRet = m.reg('put_ret', 5, { init: S.DRAIN });
  const maddr = m.reg('maddr', 32, { init: 0 });
  const mcount = m.reg('mcount', 8, { init: 0 });
  const chan = m.reg('chan', 8, { init: 0 });
  const maxBytes = m.reg('max_bytes', 16, { init: 0 });
  const fin = m.reg('fin_i', 2, { init: 0 });
  const stalled = m.reg('stalled', 1, { init: 0 });
  const resume = m.reg('resume', 1, { init: 0 });
  const stallSeq = m.reg('stall_seq', 8, { init: 0 });
  const encStart = m.reg('enc_start', 1, { init: 0 });
  const encNak = m.reg('enc_nak', 1, { init: 0 });
  const encLen = m.reg('enc_len', PW, { init: 0 });
  const txbuf = m.memory('txbuf', 8, cfg.maxPayload + RESP_HEADER);
  const holePend = m.reg('hole_pend', 1, { init: 0 });
  const holeSeq = m.reg('hole_seq_q', 8, { init: 0 });

  const inState = (s: number): Expr => state.eq(s);
  const typeIs = (t: number): Expr => type.eq(t);
  const needArgs = m.let(
    'need_args',
    Object.entries(ARG_BYTES).reduce<Expr>((acc, [t, n]) => mux(type.eq(Number(t)), lit(n, 3), acc), lit(0, 3)),
  );
  const isRead = m.let('is_read', [REQ.HELLO, REQ.REG_READ, REQ.MEM_READ, REQ.STREAM_READ].map((t) => type.eq(t)).reduce((a, b) => a.or(b)));
  const knownType = m.let('known_type', Object.keys(ARG_BYTES).map((t) => type.eq(Number(t))).reduce((a, b) => a.or(b)));
  /** Payload byte k of a request whose type carries n argument bytes (args shift in from the top). */
  const argByte = (n: number, k: number): Expr => args.slice(8 * (MAX_ARGS - n + k) + 7, 8 * (MAX_ARGS - n + k));
  const argBytes = (n: number, k: number, count: number): Expr => cat(...Array.from({ length: count }, (_, i) => argByte(n, k + count - 1 - i)));

  const encIdle = m.wire('enc_idle', 1);
  const bpbOut = ch.outBytes.length ? select(chan, ch.outBytes.map((b) => lit(b, 16))) : lit(1, 16);
  const srRoom = m.let('sr_room', pw.zext(16).add(bpbOut).le(maxBytes));

  // Combinational outputs decoded from the state.
  m.assign(rdNext, inState(S.TYPE).or(inState(S.SEQ)).or(inState(S.ARGS).and(argi.ne(needArgs)).and(rem.ne(0)))
    .or(inState(S.MEMW_BYTE).and(rem.ne(0))).or(inState(S.SW).and(rem.ne(0)).and(hReady)).or(inState(S.DRAIN).and(rem.ne(0))));
  m.assign(frameDone, inState(S.DRAIN).and(rem.eq(0)));
  m.assign(expectedOut, expected);
  m.assign(execIdle, inState(S.IDLE));
  m.assign(helloClear, inState(S.FIN).and(fin.eq(2)).and(typeIs(REQ.HELLO)));
  m.assign(regWe, inState(S.REGW));
  m.assign(regAddr, mux(typeIs(REQ.REG_WRITE), argBytes(6, 0, 2), argBytes(2, 0, 2)));
  m.assign(regWdata, argBytes(6, 2, 4));
  m.assign(hValid, inState(S.SW).and(rem.ne(0)));
  m.assign(hCh, chan);
  m.assign(hData, rdData);
  m.assign(dPop, inState(S.SR_BYTE));
  m.assign(dCh, chan);
  m.assign(memCmd.valid, inState(S.MEMW_CMD).or(inState(S.MEMR_CMD).and(mcount.ne(0))));
  m.assign(memCmd.data, cat(inState(S.MEMW_CMD), maddr, word));
  m.assign(memRsp.ready, inState(S.MEMR_RSP));

  const go = (b: Block, s: number): Block => b.set(state, s);
  m.sync((b) => {
    b.set(encStart, 0);
    b.switch(state, [
      [
        S.IDLE,
        (c) =>
          c.if(frameAvail.and(encIdle), (t) => go(t.set(rem, frameLen), S.TYPE), (e) =>
            // Nothing to execute: report a hole, unless `expected` has passed the frame that drew it.
            e.if(holePend.and(encIdle), (h) => {
              h.set(holePend, 0);
              h.if(holeSeq.sub(expected).lt(W), (x) => x.set(type, NAK_HOLE).set(seq, holeSeq).set(encStart, 1).set(encNak, 1).set(encLen, NAK_BYTES));
            }),
          ),
      ],
      [S.TYPE, (c) => go(c.set(type, rdData.and(lit(0xff ^ RESUME_BIT, 8))).set(resume, rdData.bit(6)).set(rem, rem.sub(1)), S.SEQ)],
      [S.SEQ, (c) => go(c.set(seq, rdData).set(rem, rem.sub(1)), S.DECIDE)],
      [
        S.DECIDE,
        (c) =>
          c.if(
            typeIs(REQ.SYNC).not().and(typeIs(REQ.HELLO).or(seq.eq(expected))),
            (t) => go(t.set(action, ACT_EXEC).set(argi, 0).set(args, 0).set(pw, 0).set(status, mux(knownType, lit(STATUS.OK, 8), lit(STATUS.BAD_REQUEST, 8))), S.ARGS),
            (e) => go(e.set(action, mux(seq.eq(expected.sub(1)).and(cached).and(typeIs(REQ.SYNC).not()), lit(ACT_RESEND, 2), lit(ACT_NAK, 2))), S.DRAIN),
          ),
      ],
      [
        S.ARGS,
        (c) =>
          c.if(
            argi.eq(needArgs),
            (t) => go(t, S.CHECK),
            (e) =>
              e.if(
                rem.eq(0),
                (u) => go(u.set(status, STATUS.BAD_REQUEST), S.DRAIN),
                (u) => u.set(args, cat(rdData, args.slice(8 * MAX_ARGS - 1, 8))).set(argi, argi.add(1)).set(rem, rem.sub(1)),
              ),
          ),
      ],
      [
        S.CHECK,
        (c) =>
          c.if(status.ne(STATUS.OK), (t) => go(t, S.DRAIN), (e0) => e0.if(stalled.and(resume.not()).and(isRead.not()), (t) => go(t.set(status, STATUS.BUSY).set(word, stallSeq.zext(32)).set(wcnt, 3).set(putRet, S.DRAIN), S.PUTW), (e) =>
            e.if(resume, (r) => r.set(stalled, 0)).switch(
              type,
              [
                [REQ.HELLO, (x) => go(x, S.DRAIN)],
                [REQ.REG_WRITE, (x) => x.if(rem.eq(0), (y) => go(y, S.REGW), (y) => go(y.set(status, STATUS.BAD_REQUEST), S.DRAIN))],
                [REQ.REG_READ, (x) => x.if(rem.eq(0), (y) => go(y, S.REGR), (y) => go(y.set(status, STATUS.BAD_REQUEST), S.DRAIN))],
                [
                  REQ.MEM_WRITE,
                  (x) => {
                    x.set(maddr, argBytes(4, 0, 4)).set(wcnt, 0);
                    if (!ch.hasMem) go(x.set(status, STATUS.BAD_TARGET), S.DRAIN);
                    else x.if(rem.slice(1, 0).eq(0), (y) => go(y, S.MEMW_BYTE), (y) => go(y.set(status, STATUS.BAD_REQUEST), S.DRAIN));
                  },
                ],
                [
                  REQ.MEM_READ,
                  (x) => {
                    const count = argByte(5, 4);
                    x.set(maddr, argBytes(5, 0, 4)).set(mcount, count);
                    if (!ch.hasMem) go(x.set(status, STATUS.BAD_TARGET), S.DRAIN);
                    else
                      x.if(rem.eq(0).and(count.ne(0)).and(count.le(cfg.maxPayload / MEM_WORD_BYTES)), (y) => go(y, S.MEMR_CMD), (y) =>
                        go(y.set(status, STATUS.BAD_REQUEST), S.DRAIN),
                      );
                  },
                ],
                [
                  REQ.STREAM_WRITE,
                  (x) => {
                    x.set(chan, argByte(1, 0));
                    x.if(
                      argByte(1, 0).lt(ch.inCount),
                      (y) => y.if(rem.zext(16).le(hFree), (z) => go(z, S.SW), (z) => go(z.set(status, STATUS.BUSY).set(stalled, 1).set(stallSeq, seq).set(word, seq.zext(32)).set(wcnt, 3).set(putRet, S.DRAIN), S.PUTW)),
                      (y) => go(y.set(status, STATUS.BAD_TARGET), S.DRAIN),
                    );
                  },
                ],
                [
                  REQ.STREAM_READ,
                  (x) => {
                    const mb = argBytes(3, 1, 2);
                    x.set(chan, argByte(3, 0)).set(maxBytes, mb);
                    x.if(
                      argByte(3, 0).lt(ch.outBytes.length),
                      (y) => y.if(rem.eq(0).and(mb.le(cfg.maxPayload)), (z) => go(z, S.SR), (z) => go(z.set(status, STATUS.BAD_REQUEST), S.DRAIN)),
                      (y) => go(y.set(status, STATUS.BAD_TARGET), S.DRAIN),
                    );
                  },
                ],
              ],
              (x) => go(x.set(status, STATUS.BAD_REQUEST), S.DRAIN),
            ),
          )),
      ],
      [S.REGW, (c) => go(c.set(status, mux(regWok, lit(STATUS.OK, 8), lit(STATUS.BAD_TARGET, 8))), S.DRAIN)],
      [
        S.REGR,
        (c) =>
          c.if(regRok, (t) => go(t.set(word, regRdata).set(wcnt, 0).set(putRet, S.DRAIN), S.PUTW), (e) => go(e.set(status, STATUS.BAD_TARGET), S.DRAIN)),
      ],
      [
        S.PUTW,
        (c) => {
          c.write(txbuf, pw.add(RESP_HEADER), word.slice(7, 0));
          c.set(word, word.shr(8)).set(pw, pw.add(1)).set(wcnt, wcnt.add(1));
          c.if(wcnt.eq(3), (t) => t.set(state, putRet));
        },
      ],
      [
        S.MEMW_BYTE,
        (c) =>
          c.if(rem.eq(0), (t) => go(t, S.DRAIN), (e) => {
            e.set(word, cat(rdData, word.slice(31, 8))).set(rem, rem.sub(1)).set(wcnt, wcnt.add(1));
            e.if(wcnt.eq(3), (t) => go(t, S.MEMW_CMD));
          }),
      ],
      [S.MEMW_CMD, (c) => c.if(memCmd.ready, (t) => go(t.set(maddr, maddr.add(1)), S.MEMW_BYTE))],
      [S.MEMR_CMD, (c) => c.if(mcount.eq(0), (t) => go(t, S.DRAIN), (e) => e.if(memCmd.ready, (t) => go(t, S.MEMR_RSP)))],
      [
        S.MEMR_RSP,
        (c) =>
          c.if(memRsp.valid, (t) => go(t.set(word, memRsp.data).set(wcnt, 0).set(putRet, S.MEMR_CMD).set(maddr, maddr.add(1)).set(mcount, mcount.sub(1)), S.PUTW)),
      ],
      [S.SW, (c) => c.if(rem.eq(0), (t) => go(t, S.DRAIN), (e) => e.if(hReady, (t) => t.set(rem, rem.sub(1))))],
      [S.SR, (c) => c.if(dAvail.and(srRoom), (t) => go(t, S.SR_BYTE), (e) => go(e, S.DRAIN))],
      [
        S.SR_BYTE,
        (c) => {
          c.write(txbuf, pw.add(RESP_HEADER), dData);
          c.set(pw, pw.add(1));
          c.if(dLast, (t) => go(t, S.SR));
        },
      ],
      [
        S.DRAIN,
        (c) =>
          c.if(
            rem.ne(0),
            (t) => t.set(rem, rem.sub(1)),
            (e) =>
              e.switch(
                action,
                [
                  [ACT_EXEC, (x) => go(x.set(fin, 0), S.FIN)],
                  [ACT_RESEND, (x) => go(x.set(encStart, 1).set(encNak, 0).set(encLen, cachedLen), S.IDLE)],
                ],
                (x) => go(x.set(encStart, 1).set(encNak, 1).set(encLen, NAK_BYTES), S.IDLE),
              ),
          ),
      ],
      [
        S.FIN,
        (c) => {
          c.write(txbuf, fin.zext(PW), select(fin, [type.or(lit(RESP_BIT, 8)), seq, status]));
          c.set(fin, fin.add(1));
          c.if(fin.eq(2), (t) => {
            const len = pw.add(RESP_HEADER);
            t.set(encStart, 1).set(encNak, 0).set(encLen, len).set(cachedLen, len).set(cached, 1);
            t.set(expected, mux(typeIs(REQ.HELLO), seq.add(1), expected.add(1)));
            go(t, S.IDLE);
          });
        },
      ],
    ]);
    b.if(holeIn, (t) => t.set(holePend, 1).set(holeSeq, holeSeqIn));
  }, 'exec');

  // ---- encoder: FLAG, stuffed(body, crc_hi, crc_lo), FLAG ----------------------------------------
  const pst = m.reg('enc_state', 3, { init: P.IDLE });
  const ei = m.reg('enc_i', PW, { init: 0 });
  const ecrc = m.reg('enc_crc', CRC_BITS, { init: CRC_INIT });
  const ecrcOut = m.let('enc_crc_out', ecrc.xor(lit(CRC_XOROUT, CRC_BITS)));
  const ek = m.reg('enc_crc_k', 2, { init: 0 });
  const tbq = m.reg('tb_q', 8, { init: 0 });
  const oValid = m.reg('o_valid', 1, { init: 0 });
  const oByte = m.reg('o_byte', 8, { init: 0 });
  const oHas2 = m.reg('o_has2', 1, { init: 0 });
  const o2 = m.reg('o_second', 8, { init: 0 });
  m.assign(out.valid, oValid);
  m.assign(out.data, oByte);
  m.assign(encIdle, pst.eq(P.IDLE).and(oValid.not()).and(encStart.not()));
  m.assign(busy, state.ne(S.IDLE).or(encIdle.not()).or(frameAvail).or(holePend));
  const accept = m.let('o_accept', oValid.not().or(out.ready.and(oHas2.not())));
  const heldWide = W < 8 * nakBitmapBytes(W) ? held.zext(8 * nakBitmapBytes(W)) : held;
  const heldBytes = Array.from({ length: nakBitmapBytes(W) }, (_, k) => heldWide.slice(8 * k + 7, 8 * k));
  const body = m.let('enc_body', mux(encNak, select(ei, [lit(NAK, 8), expected, stalled.zext(8), stallSeq, type, seq, ...heldBytes]), tbq));
  const crcN = crcByte(m, 'enc_crc_next', ecrc, body);
  const special = (x: Expr): Expr => x.eq(FLAG).or(x.eq(ESC));
  /** Load a byte into the output stage, escaping it unless it is a delimiter. */
  const load = (b: Block, x: Expr, raw: boolean): void => {
    b.set(oValid, 1);
    if (raw) {
      b.set(oByte, x).set(oHas2, 0);
      return;
    }
    b.set(oByte, mux(special(x), lit(ESC, 8), x)).set(oHas2, special(x)).set(o2, x.xor(lit(ESC_XOR, 8)));
  };
  m.sync((b) => {
    b.set(tbq, txbuf.read(ei));
  }, 'enc_fetch');
  m.sync((b) => {
    b.if(out.ready.and(oValid), (t) => t.if(oHas2, (u) => u.set(oByte, o2).set(oHas2, 0), (u) => u.set(oValid, 0)));
    b.switch(pst, [
      [P.IDLE, (c) => c.if(encStart, (t) => t.set(ei, 0).set(ecrc, CRC_INIT).set(ek, 0).set(pst, P.FLAG0))],
      [P.FLAG0, (c) => c.if(accept, (t) => load(t.set(pst, P.FETCH), lit(FLAG, 8), true))],
      [P.FETCH, (c) => c.set(pst, P.USE)],
      [
        P.USE,
        (c) =>
          c.if(accept, (t) => {
            load(t, body, false);
            t.set(ecrc, crcN).set(ei, ei.add(1));
            t.set(pst, mux(ei.eq(encLen.sub(1)), lit(P.CRC, 3), lit(P.FETCH, 3)));
          }),
      ],
      [
        P.CRC,
        (c) =>
          c.if(accept, (t) => {
            // CRC bytes MSB first: byte k is bits [31-8k : 24-8k].
            load(t, select(ek, [0, 1, 2, 3].map((k) => ecrcOut.slice(CRC_BITS - 1 - 8 * k, CRC_BITS - 8 - 8 * k))), false);
            t.set(ek, ek.add(1));
            t.if(ek.eq(CRC_BITS / 8 - 1), (u) => u.set(pst, P.FLAG1));
          }),
      ],
      [P.FLAG1, (c) => c.if(accept, (t) => load(t.set(pst, P.IDLE), lit(FLAG, 8), true))],
    ]);
  }, 'encoder');
  return m;
}
