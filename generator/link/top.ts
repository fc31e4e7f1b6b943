/**
 * Wraps a design core with the link: UART, frame receiver, executor, register bank and stream channels.
 *
 * The core's boundary decides everything (no per-design glue):
 *   - plain input ports  -> rw registers, plain output ports -> ro registers (wide ports split in 32-bit parts);
 *   - input streams      -> host-to-device channels, output streams -> device-to-host channels, in interface order;
 *     a beat travels as ceil(width/8) little-endian bytes, plus one flag byte (bit 0 = last) if the stream has `last`;
 *   - streams named `mem_cmd` (in, 65 bits {we, addr[31:0], wdata[31:0]}) and `mem_rsp` (out, 32 bits) form the
 *     memory bus used by MEM_WRITE / MEM_READ (the core answers every read command with one mem_rsp beat);
 *   - a plain output named `busy` is ORed into the top's busy (the virtual board keeps simulating while it is high).
 *   - input streams named in `videoIn` (a camera) are no channel: they are AXI4-Stream video inputs of the top.
 *
 * `linkBoardTop` is what goes on an FPGA (pins: uart_rxd, uart_txd). `linkVirtualBoard` adds the host end of the
 * cable in RTL (a second UART pair) so the Verilator harness exchanges bytes with it on two 8-bit streams.
 */
import { Module, cat, lit, mux, orAll, select, type Expr, type Signal } from '../hdl';
import { plainPorts } from '../hdl/interface';
import { bitsFor } from '../util/errors';
import { regBankModule } from '../regmap/bank';
import { buildRegMap, type RegMap } from '../regmap/regmap';
import type { LinkConfig } from './config';
import { linkExecModule } from './exec';
import { linkRxModule } from './rx';
import { uartRxModule, uartTxModule } from './uart';

export interface LinkTopOptions {
  /** Design name (lower case): the register map's design id. */
  design: string;
  revision?: number;
  /** Words addressable on the memory bus (documentation for the host; the core decodes). */
  memWords?: number;
  /**
   * 'uart' (default): pins uart_rxd/uart_txd. 'bytes': the virtual board's byte bridge, no UART: the link's frame
   * receiver and encoder talk to the 8-bit streams h2d/d2h directly (one byte per clock), so a bench can run the
   * link at 3 Mbaud and more; the line rate is then paced outside (PtyBridge). The UART has its own tests.
   */
  phy?: 'uart' | 'bytes';
  /**
   * Core input streams that are not link channels but video inputs of the board top: a camera is wired to the
   * board (its frame grabber core's output), its pixels never cross the link. Each becomes an AXI4-Stream video
   * slave (Xilinx UG934) at the top: <stream>_tdata, _tuser, _tlast, _tvalid in, _tready out; the core's beat is
   * {tuser, tdata} (tuser in its top bit) with last = tlast. `enable` names a 1-bit plain core output also brought
   * out as <stream>_on (acquisition on, for the frame grabber); it stays a register as well.
   */
  videoIn?: VideoIn[];
}

export interface VideoIn {
  stream: string;
  enable?: string;
}

/** Top-level port names of a video input (see LinkTopOptions.videoIn). */
export const videoPortNames = (stream: string) => ({
  tdata: `${stream}_tdata`,
  tuser: `${stream}_tuser`,
  tlast: `${stream}_tlast`,
  tvalid: `${stream}_tvalid`,
  tready: `${stream}_tready`,
  on: `${stream}_on`,
});

export interface LinkTop {
  board: Module;
  regmap: RegMap;
}

const MEM_CMD = 'mem_cmd';
const MEM_RSP = 'mem_rsp';

export function linkBoardTop(core: Module, cfg: LinkConfig, opts: LinkTopOptions): LinkTop {
  const iface = core.interface();
  const memCmd = iface.streams.find((s) => s.name === MEM_CMD && s.dir === 'in');
  const memRsp = iface.streams.find((s) => s.name === MEM_RSP && s.dir === 'out');
  const hasMem = !!memCmd && !!memRsp;
  if (memCmd && memCmd.width !== 65) throw new Error(`link: core ${core.name} stream mem_cmd must be 65 bits, is ${memCmd.width}`);
  if (memRsp && memRsp.width !== 32) throw new Error(`link: core ${core.name} stream mem_rsp must be 32 bits, is ${memRsp.width}`);
  const video = (opts.videoIn ?? []).map((v) => {
    const s = iface.streams.find((x) => x.name === v.stream && x.dir === 'in');
    if (!s || !s.last || s.width < 2) throw new Error(`link: core ${core.name} has no input stream ${v.stream} with last and {tuser, tdata} for a video input`);
    const en = v.enable === undefined ? undefined : plainPorts(iface).find((p) => p.name === v.enable && p.dir === 'output' && p.width === 1);
    if (v.enable !== undefined && !en) throw new Error(`link: core ${core.name} has no 1-bit output ${v.enable} to enable video input ${v.stream}`);
    return { s, enable: en?.name };
  });
  const isVideo = (name: string): boolean => video.some((v) => v.s.name === name);
  const chanStreams = iface.streams.filter((s) => !(hasMem && (s.name === MEM_CMD || s.name === MEM_RSP)) && !isVideo(s.name));
  // AXI4 master ports (m<k>_axi_*) belong to the card shell (HBM), not to the register map.
  const ports = plainPorts(iface).filter((p) => !/^m\d+_axi_/.test(p.name));
  const regmap = buildRegMap({
    design: opts.design,
    revision: opts.revision,
    ports: ports.map((p) => ({ name: p.name, dir: p.dir, width: p.width })),
    channels: chanStreams.map((s) => ({ name: s.name, dir: s.dir, width: s.width, hasLast: !!s.last })),
    memory: hasMem ? { words: opts.memWords ?? 0 } : null,
    link: { maxPayload: cfg.maxPayload, rxFifoBytes: cfg.rxFifoBytes, clockHz: cfg.clockHz, baud: cfg.baud, clocksPerBit: cfg.clocksPerBit, simulated: cfg.simulated, maxFrames: cfg.maxFrames },
  });
  const ins = regmap.channels.filter((c) => c.dir === 'in');
  const outs = regmap.channels.filter((c) => c.dir === 'out');

  const bytes = opts.phy === 'bytes';
  const top = bytes
    ? new Module(`${opts.design}_vboard`, { doc: `virtual board: ${opts.design} core behind the lutforge link, bytes bridged to h2d/d2h (no UART)` })
    : new Module(`${opts.design}_top`, { doc: `${opts.design} core behind the lutforge link (UART ${cfg.clocksPerBit} clocks/bit)` });
  const h2d = bytes ? top.streamIn('h2d', 8) : null;
  const d2h = bytes ? top.streamOut('d2h', 8) : null;
  const rxd = bytes ? null : top.input('uart_rxd', 1);
  const txd = bytes ? null : top.output('uart_txd', 1);
  const busyOut = top.output('busy', 1);
  const videoPorts = video.map((v) => {
    const n = videoPortNames(v.s.name);
    return {
      v,
      tdata: top.input(n.tdata, v.s.width - 1),
      tuser: top.input(n.tuser, 1),
      tlast: top.input(n.tlast, 1),
      tvalid: top.input(n.tvalid, 1),
      tready: top.output(n.tready, 1),
      on: v.enable ? top.output(n.on, 1) : undefined,
    };
  });

  const urx = uartRxModule(cfg.clocksPerBit);
  const utx = uartTxModule(cfg.clocksPerBit);
  const lrx = linkRxModule(cfg);
  const exec = linkExecModule(cfg, { inCount: ins.length, outBytes: outs.map((c) => c.bytes), hasMem });
  const bank = regBankModule(regmap);

  // Wires for every port of the children, named <inst>_<port>.
  const wires = (inst: string, m: Module): Record<string, Signal> => {
    const w: Record<string, Signal> = {};
    for (const p of m.portList()) if (p.name !== 'clk' && p.name !== 'rst') w[p.name] = top.wire(`${inst}_${p.name}`, p.width, { signed: p.signed });
    return w;
  };
  const U = bytes ? {} : wires('urx', urx);
  const T = bytes ? {} : wires('utx', utx);
  const R = wires('rx', lrx);
  const E = wires('ex', exec);
  const B = wires('regs', bank);
  const C = wires('core', core);
  const connect = (m: Module, inst: string, w: Record<string, Signal>): void => {
    top.instance(m, inst, Object.fromEntries(Object.entries(w)));
  };

  // UART (or the byte bridge) <-> receiver / encoder
  if (h2d && d2h) {
    top.assign(h2d.ready, 1); // the receiver takes a byte every clock
    top.assign(R.in_valid!, h2d.valid);
    top.assign(R.in_data!, h2d.data);
    top.assign(d2h.valid, E.out_valid!);
    top.assign(d2h.data, E.out_data!);
    top.assign(E.out_ready!, d2h.ready);
  } else {
    top.assign(U.rxd!, rxd!);
    top.assign(txd!, T.txd!);
    top.assign(R.in_valid!, U.byte_valid!);
    top.assign(R.in_data!, U.byte_data!);
    top.assign(T.tx_valid!, E.out_valid!);
    top.assign(T.tx_data!, E.out_data!);
    top.assign(E.out_ready!, T.tx_ready!);
  }
  // receiver <-> executor
  top.assign(E.frame_avail!, R.frame_avail!);
  top.assign(E.frame_len!, R.frame_len!);
  top.assign(E.rd_data!, R.rd_data!);
  top.assign(R.rd_next!, E.rd_next!);
  top.assign(R.frame_done!, E.frame_done!);
  top.assign(R.expected!, E.expected_o!);
  top.assign(R.exec_idle!, E.exec_idle!);
  top.assign(R.hello_clear!, E.hello_clear!);
  top.assign(E.held!, R.held!);
  top.assign(E.hole!, R.hole!);
  top.assign(E.hole_seq!, R.hole_seq!);
  // executor <-> register bank
  top.assign(B.we!, E.reg_we!);
  top.assign(B.addr!, E.reg_addr!);
  top.assign(B.wdata!, E.reg_wdata!);
  top.assign(E.reg_rdata!, B.rdata!);
  top.assign(E.reg_rok!, B.rok!);
  top.assign(E.reg_wok!, B.wok!);
  top.assign(B.d_rx_frames_ok!, R.frames_ok!);
  top.assign(B.d_rx_frames_bad!, R.frames_bad!);
  // registers <-> core plain ports
  for (const p of ports) {
    const parts = regmap.registers.filter((r) => r.port?.name === p.name).sort((a, b) => b.port!.part - a.port!.part);
    if (p.dir === 'input') top.assign(C[p.name]!, cat(...parts.map((r) => B[`q_${r.name}`]!)));
    else for (const r of parts) top.assign(B[`d_${r.name}`]!, C[p.name]!.slice(32 * r.port!.part + r.width - 1, 32 * r.port!.part).asUnsigned());
  }
  // memory bus
  if (hasMem) {
    top.assign(C.mem_cmd_valid!, E.mem_cmd_valid!);
    top.assign(C.mem_cmd_data!, E.mem_cmd_data!);
    top.assign(E.mem_cmd_ready!, C.mem_cmd_ready!);
    top.assign(E.mem_rsp_valid!, C.mem_rsp_valid!);
    top.assign(E.mem_rsp_data!, C.mem_rsp_data!.asUnsigned());
    top.assign(C.mem_rsp_ready!, E.mem_rsp_ready!);
  } else {
    top.assign(E.mem_cmd_ready!, 0);
    top.assign(E.mem_rsp_valid!, 0);
    top.assign(E.mem_rsp_data!, 0);
  }
  // host-to-device channels: bytes -> per-channel FIFO -> beat register -> core input stream.
  // The executor only starts a STREAM_WRITE whose payload fits in the FIFO (else BUSY), so it never blocks.
  const depth = 2 ** Math.ceil(Math.log2(2 * cfg.maxPayload));
  const ab = Math.log2(depth);
  const readies: Expr[] = [];
  const frees: Expr[] = [];
  const hinBusy: Expr[] = [];
  for (const c of ins) {
    const s = iface.streams.find((x) => x.name === c.name && x.dir === 'in')!;
    const nb = c.bytes;
    const k = c.index;
    const fifo = top.memory(`hin${k}_fifo`, 8, depth);
    const wp = top.reg(`hin${k}_wp`, ab + 1, { init: 0 });
    const wpd = top.reg(`hin${k}_wp_d`, ab + 1, { init: 0 });
    const rp = top.reg(`hin${k}_rp`, ab + 1, { init: 0 });
    const q = top.reg(`hin${k}_q`, 8, { init: 0 });
    const buf = top.reg(`hin${k}_buf`, 8 * nb, { init: 0 });
    const idx = top.reg(`hin${k}_idx`, bitsFor(nb - 1), { init: 0 });
    const full = top.reg(`hin${k}_full`, 1, { init: 0 });
    const used = top.let(`hin${k}_used`, wp.sub(rp));
    const take = top.let(`hin${k}_take`, E.h_valid!.and(E.h_ch!.eq(k)).and(used.ne(depth)));
    // A byte is readable one cycle after its write is visible (registered read of the next read address).
    const avail = top.let(`hin${k}_avail`, wpd.ne(rp));
    const pop = top.let(`hin${k}_pop`, avail.and(full.not()));
    const rpNext = top.let(`hin${k}_rp_next`, rp.add(pop.zext(ab + 1)));
    const coreReady = C[s.ready]!;
    top.sync((b) => {
      b.set(wpd, wp).set(rp, rpNext);
      b.set(q, fifo.read(rpNext.slice(ab - 1, 0)));
      b.if(take, (t) => t.write(fifo, wp.slice(ab - 1, 0), E.h_data!).set(wp, wp.add(1)));
      b.if(full.and(coreReady), (t) => t.set(full, 0));
      b.if(pop, (t) => {
        t.set(buf, nb === 1 ? q : cat(q, buf.slice(8 * nb - 1, 8)));
        t.if(idx.eq(nb - 1), (u) => u.set(idx, 0).set(full, 1), (u) => u.set(idx, idx.add(1)));
      });
    });
    top.assign(C[s.valid]!, full);
    const dataPort = C[s.data]!;
    top.assign(dataPort, dataPort.signed ? buf.slice(c.width - 1, 0).asSigned() : buf.slice(c.width - 1, 0));
    if (s.last) top.assign(C[s.last]!, buf.bit(8 * (nb - 1)));
    readies.push(used.ne(depth));
    hinBusy.push(used.ne(0).or(full));
    frees.push(lit(depth, ab + 1).sub(used).zext(16));
  }
  top.assign(E.h_ready!, ins.length ? select(E.h_ch!, readies) : lit(0, 1));
  top.assign(E.h_free!, ins.length ? select(E.h_ch!, frees) : lit(0, 16));
  // device-to-host channels: core output streams -> beat registers -> bytes
  const avail: Expr[] = [];
  const datas: Expr[] = [];
  const lasts: Expr[] = [];
  for (const c of outs) {
    const s = iface.streams.find((x) => x.name === c.name && x.dir === 'out')!;
    const nb = c.bytes;
    const buf = top.reg(`dout${c.index}_buf`, 8 * nb, { init: 0 });
    const idx = top.reg(`dout${c.index}_idx`, bitsFor(nb - 1), { init: 0 });
    const full = top.reg(`dout${c.index}_full`, 1, { init: 0 });
    const pop = top.let(`dout${c.index}_pop`, E.d_pop!.and(E.d_ch!.eq(c.index)).and(full));
    const lastByte = idx.eq(nb - 1);
    const dataBits = C[s.data]!.asUnsigned();
    const beat = s.last ? cat(C[s.last]!.zext(8), dataBits.zext(8 * (nb - 1))) : dataBits.zext(8 * nb);
    top.assign(C[s.ready]!, full.not());
    top.sync((b) => {
      b.if(full.not().and(C[s.valid]!), (t) => t.set(buf, beat).set(full, 1).set(idx, 0));
      b.if(pop, (t) => {
        if (nb > 1) t.set(buf, buf.shr(8));
        t.if(lastByte, (u) => u.set(full, 0).set(idx, 0), (u) => u.set(idx, idx.add(1)));
      });
    });
    avail.push(full);
    datas.push(buf.slice(7, 0));
    lasts.push(lastByte);
  }
  top.assign(E.d_avail!, outs.length ? select(E.d_ch!, avail) : lit(0, 1));
  top.assign(E.d_data!, outs.length ? select(E.d_ch!, datas) : lit(0, 8));
  top.assign(E.d_last!, outs.length ? select(E.d_ch!, lasts) : lit(1, 1));

  // video inputs: straight from the top's AXI4-Stream video ports into the core (no link, no buffering)
  for (const p of videoPorts) {
    const s = p.v.s;
    top.assign(C[s.valid]!, p.tvalid);
    const d = cat(p.tuser, p.tdata);
    top.assign(C[s.data]!, C[s.data]!.signed ? d.asSigned() : d);
    top.assign(C[s.last!]!, p.tlast);
    top.assign(p.tready, C[s.ready]!);
    if (p.on) top.assign(p.on, C[p.v.enable!]!);
  }

  if (!bytes) {
    connect(urx, 'urx', U);
    connect(utx, 'utx', T);
  }
  connect(lrx, 'rx', R);
  connect(exec, 'ex', E);
  connect(bank, 'regs', B);
  connect(core, 'core', C);
  const busy: Expr[] = bytes ? [R.busy!, E.busy!, E.out_valid!, ...hinBusy] : [R.busy!, E.busy!, U.byte_valid!, T.tx_ready!.not(), ...hinBusy];
  if (C.busy && ports.some((p) => p.name === 'busy' && p.dir === 'output') && C.busy.width === 1) busy.push(C.busy);
  top.assign(busyOut, orAll(busy));
  return { board: top, regmap };
}

/**
 * The virtual board: the board top plus the host end of the cable (UART tx/rx in RTL), so the Verilator harness
 * talks bytes: `h2d` (host to device) and `d2h` (device to host) 8-bit streams, and `busy`.
 */
export function linkVirtualBoard(board: Module, cfg: LinkConfig, name = `${board.name.replace(/_top$/, '')}_vboard`): Module {
  const m = new Module(name, { doc: `virtual board: ${board.name} with the host end of its UART cable` });
  const h2d = m.streamIn('h2d', 8);
  const d2h = m.streamOut('d2h', 8);
  const busy = m.output('busy', 1);
  const ctx = uartTxModule(cfg.clocksPerBit, 'cable_tx');
  const crx = uartRxModule(cfg.clocksPerBit, 'cable_rx');
  const line1 = m.wire('line_h2d', 1);
  const line2 = m.wire('line_d2h', 1);
  const boardBusy = m.wire('board_busy', 1);
  const rxValid = m.wire('cable_rx_valid', 1);
  const rxData = m.wire('cable_rx_data', 8);
  const rxFe = m.wire('cable_rx_fe', 1);
  const txReady = m.wire('cable_tx_ready', 1);
  m.instance(ctx, 'cable_tx', { tx_valid: h2d.valid, tx_ready: txReady, tx_data: h2d.data, txd: line1 });
  m.assign(h2d.ready, txReady);
  m.instance(crx, 'cable_rx', { rxd: line2, byte_valid: rxValid, byte_data: rxData, framing_error: rxFe });
  const conn: Record<string, Expr> = { uart_rxd: line1, uart_txd: line2, busy: boardBusy };
  // anything else on the board top (video inputs) stays a port of the virtual board, for the harness to drive
  for (const p of board.ports) {
    if (p.name in conn || p.name === 'clk' || p.name === 'rst') continue;
    conn[p.name] = p.role === 'input' ? m.input(p.name, p.width) : m.output(p.name, p.width);
  }
  m.instance(board, 'board', conn);
  // A line cannot wait: hold one byte for the harness (it drains every cycle unless stalls are asked for).
  const hv = m.reg('hold_valid', 1, { init: 0 });
  const hd = m.reg('hold_data', 8, { init: 0 });
  m.sync((b) => {
    b.if(d2h.ready.and(hv), (t) => t.set(hv, 0));
    b.if(rxValid, (t) => t.set(hv, 1).set(hd, rxData));
  });
  m.assign(d2h.valid, hv);
  m.assign(d2h.data, hd);
  m.assign(busy, boardBusy.or(hv).or(txReady.not()).or(h2d.valid));
  void mux;
  void rxFe;
  return m;
}
