/**
 * The virtual U280 card for `llm run --device sim --memory hbm`: the AXI llmdev core with one HBM channel model
 * (hbm.ts) on each of its masters. The link's memory bus plays XDMA's path into the HBM (SmartConnect on the card):
 * host word address a is HBM byte address 4a, so channel k starts at word k * PC_BYTES / 4, as on the card.
 * Registers hbm_* are the model's test knobs (seeded stalls, extra latency, SLVERR and a flipped bit on channel
 * hbm_fault_pc); they exist only here.
 */
import { Module, cat, lit, mux, type Expr, type Signal } from '../../generator/hdl';
import { clog2 } from '../../generator/util/errors';
import { HBM_ADDR_BITS, PC_BYTES } from '../../generator/llm/device/hbm-layout';
import type { LlmDeviceConfig } from '../../generator/llm/device/layout';
import { axiPrefix } from '../../generator/llm/device/sequencer-axi';
import { AXI_READ_PORTS } from '../../generator/lib/axi-read';
import { hbmChannelModule } from './hbm';

export function hbmSimTop(d: LlmDeviceConfig, core: Module, opts: { timingOnlyDepth?: number } = {}): Module {
  const h = d.hbm!;
  const N = h.masters;
  const D = h.axiBits;
  const depth = opts.timingOnlyDepth ?? 2 ** clog2(Math.ceil(h.pcBytes / h.beatBytes));
  const m = new Module(`${d.design}_hbm`, { doc: `${d.design} with ${N} HBM pseudo-channel models (simulation only)` });
  const conns: Record<string, Expr> = {};
  const iface = core.interface();
  const axi = (n: string) => /^m\d+_axi_/.test(n);
  for (const s of iface.streams) {
    const st = s.dir === 'in' ? m.streamIn(s.name, s.width, { last: !!s.last }) : m.streamOut(s.name, s.width, { last: !!s.last });
    conns[s.valid] = st.valid;
    conns[s.ready] = st.ready;
    conns[s.data] = st.data;
    if (s.last) conns[s.last] = st.last!;
  }
  const streamSigs = new Set(iface.streams.flatMap((s) => [s.valid, s.ready, s.data, s.last].filter(Boolean) as string[]));
  for (const p of iface.ports) {
    if (p.name === iface.clock || p.name === iface.reset || streamSigs.has(p.name) || axi(p.name)) continue;
    conns[p.name] = p.dir === 'input' ? m.input(p.name, p.width) : m.output(p.name, p.width);
  }
  // Host memory bus (the link's MEM_WRITE / MEM_READ).
  const cmd = m.streamIn('mem_cmd', 65);
  const rsp = m.streamOut('mem_rsp', 32);
  const seed = m.input('hbm_seed', 32);
  const stall = m.input('hbm_stall', 8);
  const extra = m.input('hbm_extra', 8);
  const faultPc = m.input('hbm_fault_pc', 5);
  const errAt = m.input('hbm_err_at', 32);
  const flipAt = m.input('hbm_flip_at', 32);
  const cAddr = cmd.data.slice(63, 32);
  const we = cmd.data.bit(64);
  const pcShift = clog2(PC_BYTES / 4);
  const pcOf = cAddr.slice(31, pcShift);
  const limbs = D / 32;
  const lb = Math.max(1, clog2(limbs));
  const ab = Math.max(1, clog2(depth));
  const inPc = cAddr.slice(pcShift - 1, 0);
  const wordIdx = inPc.shr(clog2(limbs)).resize(ab);
  const limb = limbs === 1 ? lit(0, 1) : inPc.slice(lb - 1, 0);
  const pend = m.reg('h_pend', 1, { init: 0 });
  const pendPc = m.reg('h_pc', pcOf.width, { init: 0 });
  const rv = m.reg('h_rv', 1, { init: 0 });
  const rd = m.reg('h_rd', 32, { init: 0 });
  m.assign(cmd.ready, pend.or(rv).not());
  m.assign(rsp.valid, rv);
  m.assign(rsp.data, rd);
  const hq: Signal[] = [];
  for (let k = 0; k < N; k++) {
    const ch = hbmChannelModule({ name: `${d.design}_hbm_pc${k}`, dataBits: D, addrBits: HBM_ADDR_BITS, depth, pc: k, wrap: opts.timingOnlyDepth !== undefined });
    const c: Record<string, Expr> = {};
    for (const [n, w] of AXI_READ_PORTS.out) {
      const s = m.wire(`${axiPrefix(k)}${n}`, w || (n === 'araddr' ? HBM_ADDR_BITS : D));
      conns[`${axiPrefix(k)}${n}`] = s;
      c[`s_axi_${n}`] = s;
    }
    for (const [n, w] of AXI_READ_PORTS.in) {
      const s = m.wire(`${axiPrefix(k)}${n}`, w || D);
      conns[`${axiPrefix(k)}${n}`] = s;
      c[`s_axi_${n}`] = s;
    }
    const mine = pcOf.eq(k);
    c.h_we = cmd.fire.and(we).and(mine);
    c.h_re = cmd.fire.and(we.not()).and(mine);
    c.h_word = wordIdx;
    c.h_limb = limb;
    c.h_wdata = cmd.data.slice(31, 0);
    const q = m.wire(`h_q${k}`, 32);
    hq.push(q);
    c.h_rdata = q;
    c.cfg_seed = seed;
    c.cfg_stall = stall;
    c.cfg_extra = extra;
    const f = faultPc.eq(k);
    c.cfg_err_at = mux(f, errAt, lit(0, 32));
    c.cfg_flip_at = mux(f, flipAt, lit(0, 32));
    m.instance(ch, `pc${k}`, c);
  }
  let sel: Expr = lit(0, 32);
  for (let k = N - 1; k >= 0; k--) sel = mux(pendPc.eq(k), hq[k]!, sel);
  m.sync((b) => {
    b.if(rsp.fire, (t) => t.set(rv, 0));
    b.if(cmd.fire.and(we.not()), (t) => t.set(pend, 1).set(pendPc, pcOf));
    b.if(pend, (t) => t.set(pend, 0).set(rv, 1).set(rd, sel));
  });
  void cat;
  m.instance(core, 'dev', conns);
  return m;
}
