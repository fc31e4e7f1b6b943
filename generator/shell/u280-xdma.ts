/**
 * `generate llmdev --board u280`: the AXI llmdev (32 AXI4 read masters x 512 bits at 225 MHz, one per HBM
 * pseudo-channel) behind an AXI4-Lite register slave, inside a Vivado IP-integrator block design with XDMA
 * (PCIe Gen3 x16, AXI-MM + AXI-Lite BAR), the HBM IP (both stacks, 32 AXI ports), SmartConnects (width/clock
 * conversion; XDMA's M_AXI shares port 0's SmartConnect so the host can load every pseudo-channel), the clock
 * wizard (225 MHz kernel, 450 MHz HBM AXI, 100 MHz HBM reference/APB) and the PCIe reference-clock buffer.
 * The block design is data (vivado-bd.ts); XDC pins from the AU280 master XDC rev 2.04.
 */
import type { Board } from '../../boards';
import { printDesign, type VerilogFile } from '../hdl';
import { linkConfig } from '../link/config';
import { linkBoardTop } from '../link/top';
import { HBM_PCS, PC_BYTES } from '../llm/device/hbm-layout';
import type { LlmDeviceConfig } from '../llm/device/layout';
import { llmDeviceModule } from '../llm/device/sequencer';
import { llmDeviceTop } from '../llm/device/top';
import type { RegMap } from '../regmap/regmap';
import { axiLiteTop } from './axil-top';
import { blockDesignTcl, type BdCell, type BdConn, type BdAddr, type BlockDesign } from './vivado-bd';

export const KERNEL_TOP = 'llmdev_u280';
export const KERNEL_MHZ = 225;
export const HBM_AXI_MHZ = 450;

/** VLNVs this shell instantiates (the structure test accepts only these). */
export const KNOWN_VLNVS = {
  xdma: 'xilinx.com:ip:xdma:4.1',
  hbm: 'xilinx.com:ip:hbm:1.0',
  smartconnect: 'xilinx.com:ip:smartconnect:1.0',
  clkWiz: 'xilinx.com:ip:clk_wiz:6.0',
  dsBuf: 'xilinx.com:ip:util_ds_buf:2.2',
  reset: 'xilinx.com:ip:proc_sys_reset:5.0',
  logic: 'xilinx.com:ip:util_vector_logic:2.0',
} as const;

const nn = (k: number): string => String(k).padStart(2, '0');

export function u280BlockDesign(masters: number): BlockDesign {
  const ip = (name: string, vlnv: string, config: Record<string, string | number> = {}): BdCell => ({ kind: 'ip', name, vlnv, config });
  const V = KNOWN_VLNVS;
  const cells: BdCell[] = [
    ip('xdma_0', V.xdma, {
      mode_selection: 'Advanced',
      pcie_blk_locn: 'PCIE4C_X1Y0',
      select_quad: 'GTY_Quad_227',
      pl_link_cap_max_link_width: 'X16',
      pl_link_cap_max_link_speed: '8.0_GT/s',
      axi_data_width: '512_bit',
      axisten_freq: 250,
      xdma_axi_intf_mm: 'AXI_Memory_Mapped',
      axilite_master_en: 'true',
      axilite_master_size: 1,
      axilite_master_scale: 'Megabytes',
      pf0_device_id: '903F',
      xdma_rnum_chnl: 1,
      xdma_wnum_chnl: 1,
      sys_reset_polarity: 'ACTIVE_LOW',
    }),
    ip('refclk_buf', V.dsBuf, { C_BUF_TYPE: 'IBUFDSGTE' }),
    ip('clk_wiz_0', V.clkWiz, {
      PRIM_SOURCE: 'Differential_clock_capable_pin',
      PRIM_IN_FREQ: 100,
      CLKOUT1_REQUESTED_OUT_FREQ: KERNEL_MHZ,
      CLKOUT2_USED: 'true',
      CLKOUT2_REQUESTED_OUT_FREQ: HBM_AXI_MHZ,
      CLKOUT3_USED: 'true',
      CLKOUT3_REQUESTED_OUT_FREQ: 100,
      NUM_OUT_CLKS: 3,
      USE_RESET: 'false',
      USE_LOCKED: 'true',
    }),
    ip('rst_kernel', V.reset),
    ip('rst_hbm', V.reset),
    ip('rst_apb', V.reset),
    ip('hbm_0', V.hbm, {
      USER_HBM_DENSITY: '8GB',
      USER_HBM_STACK: 2,
      USER_SWITCH_ENABLE_00: 'TRUE',
      USER_SWITCH_ENABLE_01: 'TRUE',
      USER_HBM_REF_CLK_0: 100,
      USER_HBM_REF_CLK_1: 100,
      USER_HBM_TCK_0: 900,
      USER_HBM_TCK_1: 900,
      USER_AXI_INPUT_CLK_FREQ: HBM_AXI_MHZ,
      USER_AXI_INPUT_CLK_NS: (1000 / HBM_AXI_MHZ).toFixed(3),
      USER_APB_PCLK_0: 100,
      USER_APB_PCLK_1: 100,
      USER_CLK_SEL_LIST0: 'AXI_00_ACLK',
      USER_CLK_SEL_LIST1: 'AXI_16_ACLK',
      USER_MEMORY_DISPLAY: 8192,
    }),
    ip('cattrip_or', V.logic, { C_OPERATION: 'or', C_SIZE: 1 }),
    ip('sc_ctrl', V.smartconnect, { NUM_SI: 1, NUM_MI: 1, NUM_CLKS: 2 }),
    ...Array.from({ length: HBM_PCS }, (_, k) => ip(`sc_${nn(k)}`, V.smartconnect, { NUM_SI: k === 0 ? 2 : 1, NUM_MI: 1, NUM_CLKS: k === 0 ? 3 : 2 })),
    { kind: 'module', name: 'kernel_0', module: KERNEL_TOP },
  ];
  const ports: BlockDesign['ports'] = [
    { name: 'pcie_refclk', kind: 'intf', mode: 'Slave', vlnv: 'xilinx.com:interface:diff_clock_rtl:1.0', props: { FREQ_HZ: 100000000 } },
    { name: 'pcie_mgt', kind: 'intf', mode: 'Master', vlnv: 'xilinx.com:interface:pcie_7x_mgt_rtl:1.0' },
    { name: 'sysclk0', kind: 'intf', mode: 'Slave', vlnv: 'xilinx.com:interface:diff_clock_rtl:1.0', props: { FREQ_HZ: 100000000 } },
    { name: 'pcie_perstn', kind: 'net', mode: 'I', type: 'rst', props: { POLARITY: 'ACTIVE_LOW' } },
    { name: 'hbm_cattrip', kind: 'net', mode: 'O', type: 'data' },
  ];
  const sc = Array.from({ length: HBM_PCS }, (_, k) => `sc_${nn(k)}`);
  const i = (from: string, ...to: string[]): BdConn => ({ kind: 'intf', from, to });
  const n = (from: string, ...to: string[]): BdConn => ({ kind: 'net', from, to });
  const conns: BdConn[] = [
    i('pcie_refclk', 'refclk_buf/CLK_IN_D'),
    i('xdma_0/pcie_mgt', 'pcie_mgt'),
    i('sysclk0', 'clk_wiz_0/CLK_IN1_D'),
    n('refclk_buf/IBUF_DS_ODIV2', 'xdma_0/sys_clk'),
    n('refclk_buf/IBUF_OUT', 'xdma_0/sys_clk_gt'),
    n('pcie_perstn', 'xdma_0/sys_rst_n'),
    // Host paths: M_AXI into port 0's SmartConnect (the HBM switch reaches every pseudo-channel), the BAR to the kernel.
    i('xdma_0/M_AXI', 'sc_00/S01_AXI'),
    i('xdma_0/M_AXI_LITE', 'sc_ctrl/S00_AXI'),
    i('sc_ctrl/M00_AXI', 'kernel_0/s_axil'),
    ...Array.from({ length: HBM_PCS }, (_, k) => i(`sc_${nn(k)}/M00_AXI`, `hbm_0/SAXI_${nn(k)}`)),
    // Masters beyond `masters` would be unused; the u280 build has all 32.
    ...Array.from({ length: masters }, (_, k) => i(`kernel_0/m${k}_axi`, `sc_${nn(k)}/S00_AXI`)),
    // Clocks.
    n('xdma_0/axi_aclk', 'sc_ctrl/aclk', 'sc_00/aclk2'),
    n('clk_wiz_0/clk_out1', 'kernel_0/clk', 'sc_ctrl/aclk1', ...sc.map((s) => `${s}/aclk`), 'rst_kernel/slowest_sync_clk'),
    n('clk_wiz_0/clk_out2', ...Array.from({ length: HBM_PCS }, (_, k) => `hbm_0/AXI_${nn(k)}_ACLK`), ...sc.map((s) => `${s}/aclk1`), 'rst_hbm/slowest_sync_clk'),
    n('clk_wiz_0/clk_out3', 'hbm_0/HBM_REF_CLK_0', 'hbm_0/HBM_REF_CLK_1', 'hbm_0/APB_0_PCLK', 'hbm_0/APB_1_PCLK', 'rst_apb/slowest_sync_clk'),
    // Resets: held until the clock wizard locks and the PCIe link is up.
    n('clk_wiz_0/locked', 'rst_kernel/dcm_locked', 'rst_hbm/dcm_locked', 'rst_apb/dcm_locked'),
    n('xdma_0/axi_aresetn', 'rst_kernel/ext_reset_in', 'rst_hbm/ext_reset_in', 'rst_apb/ext_reset_in', 'sc_ctrl/aresetn'),
    n('rst_kernel/peripheral_reset', 'kernel_0/rst'),
    n('rst_kernel/interconnect_aresetn', ...sc.map((s) => `${s}/aresetn`)),
    n('rst_hbm/peripheral_aresetn', ...Array.from({ length: HBM_PCS }, (_, k) => `hbm_0/AXI_${nn(k)}_ARESET_N`)),
    n('rst_apb/peripheral_aresetn', 'hbm_0/APB_0_PRESET_N', 'hbm_0/APB_1_PRESET_N'),
    n('hbm_0/DRAM_0_STAT_CATTRIP', 'cattrip_or/Op1'),
    n('hbm_0/DRAM_1_STAT_CATTRIP', 'cattrip_or/Op2'),
    n('cattrip_or/Res', 'hbm_cattrip'),
  ];
  const seg = (k: number) => `hbm_0/SAXI_00/HBM_MEM${nn(k)}`;
  const addrs: BdAddr[] = [
    // The host sees all of HBM, pseudo-channel k at k * 256 MB (the card address map of docs/llm-device.md).
    ...Array.from({ length: HBM_PCS }, (_, k) => ({ space: 'xdma_0/M_AXI', segment: seg(k), offset: BigInt(k * PC_BYTES), range: BigInt(PC_BYTES) })),
    // Master k is given only its own pseudo-channel, through its own port: no switch crossing.
    ...Array.from({ length: masters }, (_, k) => ({ space: `kernel_0/m${k}_axi`, segment: `hbm_0/SAXI_${nn(k)}/HBM_MEM${nn(k)}`, offset: BigInt(k * PC_BYTES), range: BigInt(PC_BYTES) })),
    { space: 'xdma_0/M_AXI_LITE', segment: 'kernel_0/s_axil/reg0', offset: 0n, range: 0x100000n },
  ];
  return { name: 'lutforge_u280', cells, ports, conns, addrs };
}

/** AU280 master XDC rev 2.04: PCIe reference clock 0, PERST, the 100 MHz SYSCLK0 and HBM_CATTRIP. */
export function u280Xdc(board: Board): string {
  return [
    '# Generated by lutforge for the Alveo U280 XDMA + HBM shell. Pins: Xilinx AU280 HBM master XDC rev 2.04.',
    'set_property PACKAGE_PIN AR15 [get_ports pcie_refclk_clk_p]',
    'set_property PACKAGE_PIN AR14 [get_ports pcie_refclk_clk_n]',
    'create_clock -period 10.000 -name pcie_refclk [get_ports pcie_refclk_clk_p]',
    'set_property PACKAGE_PIN BH26 [get_ports pcie_perstn]',
    'set_property IOSTANDARD LVCMOS18 [get_ports pcie_perstn]',
    'set_property PULLUP true [get_ports pcie_perstn]',
    'set_false_path -from [get_ports pcie_perstn]',
    `set_property PACKAGE_PIN ${board.clock.pin.pin} [get_ports sysclk0_clk_p]`,
    `set_property PACKAGE_PIN ${board.clock.pinN!.pin} [get_ports sysclk0_clk_n]`,
    'set_property IOSTANDARD LVDS [get_ports {sysclk0_clk_p sysclk0_clk_n}]',
    'set_property DQS_BIAS TRUE [get_ports {sysclk0_clk_p sysclk0_clk_n}]',
    'create_clock -period 10.000 -name sysclk0 [get_ports sysclk0_clk_p]',
    '# HBM_CATTRIP: drive high only on an HBM catastrophic temperature event (the card then powers off the HBM).',
    'set_property PACKAGE_PIN D32 [get_ports hbm_cattrip]',
    'set_property IOSTANDARD LVCMOS18 [get_ports hbm_cattrip]',
    'set_property PULLDOWN true [get_ports hbm_cattrip]',
    ...(board.xdcBoard ?? []),
  ].join('\n') + '\n';
}

export function u280BuildTcl(rtl: readonly string[]): string {
  return [
    '# Generated by lutforge: vivado -mode batch -source scripts/build.tcl (run from the output folder).',
    'set root [file normalize [file dirname [info script]]/..]',
    'create_project -force lutforge_u280 $root/vivado -part xcu280-fsvh2892-2L-e',
    'set_property board_part xilinx.com:au280:part0:1.2 [current_project]',
    `add_files -norecurse [list ${rtl.map((f) => `$root/${f}`).join(' ')}]`,
    'update_compile_order -fileset sources_1',
    'source $root/scripts/bd.tcl',
    'make_wrapper -files [get_files lutforge_u280.bd] -top -import',
    'set_property top lutforge_u280_wrapper [current_fileset]',
    'add_files -fileset constrs_1 -norecurse $root/constraints/u280.xdc',
    'launch_runs synth_1 -jobs 8',
    'wait_on_run synth_1',
    'launch_runs impl_1 -jobs 8',
    'wait_on_run impl_1',
    'open_run impl_1',
    'file mkdir $root/reports',
    'report_timing_summary -file $root/reports/timing_summary.rpt',
    'report_utilization -file $root/reports/utilization.rpt',
    'write_bitstream -force $root/lutforge_u280.bit',
  ].join('\n') + '\n';
}

export function u280Readme(d: LlmDeviceConfig): string {
  const h = d.hbm!;
  return `# lutforge llmdev on the Alveo U280 (XDMA + HBM)

Engine: ${d.engine.engine.model.nLayers} layers, dim ${d.engine.engine.model.dim}; ${h.masters} AXI4 read masters x ${h.axiBits} bits at ${KERNEL_MHZ} MHz, one per HBM pseudo-channel.

## Build (Vivado 2022.2 or later, with the U280 board files)

    vivado -mode batch -source scripts/build.tcl

This creates the project in vivado/, sources the block design (scripts/bd.tcl: XDMA Gen3 x16, HBM both stacks,
SmartConnects, clock wizard, the kernel ${KERNEL_TOP} as an RTL module reference), runs synthesis and implementation,
writes reports/timing_summary.rpt and reports/utilization.rpt, and the bitstream lutforge_u280.bit. Check that the
timing summary shows no negative slack before programming.

## Program the card (Vivado hardware manager over the card's USB-JTAG)

    vivado -mode tcl
    open_hw_manager; connect_hw_server; open_hw_target
    set_property PROGRAM.FILE lutforge_u280.bit [current_hw_device]
    program_hw_devices [current_hw_device]

Then rescan the PCIe bus (a warm reboot, or echo 1 > /sys/bus/pci/devices/<bdf>/remove; echo 1 > /sys/bus/pci/rescan).
A card running an XRT shell must be reverted or programmed over JTAG as above; this design is a plain XDMA endpoint.

## Load the XDMA driver

    git clone https://github.com/Xilinx/dma_ip_drivers && cd dma_ip_drivers/XDMA/linux-kernel/xdma && make && sudo make install
    sudo modprobe xdma
    ls /dev/xdma0_*      # xdma0_user, xdma0_h2c_0, xdma0_c2h_0

## Run

    npx lutforge llm run --device xdma:0 --memory hbm --preset u280 --model MODEL.bin --tokens 64

The host writes each pseudo-channel's part of the weight image (${h.pcBytes} bytes per channel for this build) at
card address k x 256 MB with h2c, reads it back with c2h and compares it, checks the design id/version register,
then decodes. Register map: regmap.json (XDMA user BAR, word w at byte 4w; stream windows at 0x10000).
`;
}

export interface U280Gen {
  files: Array<{ name: string; data: string; role: 'rtl' | 'script' | 'constraints' | 'meta' | 'regmap' }>;
  rtl: VerilogFile[];
  regmap: RegMap;
  kernel: ReturnType<typeof axiLiteTop>;
}

export function generateU280Llm(board: Board, d: LlmDeviceConfig): U280Gen {
  if (!d.hbm) throw new Error('generateU280Llm needs the AXI (mem: axi) device config');
  const core = llmDeviceModule(d);
  const { regmap } = linkBoardTop(core, linkConfig(), llmDeviceTop(d));
  const kernel = axiLiteTop(core, regmap, KERNEL_TOP);
  const printed = printDesign(kernel);
  const rtl = printed.files;
  const rtlPaths = rtl.map((f) => `rtl/${f.name}`);
  const bd = u280BlockDesign(d.hbm.masters);
  const json = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
  return {
    rtl,
    regmap,
    kernel,
    files: [
      ...rtl.map((f) => ({ name: `rtl/${f.name}`, data: f.text, role: 'rtl' as const })),
      { name: 'scripts/bd.tcl', data: blockDesignTcl(bd), role: 'script' },
      { name: 'scripts/build.tcl', data: u280BuildTcl(rtlPaths), role: 'script' },
      { name: 'constraints/u280.xdc', data: u280Xdc(board), role: 'constraints' },
      { name: 'README.md', data: u280Readme(d), role: 'meta' },
      { name: 'regmap.json', data: json(regmap), role: 'regmap' },
      { name: 'interface.json', data: json(kernel.interface()), role: 'meta' },
      { name: 'hbm-layout.json', data: json(d.hbm), role: 'meta' },
    ],
  };
}
