/**
 * The kernel top for an XDMA card: the core's register map served on an AXI4-Lite slave (XDMA's user BAR,
 * register word w at byte 4w, the same addresses as over the link: generator/regmap), and its streams as register
 * windows at byte STREAM_WINDOW + 0x100 * channel (channel order of the register map):
 *   input channel:  write the beat's 32-bit limbs at +4*i, lowest first; writing the top limb pushes the beat
 *                   (+0xFC reads 1 when the channel can take a beat);
 *   output channel: +0xFC reads 1 when a beat is waiting (bit 1 = its last flag); its limbs read at +4*i;
 *                   reading the top limb pops the beat.
 * Every other core port (the AXI4 masters) is passed through unchanged.
 */
import { Module, cat, lit, mux, type Expr, type Signal } from '../hdl';
import type { RegMap } from '../regmap/regmap';

export const STREAM_WINDOW = 0x10000;
const AW = 20;

export function axiLiteTop(core: Module, regmap: RegMap, name: string): Module {
  const m = new Module(name, { doc: `${core.name} behind an AXI4-Lite register slave (XDMA user BAR)` });
  const iface = core.interface();
  const conns: Record<string, Expr> = {};
  const streamSigs = new Set(iface.streams.flatMap((s) => [s.valid, s.ready, s.data, s.last].filter(Boolean) as string[]));
  const inRegs = new Set(regmap.registers.filter((r) => r.port).map((r) => r.port!.name));
  for (const p of iface.ports) {
    if (p.name === iface.clock || p.name === iface.reset || streamSigs.has(p.name) || inRegs.has(p.name)) continue;
    conns[p.name] = p.dir === 'input' ? m.input(p.name, p.width) : m.output(p.name, p.width);
  }
  const awvalid = m.input('s_axil_awvalid', 1);
  const awaddr = m.input('s_axil_awaddr', AW);
  const wvalid = m.input('s_axil_wvalid', 1);
  const wdata = m.input('s_axil_wdata', 32);
  m.input('s_axil_wstrb', 4);
  const bready = m.input('s_axil_bready', 1);
  const arvalid = m.input('s_axil_arvalid', 1);
  const araddr = m.input('s_axil_araddr', AW);
  const rready = m.input('s_axil_rready', 1);
  const awready = m.output('s_axil_awready', 1);
  const wready = m.output('s_axil_wready', 1);
  const bvalid = m.reg('b_v', 1, { init: 0 });
  const rvalid = m.reg('r_v', 1, { init: 0 });
  const rdata = m.reg('r_d', 32, { init: 0 });
  m.assign(m.output('s_axil_bvalid', 1), bvalid);
  m.assign(m.output('s_axil_bresp', 2), lit(0, 2));
  m.assign(m.output('s_axil_rvalid', 1), rvalid);
  m.assign(m.output('s_axil_rdata', 32), rdata);
  m.assign(m.output('s_axil_rresp', 2), lit(0, 2));
  const arready = m.output('s_axil_arready', 1);
  const wr = m.let('axil_wr', awvalid.and(wvalid).and(bvalid.not()));
  const rd = m.let('axil_rd', arvalid.and(rvalid.not()));
  m.assign(awready, wr);
  m.assign(wready, wr);
  m.assign(arready, rd);
  const wa = awaddr.slice(AW - 1, 2);
  const ra = araddr.slice(AW - 1, 2);
  const reads: Array<[number, Expr]> = [];
  // ---- registers ---------------------------------------------------------------------------------------------
  const byPort = new Map<string, Expr[]>();
  const portW = new Map(iface.ports.map((p) => [p.name, p.width]));
  const roWires = new Map<string, Signal>();
  for (const r of regmap.registers) {
    if (r.access === 'const') reads.push([r.addr, lit(r.value >>> 0, 32)]);
    else if (r.access === 'rw' && r.port) {
      const q = m.reg(`reg_${r.name}`, 32, { init: r.value >>> 0 });
      m.sync((b) => b.if(wr.and(wa.eq(r.addr)), (t) => t.set(q, wdata)));
      reads.push([r.addr, q]);
      const parts = byPort.get(r.port.name) ?? [];
      parts[r.port.part] = q;
      byPort.set(r.port.name, parts);
    } else if (r.access === 'ro' && r.port) {
      const w = portW.get(r.port.name)!;
      let sig = roWires.get(r.port.name);
      if (!sig) roWires.set(r.port.name, (sig = m.wire(`ro_${r.port.name}`, w)));
      const lo = 32 * r.port.part;
      reads.push([r.addr, sig.slice(Math.min(w, lo + 32) - 1, lo).resize(32)]);
    }
  }
  for (const [port, parts] of byPort) conns[port] = cat(...[...parts].reverse()).resize(portW.get(port)!);
  for (const [port, sig] of roWires) conns[port] = sig;
  // ---- stream windows --------------------------------------------------------------------------------------------
  const win = STREAM_WINDOW / 4;
  const popOn: Array<{ ready: Signal; when: Expr }> = [];
  regmap.channels.forEach((ch, c) => {
    const s = iface.streams.find((x) => x.name === ch.name)!;
    const limbs = Math.ceil(s.width / 32);
    const base = win + c * 64;
    if (s.dir === 'in') {
      const v = m.reg(`${s.name}_v`, 1, { init: 0 });
      const regs = Array.from({ length: limbs }, (_, i) => m.reg(`${s.name}_l${i}`, 32, { init: 0 }));
      const ready = m.wire(`${s.name}_rdy`, 1);
      conns[s.valid] = v;
      conns[s.ready] = ready;
      conns[s.data] = cat(...[...regs].reverse()).resize(s.width);
      if (s.last) conns[s.last] = lit(1, 1);
      m.sync((b) => {
        b.if(v.and(ready), (t) => t.set(v, 0));
        regs.forEach((q, i) => b.if(wr.and(wa.eq(base + i)).and(v.not()), (t) => t.set(q, wdata)));
        b.if(wr.and(wa.eq(base + limbs - 1)).and(v.not()), (t) => t.set(v, 1));
      });
      reads.push([base + 63, cat(lit(0, 31), v.not())]);
    } else {
      const valid = m.wire(`${s.name}_vld`, 1);
      const data = m.wire(`${s.name}_dat`, s.width);
      const ready = m.wire(`${s.name}_pop`, 1);
      const last = s.last ? m.wire(`${s.name}_lst`, 1) : lit(0, 1);
      conns[s.valid] = valid;
      conns[s.data] = data;
      conns[s.ready] = ready;
      if (s.last) conns[s.last] = last;
      for (let i = 0; i < limbs; i++) reads.push([base + i, data.slice(Math.min(s.width, 32 * i + 32) - 1, 32 * i).resize(32)]);
      reads.push([base + 63, cat(lit(0, 30), last, valid)]);
      popOn.push({ ready, when: rd.and(ra.eq(base + limbs - 1)).and(valid) });
    }
  });
  for (const p of popOn) m.assign(p.ready, p.when);
  let rv: Expr = lit(0, 32);
  for (const [a, v] of [...reads].reverse()) rv = mux(ra.eq(a), v, rv);
  m.sync((b) => {
    b.if(bvalid.and(bready), (t) => t.set(bvalid, 0));
    b.if(wr, (t) => t.set(bvalid, 1));
    b.if(rvalid.and(rready), (t) => t.set(rvalid, 0));
    b.if(rd, (t) => t.set(rvalid, 1).set(rdata, rv));
  });
  m.instance(core, 'core', conns);
  return m;
}
