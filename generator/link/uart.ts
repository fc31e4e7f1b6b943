/**
 * 8N1 UART, the one lutforge generates (the link and the shell's stream bridge). The divisor (clocks per bit) comes
 * from LinkConfig: clockHz/baud on a board (uartClocksPerBit), or the virtual board's simClocksPerBit. The receiver
 * samples mid-bit after a 2-flop synchroniser and drops bytes whose stop bit is 0 (framing error). A line cannot
 * wait, so by default its output is a one-cycle pulse; with `hold` it is a stream (`byte_ready` in) that holds a
 * byte until taken, and a byte not taken before the next one arrives is overwritten.
 */
import { Module, lit, mux } from '../hdl';
import { bitsFor } from '../util/errors';

export function uartTxModule(clocksPerBit: number, name = 'uart_tx'): Module {
  const m = new Module(name, { doc: `UART transmitter, 8N1, ${clocksPerBit} clocks per bit` });
  const tx = m.streamIn('tx', 8);
  const txd = m.output('txd', 1);
  const cb = bitsFor(clocksPerBit - 1);
  const busy = m.reg('busy', 1, { init: 0 });
  const shift = m.reg('shift', 10, { init: 0x3ff });
  const bit = m.reg('bit_idx', 4, { init: 0 });
  const cnt = m.reg('clk_cnt', cb, { init: 0 });
  m.assign(tx.ready, busy.not());
  m.assign(txd, shift.bit(0));
  m.sync((b) => {
    b.if(
      busy.not(),
      (t) =>
        t.if(tx.valid, (u) => {
          // {stop, data, start}: the LSB leaves first.
          u.set(shift, m.let('frame_bits', tx.data.zext(10).shl(1).or(lit(0x200, 10))));
          u.set(busy, 1).set(bit, 0).set(cnt, 0);
        }),
      (e) =>
        e.if(
          cnt.eq(clocksPerBit - 1),
          (t) => {
            t.set(cnt, 0);
            t.if(
              bit.eq(9),
              (u) => u.set(busy, 0).set(shift, 0x3ff),
              (u) => u.set(bit, bit.add(1)).set(shift, shift.shr(1).or(lit(0x200, 10))),
            );
          },
          (f) => f.set(cnt, cnt.add(1)),
        ),
    );
  });
  return m;
}

const R_IDLE = 0;
const R_START = 1;
const R_DATA = 2;
const R_STOP = 3;

export function uartRxModule(clocksPerBit: number, name = 'uart_rx', opts: { hold?: boolean } = {}): Module {
  const m = new Module(name, { doc: `UART receiver, 8N1, ${clocksPerBit} clocks per bit, mid-bit sampling${opts.hold ? ', output held until taken' : ''}` });
  const rxd = m.input('rxd', 1);
  const held = opts.hold ? m.streamOut('byte', 8) : null;
  const outValid = held ? held.valid : m.output('byte_valid', 1);
  const outData = held ? held.data : m.output('byte_data', 8);
  const framingError = m.output('framing_error', 1);
  const cb = bitsFor(clocksPerBit - 1);
  const s1 = m.reg('sync1', 1, { init: 1 });
  const s2 = m.reg('sync2', 1, { init: 1 });
  const state = m.reg('state', 2, { init: R_IDLE });
  const cnt = m.reg('clk_cnt', cb, { init: 0 });
  const bit = m.reg('bit_idx', 3, { init: 0 });
  const shift = m.reg('shift', 8, { init: 0 });
  const vr = m.reg('valid_r', 1, { init: 0 });
  const fe = m.reg('fe_r', 1, { init: 0 });
  m.assign(outValid, vr);
  m.assign(outData, shift);
  m.assign(framingError, fe);
  const tick = m.let('tick', cnt.eq(0));
  const full = lit(clocksPerBit - 1, cb);
  m.sync((b) => {
    b.set(s1, rxd).set(s2, s1).set(fe, 0);
    if (held) b.if(held.ready, (t) => t.set(vr, 0));
    else b.set(vr, 0);
    b.if(tick.not().and(state.ne(R_IDLE)), (t) => t.set(cnt, cnt.sub(1)));
    b.switch(state, [
      [R_IDLE, (c) => c.if(s2.not(), (t) => t.set(state, R_START).set(cnt, Math.floor(clocksPerBit / 2) - 1))],
      [R_START, (c) => c.if(tick, (t) => t.if(s2.not(), (u) => u.set(state, R_DATA).set(cnt, full).set(bit, 0), (u) => u.set(state, R_IDLE)))],
      [
        R_DATA,
        (c) =>
          c.if(tick, (t) => {
            t.set(shift, mux(s2, shift.shr(1).or(lit(0x80, 8)), shift.shr(1)));
            t.set(cnt, full);
            t.if(bit.eq(7), (u) => u.set(state, R_STOP), (u) => u.set(bit, bit.add(1)));
          }),
      ],
      [R_STOP, (c) => c.if(tick, (t) => t.set(state, R_IDLE).if(s2, (u) => u.set(vr, 1), (u) => u.set(fe, 1)))],
    ]);
  });
  return m;
}
