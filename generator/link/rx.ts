/**
 * Frame receiver: unstuffs bytes, checks the CRC and stores whole frames in a FIFO (docs/protocol.md).
 * A frame is written speculatively and committed at its closing FLAG only if its CRC is good, it fits and
 * a length slot is free; otherwise the write pointer rolls back, so a bad frame never reaches the executor.
 * Any FLAG starts a new frame: garbage costs at most the frame it lands in (resynchronisation).
 *
 * Read side: `frame_avail`, `frame_len` (bytes without CRC), `rd_data` = the byte at the read pointer
 * (registered read, valid every cycle); `rd_next` advances one byte, `frame_done` pops the frame and skips its CRC.
 */
import { Module, lit, mux } from '../hdl';
import type { LinkConfig } from './config';
import { crcByte } from './crc';
import { CRC_BITS, CRC_BYTES, CRC_INIT, CRC_RESIDUE, ESC, ESC_XOR, FLAG, REQ_HEADER } from './protocol';

export function linkRxModule(cfg: LinkConfig, name = 'link_rx'): Module {
  const m = new Module(name, { doc: `link frame receiver: ${cfg.rxFifoBytes}-byte frame FIFO, ${cfg.maxFrames} frames, max frame ${cfg.maxFrameBytes} B` });
  const inValid = m.input('in_valid', 1);
  const inData = m.input('in_data', 8);
  const frameAvail = m.output('frame_avail', 1);
  const frameLen = m.output('frame_len', cfg.lenBits);
  const rdData = m.output('rd_data', 8);
  const rdNext = m.input('rd_next', 1);
  const frameDone = m.input('frame_done', 1);
  const framesOk = m.output('frames_ok', 32);
  const framesBad = m.output('frames_bad', 32);
  const busy = m.output('busy', 1);

  const A = cfg.fifoAddrBits;
  const P = A + 1; // pointers carry a wrap bit so full and empty differ
  const L = cfg.lenBits;
  const F = cfg.frameCountBits;
  const mem = m.memory('fifo', 8, cfg.rxFifoBytes);
  const lens = m.memory('lens', L, cfg.maxFrames);

  const inFrame = m.reg('in_frame', 1, { init: 0 });
  const esc = m.reg('esc', 1, { init: 0 });
  const bad = m.reg('bad', 1, { init: 0 });
  const cnt = m.reg('cnt', L, { init: 0 });
  const crc = m.reg('crc', CRC_BITS, { init: CRC_INIT });
  const wtmp = m.reg('wtmp', P, { init: 0 });
  const wcommit = m.reg('wcommit', P, { init: 0 });
  const rptr = m.reg('rptr', P, { init: 0 });
  const lw = m.reg('len_w', F + 1, { init: 0 });
  const lr = m.reg('len_r', F + 1, { init: 0 });
  const okCount = m.reg('ok_count', 32, { init: 0 });
  const badCount = m.reg('bad_count', 32, { init: 0 });
  const rdq = m.reg('rd_q', 8, { init: 0 });

  const used = m.let('used', wtmp.sub(rptr));
  const fifoFull = m.let('fifo_full', used.eq(cfg.rxFifoBytes));
  const lenCount = m.let('len_count', lw.sub(lr));
  const lenFull = m.let('len_full', lenCount.eq(cfg.maxFrames));
  m.assign(frameAvail, lenCount.ne(0));
  m.assign(frameLen, lens.read(lr.slice(F - 1, 0)));
  m.assign(rdData, rdq);
  m.assign(framesOk, okCount);
  m.assign(framesBad, badCount);
  m.assign(busy, inFrame.and(cnt.ne(0)).or(lenCount.ne(0)));

  const isFlag = m.let('is_flag', inData.eq(FLAG));
  const isEsc = m.let('is_esc', inData.eq(ESC));
  const dataByte = m.let('data_byte', mux(esc, inData.xor(lit(ESC_XOR, 8)), inData));
  const crcNext = crcByte(m, 'crc_next', crc, dataByte);
  const good = m.let('frame_good', inFrame.and(bad.not()).and(esc.not()).and(cnt.ge(REQ_HEADER + CRC_BYTES)).and(crc.eq(CRC_RESIDUE)).and(lenFull.not()));
  const rptrNext = m.let('rptr_next', rptr.add(mux(frameDone, lit(CRC_BYTES, P), lit(0, P))).add(rdNext.zext(P)));

  m.sync((b) => {
    b.set(rptr, rptrNext);
    b.set(rdq, mem.read(rptrNext.slice(A - 1, 0)));
  }, 'read_side');
  m.sync((b) => {
    b.if(frameDone, (t) => t.set(lr, lr.add(1)));
    b.if(inValid, (t) =>
      t.if(
        isFlag,
        (f) => {
          f.if(
            good,
            (g) => {
              g.write(lens, lw.slice(F - 1, 0), cnt.sub(CRC_BYTES));
              g.set(lw, lw.add(1)).set(wcommit, wtmp).set(okCount, okCount.add(1));
            },
            (g) => {
              g.set(wtmp, wcommit);
              g.if(inFrame.and(cnt.ne(0).or(bad)), (h) => h.set(badCount, badCount.add(1)));
            },
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
                    cnt.eq(cfg.maxFrameBytes).or(fifoFull),
                    (x) => x.set(bad, 1),
                    (x) => {
                      x.write(mem, wtmp.slice(A - 1, 0), dataByte);
                      x.set(wtmp, wtmp.add(1)).set(cnt, cnt.add(1)).set(crc, crcNext);
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
