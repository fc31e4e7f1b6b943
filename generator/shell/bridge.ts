/**
 * Stream bridge app: puts any streaming core (valid/ready ports only) behind the board UART, so designs that have
 * no link of their own yet (e.g. the GEMV unit) can be built and exercised on every board.
 *
 * Protocol (bytes, 8N1 at the board's baud rate; documented in docs/boards.md#stream-bridge):
 *   host -> board  [c | last << 6] then nbytes(c) data bytes, least significant first: one beat on input stream c
 *   board -> host  [0x80 | c | last << 6] then nbytes(c) data bytes: one beat of output stream c
 * Each input stream has a one-beat holding register. Bytes that arrive while a beat waits for a full holding
 * register are dropped: the host sends a beat only when the core can take it (no flow control; the issue-6 link
 * replaces this with windows and retransmission).
 */
import { Module, cat, lit, mux, orAll, plainPorts, type Block, type Expr, type Signal } from '../hdl';
import { ConfigError, bitsFor, clog2 } from '../util/errors';
import type { BoardApp } from './app';
import { uartClocksPerBit } from '../link/config';
import { uartRxModule, uartTxModule } from '../link/uart';

export interface BridgeChannel {
  id: number;
  stream: string;
  dir: 'in' | 'out';
  width: number;
  bytes: number;
  last: boolean;
  /** The first byte of a beat on the wire (without the last flag). */
  header: number;
}

export function streamBridgeApp(core: Module, clockHz: number, baud: number): BoardApp {
  const itf = core.interface();
  const plain = plainPorts(itf);
  if (plain.length) throw new ConfigError('design', `the stream bridge needs a core with only stream ports; ${core.name} has ${plain.map((p) => p.name).join(', ')}`);
  const ins = itf.streams.filter((s) => s.dir === 'in');
  const outs = itf.streams.filter((s) => s.dir === 'out');
  if (ins.length > 32 || outs.length > 32 || outs.length === 0) throw new ConfigError('design', 'the stream bridge needs 1..32 output and at most 32 input streams', core.name);
  const nb = (w: number) => Math.ceil(w / 8);
  const channels: BridgeChannel[] = [
    ...ins.map((s, c) => ({ id: c, stream: s.name, dir: 'in' as const, width: s.width, bytes: nb(s.width), last: Boolean(s.last), header: c })),
    ...outs.map((s, c) => ({ id: c, stream: s.name, dir: 'out' as const, width: s.width, bytes: nb(s.width), last: Boolean(s.last), header: 0x80 | c })),
  ];
  const divisor = uartClocksPerBit(clockHz, baud);

  const m = new Module(`${core.name}_bridge`, { doc: `UART stream bridge around ${core.name}: ${baud} baud, ${divisor} clocks per bit` });
  const uartRxPin = m.input('uart_rx', 1);
  const uartTxPin = m.output('uart_tx', 1);
  const trigger = m.output('trigger', 1);
  const led = m.output('led', 2);

  const rxMod = uartRxModule(divisor, `${core.name}_bridge_rx`, { hold: true });
  const txMod = uartTxModule(divisor, `${core.name}_bridge_tx`);
  const rxValid = m.wire('rxb_valid', 1);
  const rxData = m.wire('rxb_data', 8);
  const rxReady = m.wire('rxb_ready', 1);
  m.instance(rxMod, 'u_rx', { rxd: uartRxPin, byte_valid: rxValid, byte_data: rxData, byte_ready: rxReady, framing_error: m.wire('rx_framing_error', 1) });
  const txValid = m.wire('txb_valid', 1);
  const txData = m.wire('txb_data', 8);
  const txReady = m.wire('txb_ready', 1);
  m.instance(txMod, 'u_tx', { tx_valid: txValid, tx_data: txData, tx_ready: txReady, txd: uartTxPin });

  // Core connections: wires named after the core's ports.
  const coreConn: Record<string, Expr> = {};
  const w = (name: string, width: number): Signal => {
    const s = m.wire(`c_${name}`, width);
    coreConn[name] = s;
    return s;
  };

  // ---- host -> core -------------------------------------------------------------------------------
  const IDLE = 0;
  const COLLECT = 1;
  const PUSH = 2;
  const maxIn = Math.max(1, ...ins.map((s) => nb(s.width)));
  const srW = 8 * maxIn;
  const chB = Math.max(1, clog2(Math.max(2, ins.length)));
  const st = m.reg('in_state', 2, { init: IDLE });
  const ch = m.reg('in_ch', chB, { init: 0 });
  const lastFlag = m.reg('in_last', 1, { init: 0 });
  const cntB = bitsFor(maxIn);
  const cnt = m.reg('in_cnt', cntB, { init: 0 });
  const sr = m.reg('in_sr', srW);
  const rxFire = m.let('rx_fire', rxValid.and(rxReady));
  m.assign(rxReady, st.ne(PUSH));
  const chIs = ins.map((_, c) => m.let(`in_sel_${c}`, ch.eq(c)));
  const cntDone = ins.length ? orAll(ins.map((s, c) => chIs[c]!.and(cnt.eq(nb(s.width) - 1)))) : lit(0, 1);
  // One holding register per input stream, so streams a core consumes together (GEMV's w and s) can both be
  // valid at once.
  const fulls: Expr[] = [];
  const loads: Array<(b: Block) => void> = [];
  const fires: Array<[Expr, Signal]> = [];
  ins.forEach((s, c) => {
    const lo = srW - 8 * nb(s.width);
    const full = m.reg(`hold_full_${c}`, 1, { init: 0 });
    const hold = m.reg(`hold_data_${c}`, s.width);
    const holdLast = s.last ? m.reg(`hold_last_${c}`, 1) : undefined;
    m.assign(w(s.valid, 1), full);
    m.assign(w(s.data, s.width), hold);
    if (s.last && holdLast) m.assign(w(s.last, 1), holdLast);
    const ready = w(s.ready, 1);
    fulls.push(full.and(chIs[c]!));
    fires.push([full.and(ready), full]);
    loads.push((b) =>
      b.if(chIs[c]!, (t) => {
        t.set(full, 1).set(hold, sr.slice(lo + s.width - 1, lo));
        if (holdLast) t.set(holdLast, lastFlag);
      }),
    );
  });
  const targetFull = fulls.length ? orAll(fulls) : lit(1, 1);
  const validHeader = ins.length ? rxData.slice(5, 0).lt(ins.length).and(rxData.bit(7).not()) : lit(0, 1);
  m.sync((b) => {
    for (const [fire, full] of fires) b.if(fire, (t) => t.set(full, 0));
    b.if(rxFire.and(st.eq(IDLE)).and(validHeader), (t) =>
      t.set(ch, rxData.slice(chB - 1, 0)).set(lastFlag, rxData.bit(6)).set(cnt, 0).set(st, COLLECT),
    );
    b.if(rxFire.and(st.eq(COLLECT)), (t) => {
      t.set(sr, srW > 8 ? cat(rxData, sr.slice(srW - 1, 8)) : rxData);
      t.if(cntDone, (d) => d.set(st, PUSH), (d) => d.set(cnt, cnt.add(1)));
    });
    b.if(st.eq(PUSH).and(targetFull.not()), (t) => {
      for (const l of loads) l(t);
      t.set(st, IDLE);
    });
  });

  // ---- core -> host -------------------------------------------------------------------------------
  const maxOut = Math.max(...outs.map((s) => nb(s.width)));
  const osrW = 8 * (maxOut + 1);
  const sending = m.reg('out_busy', 1, { init: 0 });
  const osr = m.reg('out_sr', osrW);
  const ocntB = bitsFor(maxOut);
  const ocnt = m.reg('out_cnt', ocntB, { init: 0 });
  // Fixed priority: the first output stream with a beat wins.
  const outValid = outs.map((s) => w(s.valid, 1));
  const outData = outs.map((s) => w(s.data, s.width));
  const outLast = outs.map((s) => (s.last ? w(s.last, 1) : undefined));
  const grants: Expr[] = outs.map((_, c) => {
    let g: Expr = outValid[c]!.and(sending.not());
    for (let k = 0; k < c; k++) g = g.and(outValid[k]!.not());
    return m.let(`out_grant_${c}`, g);
  });
  outs.forEach((s, c) => m.assign(w(s.ready, 1), grants[c]!));
  const anyGrant = m.let('out_take', orAll(grants));
  let word: Expr = lit(0, osrW);
  let count: Expr = lit(0, ocntB);
  for (let c = outs.length - 1; c >= 0; c--) {
    const hdr = cat(lit(1, 1), outLast[c] ?? lit(0, 1), lit(c, 6));
    word = mux(grants[c]!, cat(outData[c]!.zext(8 * maxOut), hdr), word);
    count = mux(grants[c]!, lit(nb(outs[c]!.width), ocntB), count);
  }
  m.assign(txValid, sending);
  m.assign(txData, osr.slice(7, 0));
  const txFire = m.let('tx_fire', txValid.and(txReady));
  m.sync((b) => {
    b.if(anyGrant, (t) => t.set(osr, word).set(ocnt, count).set(sending, 1));
    b.if(txFire, (t) => {
      t.set(osr, cat(lit(0, 8), osr.slice(osrW - 1, 8)));
      t.if(ocnt.eq(0), (d) => d.set(sending, 0), (d) => d.set(ocnt, ocnt.sub(1)));
    });
  });

  // ---- status -------------------------------------------------------------------------------------
  const trig = m.reg('trigger_r', 1, { init: 0 });
  m.sync((b) => b.set(trig, anyGrant));
  m.assign(trigger, trig);
  const hbB = Math.max(2, Math.ceil(Math.log2(Math.max(4, clockHz))));
  const hb = m.reg('heartbeat', hbB, { init: 0 });
  m.sync((b) => b.set(hb, hb.add(1)));
  m.assign(led, cat(st.ne(IDLE).or(sending), hb.bit(hbB - 1)));

  m.instance(core, 'u_core', coreConn);
  return {
    module: m,
    description: `${core.name} behind a UART stream bridge (${baud} baud)`,
    regmap: { kind: 'lutforge-stream-bridge', version: 1, core: core.name, baud, clockHz, divisor, channels },
  };
}
