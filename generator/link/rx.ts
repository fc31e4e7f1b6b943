/**
 * Frame receiver with a reorder buffer (docs/protocol.md#reliability): unstuffs bytes, checks the CRC and files each
 * good frame by its seq, so a frame that arrives after a lost one waits instead of being dropped (selective repeat).
 *
 * - maxFrames slots of slotBytes (rxFifoBytes / maxFrames) in one memory. A frame whose seq is in the window
 *   [expected, expected + maxFrames) and that is neither HELLO nor SYNC goes to slot seq % maxFrames. Its bytes are
 *   written one byte late, because the slot is known only once byte 1 (seq) has arrived. The slot becomes valid at the
 *   closing FLAG if the CRC is good, the body fits the slot and the slot was free (a copy of a held frame is dropped).
 * - Every other frame (HELLO, SYNC, or a seq outside the window: a stale copy the sequence rule answers) goes to the one
 *   control slot, which keeps only type, seq and length: the executor never reads the arguments of such a frame,
 *   except HELLO's, which has none. It is dropped if the control slot is full.
 * - A frame filed ahead of `expected` raises `hole` (the executor reports it with a NAK).
 * - Any FLAG starts a new frame: garbage costs at most the frame it lands in (resynchronisation).
 *
 * Read side: when the executor is idle, the receiver picks the frame at `expected` if held, else the control frame,
 * and presents it as before: `frame_avail`, `frame_len` (bytes without CRC), `rd_data` = the byte at the read offset
 * (valid every cycle), `rd_next` advances one byte, `frame_done` frees the slot. `held` bit k says the frame with
 * seq expected + k is held; `hello_clear` (HELLO executed) frees every slot.
 */
import { Module, cat, lit, mux, select, type Expr } from '../hdl';
import type { LinkConfig } from './config';
import { crcByte } from './crc';
import { CRC_BITS, CRC_BYTES, CRC_INIT, CRC_RESIDUE, ESC, ESC_XOR, FLAG, REQ, REQ_HEADER, RESUME_BIT } from './protocol';

/** x rotated right by k bits (bit i of the result is bit (i + k) mod width of x). */
function rotR(x: Expr, k: number): Expr {
  const w = x.width;
  k %= w;
  return k === 0 ? x : cat(x.slice(k - 1, 0), x.slice(w - 1, k));
}

/** One-hot decode of idx over n bits. */
function onehot(idx: Expr, n: number): Expr {
  return cat(...Array.from({ length: n }, (_, i) => idx.eq(n - 1 - i)));
}

export function linkRxModule(cfg: LinkConfig, name = 'link_rx'): Module {
  const W = cfg.maxFrames;
  const S = cfg.slotBytes;
  const m = new Module(name, { doc: `link frame receiver: reorder buffer of ${W} slots x ${S} B, one control slot` });
  const inValid = m.input('in_valid', 1);
  const inData = m.input('in_data', 8);
  const expected = m.input('expected', 8);
  const execIdle = m.input('exec_idle', 1);
  const helloClear = m.input('hello_clear', 1);
  const frameAvail = m.output('frame_avail', 1);
  const frameLen = m.output('frame_len', cfg.lenBits);
  const rdData = m.output('rd_data', 8);
  const rdNext = m.input('rd_next', 1);
  const frameDone = m.input('frame_done', 1);
  const heldOut = m.output('held', W);
  const holeOut = m.output('hole', 1);
  const holeSeqOut = m.output('hole_seq', 8);
  const framesOk = m.output('frames_ok', 32);
  const framesBad = m.output('frames_bad', 32);
  const busy = m.output('busy', 1);

  const L = cfg.lenBits;
  const IB = Math.log2(W); // slot index bits
  const OB = Math.log2(S); // offset bits
  const mem = m.memory('slots', 8, W * S);
  const lens = m.memory('lens', L, W);

  // ---- write side ------------------------------------------------------------------------------
  const inFrame = m.reg('in_frame', 1, { init: 0 });
  const esc = m.reg('esc', 1, { init: 0 });
  const bad = m.reg('bad', 1, { init: 0 });
  const cnt = m.reg('cnt', L, { init: 0 });
  const crc = m.reg('crc', CRC_BITS, { init: CRC_INIT });
  const prev = m.reg('prev', 8, { init: 0 });
  const toCtl = m.reg('to_ctl', 1, { init: 0 });
  const fType = m.reg('f_type', 8, { init: 0 });
  const fSeq = m.reg('f_seq', 8, { init: 0 });
  const valid = m.reg('valid', W, { init: 0 });
  const ctlValid = m.reg('ctl_valid', 1, { init: 0 });
  const ctlType = m.reg('ctl_type', 8, { init: 0 });
  const ctlSeq = m.reg('ctl_seq', 8, { init: 0 });
  const ctlLen = m.reg('ctl_len', L, { init: 0 });
  const hole = m.reg('hole_r', 1, { init: 0 });
  const holeSeq = m.reg('hole_seq_r', 8, { init: 0 });
  const okCount = m.reg('ok_count', 32, { init: 0 });
  const badCount = m.reg('bad_count', 32, { init: 0 });

  const isFlag = m.let('is_flag', inData.eq(FLAG));
  const isEsc = m.let('is_esc', inData.eq(ESC));
  const dataByte = m.let('data_byte', mux(esc, inData.xor(lit(ESC_XOR, 8)), inData));
  const crcNext = crcByte(m, 'crc_next', crc, dataByte);
  const eIdx = m.let('exp_idx', expected.slice(IB - 1, 0));
  // held bit k: slot (expected + k) % W, i.e. valid rotated right by expected % W.
  let rot: Expr = valid;
  for (let b = 0; b < IB; b++) rot = mux(eIdx.bit(b), rotR(rot, 1 << b), rot);
  const held = m.let('held_rot', rot);
  m.assign(heldOut, held);

  // Byte 1 (seq) decides where the frame goes; byte 0 (type) is in `prev`.
  const t0 = m.let('type0', prev.and(lit(0xff ^ RESUME_BIT, 8)));
  const inWindow = m.let('in_window', t0.ne(REQ.HELLO).and(t0.ne(REQ.SYNC)).and(dataByte.sub(expected).lt(W)));
  const seqIdx = m.let('seq_idx', dataByte.slice(IB - 1, 0));
  const slotBusy = m.let('slot_busy', valid.and(onehot(seqIdx, W)).any());
  const dIdx = m.let('dest_idx', fSeq.slice(IB - 1, 0));
  const bodyLen = m.let('body_len', cnt.sub(CRC_BYTES));
  const fits = m.let('fits', mux(toCtl, ctlValid.not(), bodyLen.le(S)));
  const good = m.let('frame_good', inFrame.and(bad.not()).and(esc.not()).and(cnt.ge(REQ_HEADER + CRC_BYTES)).and(crc.eq(CRC_RESIDUE)).and(fits));
  /** Offset of the byte in `prev` (byte cnt - 1). */
  const wOff = m.let('w_off', cnt.sub(1));

  // ---- read side -------------------------------------------------------------------------------
  const reading = m.reg('reading', 1, { init: 0 });
  const selCtl = m.reg('sel_ctl', 1, { init: 0 });
  const selIdx = m.reg('sel_idx', IB, { init: 0 });
  const off = m.reg('off', L, { init: 0 });
  const curLen = m.reg('cur_len', L, { init: 0 });
  const rdq = m.reg('rd_q', 8, { init: 0 });
  const candData = m.let('cand_data', held.bit(0));
  const expLen = m.let('exp_len', lens.read(eIdx));
  const latch = m.let('latch', reading.not().and(execIdle).and(candData.or(ctlValid)));
  const selIdxNext = m.let('sel_idx_next', mux(latch, eIdx, selIdx));
  const offNext = m.let('off_next', mux(latch, lit(0, L), off.add(rdNext.zext(L))));
  m.assign(frameAvail, reading);
  m.assign(frameLen, curLen);
  m.assign(rdData, mux(selCtl, select(off, [ctlType, ctlSeq, lit(0, 8)]), rdq));
  m.assign(holeOut, hole);
  m.assign(holeSeqOut, holeSeq);
  m.assign(framesOk, okCount);
  m.assign(framesBad, badCount);
  m.assign(busy, inFrame.and(cnt.ne(0)).or(reading).or(latch));

  const freeData = m.let('free_data', frameDone.and(selCtl.not()));
  const setData = m.wire('set_data', W);
  m.sync((b) => {
    b.set(off, offNext);
    b.set(rdq, mem.read(cat(selIdxNext, offNext.slice(OB - 1, 0))));
    b.if(latch, (t) => {
      t.set(reading, 1).set(selCtl, candData.not()).set(selIdx, eIdx);
      t.set(curLen, mux(candData, expLen, ctlLen));
    });
    b.if(frameDone, (t) => t.set(reading, 0));
  }, 'read_side');

  // The valid bits: set at a commit, cleared when the executor is done with a slot, all cleared by HELLO.
  m.assign(setData, mux(inValid.and(isFlag).and(good).and(toCtl.not()), onehot(dIdx, W), lit(0, W)));
  m.sync((b) => {
    b.set(valid, mux(helloClear, lit(0, W), valid.or(setData).and(mux(freeData, onehot(selIdx, W), lit(0, W)).not())));
  }, 'valid_bits');

  m.sync((b) => {
    b.set(hole, 0);
    b.if(frameDone.and(selCtl), (t) => t.set(ctlValid, 0));
    b.if(inValid, (t) =>
      t.if(
        isFlag,
        (f) => {
          f.if(
            good,
            (g) => {
              g.set(okCount, okCount.add(1));
              g.if(
                toCtl,
                (c) => c.set(ctlValid, 1).set(ctlType, fType).set(ctlSeq, fSeq).set(ctlLen, bodyLen),
                (d) => {
                  d.write(lens, dIdx, bodyLen);
                  d.if(fSeq.ne(expected), (h) => h.set(hole, 1).set(holeSeq, fSeq));
                },
              );
            },
            (g) => g.if(inFrame.and(cnt.ne(0).or(bad)), (h) => h.set(badCount, badCount.add(1))),
          );
          f.set(inFrame, 1).set(esc, 0).set(bad, 0).set(cnt, 0).set(crc, CRC_INIT);
        },
        (d) =>
          d.if(inFrame, (fr) =>
            fr.if(
              isEsc.and(esc.not()),
              (e) => e.set(esc, 1),
              (e) => {
                e.set(esc, 0);
                e.if(bad.not(), (nb) =>
                  nb.if(
                    cnt.eq(cfg.maxFrameBytes),
                    (x) => x.set(bad, 1),
                    (x) => {
                      x.set(prev, dataByte).set(cnt, cnt.add(1)).set(crc, crcNext);
                      x.if(cnt.eq(1), (y) => {
                        y.set(fType, prev).set(fSeq, dataByte).set(toCtl, inWindow.not());
                        // A copy of a frame already held: drop it (the slot is not ours to write).
                        y.if(inWindow.and(slotBusy), (z) => z.set(bad, 1), (z) => z.if(inWindow, (w) => w.write(mem, cat(seqIdx, lit(0, OB)), prev)));
                      });
                      x.if(cnt.gt(1).and(toCtl.not()).and(wOff.lt(S)), (y) => y.write(mem, cat(dIdx, wOff.slice(OB - 1, 0)), prev));
                    },
                  ),
                );
              },
            ),
          ),
      ),
    );
  }, 'write_side');
  return m;
}
