import { describe, expect, it } from 'vitest';
import { alveoU280 } from '../../../boards/alveo-u280';
import { DESIGNS } from '../../../generator/designs';
import type { LlmDeviceConfig } from '../../../generator/llm/device/layout';
import { KNOWN_VLNVS, generateU280Llm } from '../../../generator/shell/u280-xdma';
import { parseBlockDesignTcl } from '../../../generator/shell/vivado-bd';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { lintVerilog } from '../../../sim/lint';

const REPO = new URL('../../../', import.meta.url).pathname;

// The u280 preset, 32 masters x 512 bits: the build `generate llmdev --board u280` writes.
const { config } = DESIGNS.llmdev!.build({ masters: 32 }, 'u280');
const g = generateU280Llm(alveoU280, config as LlmDeviceConfig);
const file = (n: string) => g.files.find((f) => f.name === n)!.data;
const bd = parseBlockDesignTcl(file('scripts/bd.tcl'));
const kernel = g.kernel.interface();
const kernelPorts = new Set(kernel.ports.map((p) => p.name));

describe('U280 XDMA + HBM block design (parsed from the generated Tcl)', () => {
  it('instantiates only known IP, the HBM, XDMA and the engine as a module reference', () => {
    const known = new Set<string>(Object.values(KNOWN_VLNVS));
    for (const c of bd.cells.filter((c) => c.kind === 'ip')) expect(known.has(c.ref), `${c.name}: ${c.ref}`).toBe(true);
    expect(bd.cells.filter((c) => c.ref === KNOWN_VLNVS.hbm)).toHaveLength(1);
    expect(bd.cells.filter((c) => c.ref === KNOWN_VLNVS.xdma)).toHaveLength(1);
    expect(bd.cells.filter((c) => c.kind === 'module').map((c) => c.ref)).toEqual(['llmdev_u280']);
    expect(file('scripts/bd.tcl')).toMatch(/CONFIG\.pl_link_cap_max_link_width \{X16\}/);
    expect(file('scripts/bd.tcl')).toMatch(/CONFIG\.USER_HBM_STACK \{2\}/);
    expect(file('scripts/bd.tcl')).toMatch(/CONFIG\.CLKOUT1_REQUESTED_OUT_FREQ \{225\}/);
    expect(file('scripts/build.tcl')).toMatch(/write_bitstream/);
    for (const r of ['report_timing_summary', 'report_utilization', 'launch_runs impl_1']) expect(file('scripts/build.tcl')).toContain(r);
  });

  it('connects only kernel pins that exist in the generated RTL', () => {
    const pins = bd.conns.flatMap((c) => c.pins.map((p) => ({ kind: c.kind, p }))).filter((x) => x.p.startsWith('kernel_0/'));
    expect(pins.length).toBeGreaterThan(33);
    for (const { kind, p } of pins) {
      const pin = p.slice('kernel_0/'.length);
      if (kind === 'net') expect(kernelPorts.has(pin), pin).toBe(true);
      else {
        // An interface pin is inferred by Vivado from its ports: <pin>_arvalid etc. must all be there.
        const need = pin === 's_axil' ? ['awvalid', 'awready', 'wdata', 'bvalid', 'arvalid', 'rdata', 'rvalid'] : ['arvalid', 'arready', 'araddr', 'arlen', 'rdata', 'rvalid', 'rready', 'rresp', 'rlast'];
        for (const n of need) expect(kernelPorts.has(`${pin}_${n}`), `${pin}_${n}`).toBe(true);
      }
    }
    const masters = kernel.ports.filter((p) => /^m\d+_axi_arvalid$/.test(p.name));
    expect(masters).toHaveLength(32);
    expect(kernel.ports.find((p) => p.name === 'm0_axi_rdata')!.width).toBe(512);
  });

  it('connects each of the 32 HBM ports exactly once, and each engine master to its own port', () => {
    const all = bd.conns.flatMap((c) => c.pins);
    for (let k = 0; k < 32; k++) {
      const n = String(k).padStart(2, '0');
      expect(all.filter((p) => p === `hbm_0/SAXI_${n}`), `SAXI_${n}`).toHaveLength(1);
      const c = bd.conns.find((x) => x.pins.includes(`kernel_0/m${k}_axi`))!;
      expect(c.pins).toEqual([`kernel_0/m${k}_axi`, `sc_${n}/S00_AXI`]);
      expect(bd.conns.find((x) => x.pins[0] === `sc_${n}/M00_AXI`)!.pins[1]).toBe(`hbm_0/SAXI_${n}`);
    }
    expect(bd.conns.find((x) => x.pins[0] === 'xdma_0/M_AXI')).toBeTruthy();
  });

  it('has no overlapping address segments in any address space, and the host reaches all 8 GB', () => {
    const spaces = new Map<string, Array<{ lo: bigint; hi: bigint }>>();
    for (const a of bd.addrs) {
      const l = spaces.get(a.space) ?? [];
      for (const o of l) expect(a.offset + a.range <= o.lo || a.offset >= o.hi, `${a.space} ${a.segment}`).toBe(true);
      l.push({ lo: a.offset, hi: a.offset + a.range });
      spaces.set(a.space, l);
    }
    const host = spaces.get('xdma_0/M_AXI')!;
    expect(host.reduce((s, x) => s + (x.hi - x.lo), 0n)).toBe(8n * 2n ** 30n);
    expect(bd.addrs.find((a) => a.space === 'kernel_0/m5_axi')!.segment).toBe('hbm_0/SAXI_05/HBM_MEM05');
  });

  it('writes the AU280 pins (PCIe refclk, PERST, HBM_CATTRIP) and a README on programming and the driver', () => {
    const x = file('constraints/u280.xdc');
    for (const pin of ['AR15', 'AR14', 'BH26', 'D32']) expect(x).toContain(`PACKAGE_PIN ${pin}`);
    expect(file('README.md')).toMatch(/program_hw_devices/);
    expect(file('README.md')).toMatch(/modprobe xdma/);
  });

  it('the AXI kernel (4 masters, sim-small engine) with its AXI4-Lite slave passes verilator --lint-only -Wall', async () => {
    const small = DESIGNS.llmdev!.build({ masters: 4, axiBits: 64 }, 'sim-small').config as LlmDeviceConfig;
    const k = generateU280Llm(alveoU280, small);
    await lintVerilog(k.rtl, 'llmdev_u280', { throwOnWarning: true });
  }, 120_000);

  it('`lutforge generate llmdev --board u280 --out DIR` writes the RTL, block design, build script, XDC and README', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lutforge-u280-'));
    try {
      await promisify(execFile)('npx', ['lutforge', 'generate', 'llmdev', '--board', 'u280', '--out', path.join(dir, 'out'), '--json'], { cwd: REPO, timeout: 300_000, maxBuffer: 1 << 24 });
      const files = await readdir(path.join(dir, 'out'), { recursive: true });
      for (const f of ['scripts/bd.tcl', 'scripts/build.tcl', 'constraints/u280.xdc', 'README.md', 'rtl/llmdev_u280.v']) expect(files).toContain(f);
      const tcl = await readFile(path.join(dir, 'out/scripts/bd.tcl'), 'utf8');
      expect(tcl).toMatch(/create_bd_cell -type ip -vlnv xilinx\.com:ip:xdma/);
      expect(tcl).toMatch(/create_bd_cell -type ip -vlnv xilinx\.com:ip:hbm/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

