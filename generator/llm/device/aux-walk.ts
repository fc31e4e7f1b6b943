/**
 * The aux stream of one block as both sequencer back-ends walk it (pack.ts packBlockAux defines the order): per
 * token of the block its constant beat a0 and its embedding row (rowBeats beats), then the decode step's aux tail
 * once. `cnt` is the beat inside the token's part (0 = a0, 1..rowBeats = the row) and, after the last token's row,
 * continues into the tail (rowBeats + 1 ..); `tok` is the block's token being walked.
 */
import { lit, type Expr, type Module, type Signal } from '../../hdl';
import { bitsFor } from '../../util/errors';
import type { LlmDeviceConfig } from './layout';

/** What the step control hands a back-end for a block. */
export interface BlockCtl {
  /** One-cycle strobe: the block's last tok beat was accepted (start the readers). */
  start: Expr;
  /** Token 0's id, valid in the start cycle (it may be the beat accepted that cycle). */
  firstId: Expr;
  /** count - 1 of the running block (a register, valid from the cycle after start). */
  nLast: Expr;
  /** The id of token k of the running block (registers, valid after start); only used when prefillBlock > 1. */
  idAt: (k: Expr) => Expr;
}

export interface AuxWalk {
  cnt: Signal;
  tok: Expr;
  /** The beat at the walk's position is an embedding-row beat. */
  isE: Expr;
  /** The walk's position is the block's last aux beat. */
  last: Expr;
  /** Advancing now moves to the next token's a0 (after a row that is not the last token's). */
  wraps: Expr;
}

export function auxWalk(m: Module, d: LlmDeviceConfig, prefix: string, blk: BlockCtl, advance: Expr): AuxWalk {
  const cnt = m.reg(`${prefix}_cnt`, bitsFor(d.auxBeats), { init: 0 });
  const isE = m.let(`${prefix}_is_e`, cnt.ge(1).and(cnt.le(d.rowBeats)));
  const atEnd = cnt.eq(d.auxBeats - 1);
  if (d.prefillBlock === 1) {
    m.sync((b) => {
      b.if(advance, (t) => t.set(cnt, cnt.add(1)));
      b.if(blk.start, (t) => t.set(cnt, 0));
    });
    return { cnt, tok: lit(0, 1), isE, last: atEnd, wraps: lit(0, 1) };
  }
  const tok = m.reg(`${prefix}_tok`, bitsFor(d.prefillBlock - 1), { init: 0 });
  const lastTok = m.let(`${prefix}_last_tok`, tok.eq(blk.nLast.resize(tok.width)));
  const wraps = m.let(`${prefix}_wraps`, cnt.eq(d.rowBeats).and(lastTok.not()));
  m.sync((b) => {
    b.if(advance, (t) => t.if(wraps, (u) => u.set(cnt, 0).set(tok, tok.add(1)), (u) => u.set(cnt, cnt.add(1))));
    b.if(blk.start, (t) => t.set(cnt, 0).set(tok, 0));
  });
  return { cnt, tok, isE, last: m.let(`${prefix}_last`, atEnd.and(lastTok)), wraps };
}
