/**
 * Vendor build scripts written next to the generated sources: a non-project Vivado Tcl flow for Xilinx boards
 * (cannot run here; docs/boards.md says how to use it) and a shell script of the open flow for Lattice boards.
 */
import type { Board } from '../../boards';
import { ICE40_MEMORY_ATTRS } from './synth';

export interface ScriptInput {
  board: Board;
  /** Paths relative to the output directory. */
  rtl: string[];
  constraints: string;
  fabricMhz: number;
}

export function writeVivadoTcl(s: ScriptInput): string {
  const { board } = s;
  return [
    `# lutforge: non-project Vivado flow for ${board.title}.`,
    '# Run from the output directory:   vivado -mode batch -source scripts/build.tcl',
    `# Fabric clock ${s.fabricMhz} MHz. Fails (exit 1) when setup or hold timing is not met.`,
    ...(board.placeholder ? [`# WARNING: placeholder pins. ${board.placeholder}`] : []),
    'set root [file dirname [file dirname [file normalize [info script]]]]',
    'file mkdir $root/reports',
    `set_part ${board.part.device}`,
    ...s.rtl.map((f) => `read_verilog $root/${f}`),
    `read_xdc $root/${s.constraints}`,
    `synth_design -top top -part ${board.part.device}`,
    `# The board clock is constrained in the XDC; the MMCM/PLL output (${s.fabricMhz} MHz) is derived from it. Make sure it is.`,
    `set fabric [get_clocks -quiet -filter {PERIOD > ${(1000 / s.fabricMhz - 0.001).toFixed(3)} && PERIOD < ${(1000 / s.fabricMhz + 0.001).toFixed(3)}}]`,
    `if {[llength $fabric] == 0} { puts "lutforge: no ${s.fabricMhz} MHz (${(1000 / s.fabricMhz).toFixed(3)} ns) clock in the design"; exit 1 }`,
    'report_clocks -file $root/reports/clocks.rpt',
    'opt_design',
    'place_design',
    'phys_opt_design',
    'route_design',
    'report_utilization -file $root/reports/utilization.rpt',
    'report_timing_summary -max_paths 20 -report_unconstrained -file $root/reports/timing.rpt',
    'report_design_analysis -logic_level_distribution -file $root/reports/logic_levels.rpt',
    'set wns [get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]]',
    'set whs [get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -hold]]',
    'puts "lutforge: WNS $wns ns, WHS $whs ns"',
    'if {$wns < 0 || $whs < 0} { puts "lutforge: TIMING NOT MET"; exit 1 }',
    'write_bitstream -force $root/top.bit',
    ...(board.name === 'u280' ? ['# Program over JTAG (Vivado hardware manager) or write_cfgmem for the SPI flash; see docs/boards.md.'] : []),
    '',
  ].join('\n');
}

export function writeLatticeScript(s: ScriptInput): string {
  const { board } = s;
  const np = board.part.nextpnr!;
  const read = s.rtl.join(' ');
  const lines = ['#!/bin/sh', `# lutforge: open flow for ${board.title}. Needs yosys, nextpnr and the pack tool on PATH;`];
  const ys = `read_verilog ${read}; ${ICE40_MEMORY_ATTRS}; synth_ice40 -dsp -spram -top top -json top.json`;
  if (board.part.family === 'ice40')
    lines.push(
      `# npx lutforge build <design> --board ${board.name} runs the same steps from npm packages.`,
      'set -e',
      'cd "$(dirname "$0")/.."',
      `yosys -q -p '${ys}'`,
      `nextpnr-ice40 --${np.device} --package ${np.package} --pcf ${s.constraints} --json top.json --asc top.asc --freq ${s.fabricMhz}`,
      'icepack top.asc top.bin',
      `${board.program.tool} top.bin`,
    );
  else
    lines.push(
      'set -e',
      'cd "$(dirname "$0")/.."',
      `yosys -q -p "read_verilog ${read}; synth_ecp5 -top top -json top.json"`,
      `nextpnr-ecp5 --${np.device} --package ${np.package} --lpf ${s.constraints} --json top.json --textcfg top.config --freq ${s.fabricMhz}`,
      'ecppack top.config top.bit',
      `${board.program.tool} ${board.program.args.join(' ')} top.bit`,
    );
  return lines.join('\n') + '\n';
}
