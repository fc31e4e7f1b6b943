/**
 * A minimal 8N1 UART for the board shells' own contents (the stream bridge). The real link with framing, CRC and
 * retransmission is generator/link/ (issue 6); these two modules only move bytes.
 * The bit period is `divisor` clock cycles (round(fclk / baud)); the receiver samples mid-bit after a two-flop
 * synchroniser and drops frames whose stop bit is low.
 */
import { Module, cat, lit } from '../hdl';
import { uartClocksPerBit } from '../link/config';
import { bitsFor } from '../util/errors';

/** The board's UART divisor, by the same rule as the link (generator/link/config.ts). */
export const uartDivisor = uartClocksPerBit;

/** Receiver: `rx` pin in, stream `byte` out (a byte not taken before the next one arrives is overwritten). */
export function uartRxModule(divisor: number, name = 'uart_rx'): Module {
  const m = new Module(name, { doc: `UART receiver, 8N1, ${divisor} clocks per bit` });
  const rx = m.input('rx', 1);
  const out = m.streamOut('byte', 8);
  const cb = bitsFor(divisor);
  const s1 = m.reg('rx_s1', 1, { init: 1 });
  const s2 = m.reg('rx_s2', 1, { init: 1 });
  const busy = m.reg('busy', 1, { init: 0 });
  const cnt = m.reg('cnt', cb, { init: 0 });
  const idx = m.reg('idx', 4, { init: 0 });
  const shift = m.reg('shift', 8);
  const valid = m.reg('valid_r', 1, { init: 0 });
  const data = m.reg('data_r', 8);
  m.assign(out.valid, valid);
  m.assign(out.data, data);
  m.sync((b) => {
    b.set(s1, rx).set(s2, s1);
    b.if(out.fire, (t) => t.set(valid, 0));
    b.if(
      busy.not(),
      (t) => t.if(s2.not(), (s) => s.set(busy, 1).set(cnt, lit(Math.floor(divisor / 2) - 1, cb)).set(idx, 0)),
      (t) =>
        t.if(
          cnt.ne(0),
          (c) => c.set(cnt, cnt.sub(1)),
          (c) => {
            c.set(cnt, lit(divisor - 1, cb));
            c.switch(
              idx,
              [
                [0, (s) => s.if(s2, (f) => f.set(busy, 0), (f) => f.set(idx, 1))],
                [9, (s) => s.set(busy, 0).if(s2, (ok) => ok.set(valid, 1).set(data, shift))],
              ],
              (d) => d.set(shift, cat(s2, shift.slice(7, 1))).set(idx, idx.add(1)),
            );
          },
        ),
    );
  });
  return m;
}

/** Transmitter: stream `byte` in, `tx` pin out (idle high). */
export function uartTxModule(divisor: number, name = 'uart_tx'): Module {
  const m = new Module(name, { doc: `UART transmitter, 8N1, ${divisor} clocks per bit` });
  const inp = m.streamIn('byte', 8);
  const tx = m.output('tx', 1);
  const cb = bitsFor(divisor);
  const busy = m.reg('busy', 1, { init: 0 });
  const cnt = m.reg('cnt', cb, { init: 0 });
  const idx = m.reg('idx', 4, { init: 0 });
  const shift = m.reg('shift', 9, { init: 0x1ff });
  const line = m.reg('line', 1, { init: 1 });
  m.assign(tx, line);
  m.assign(inp.ready, busy.not());
  m.sync((b) => {
    b.if(
      busy.not(),
      (t) =>
        t.if(inp.valid, (s) =>
          s
            .set(busy, 1)
            .set(line, 0)
            .set(shift, cat(lit(1, 1), inp.data))
            .set(cnt, lit(divisor - 1, cb))
            .set(idx, 0),
        ),
      (t) =>
        t.if(
          cnt.ne(0),
          (c) => c.set(cnt, cnt.sub(1)),
          (c) => {
            c.set(cnt, lit(divisor - 1, cb));
            c.if(
              idx.eq(9),
              (d) => d.set(busy, 0),
              (d) => d.set(line, shift.bit(0)).set(shift, cat(lit(1, 1), shift.slice(8, 1))).set(idx, idx.add(1)),
            );
          },
        ),
    );
  });
  return m;
}
