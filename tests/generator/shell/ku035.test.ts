import { describe, expect, it } from 'vitest';
import { generateBoard } from '../../../generator/shell/generate';
import { lintVerilog } from '../../../sim/lint';

// The KU035 frame grabber's default cell-sorter build (docs/cellnet.md#synthesis): ppc 4 with DSP packing, at 250 MHz
// from the board's 125 MHz clock, with a Vivado script that checks the fabric clock and reports timing.
describe('ku035 cellnet output folder', () => {
  const g = generateBoard({ design: 'cellnet', board: 'ku035' });
  const file = (n: string) => g.files.find((f) => f.name === n)?.data ?? '';

  it('defaults to the ppc 4 (large) preset at a 250 MHz fabric clock through the MMCM', () => {
    expect(g.preset).toBe('large');
    expect(g.params.ppc).toBe(4);
    expect(g.plan.outMhz).toBe(250);
    expect(g.plan.kind).toBe('mmcm');
  });

  it('has a Vivado build script with the 250 MHz clock check, report_timing_summary and a failing exit on missed timing', () => {
    const tcl = file('scripts/build.tcl');
    expect(tcl).toMatch(/set_part xcku035-ffva1156-2-e/);
    expect(tcl).toMatch(/read_xdc \$root\/\S+\.xdc/);
    expect(tcl).toMatch(/PERIOD > 3\.999 && PERIOD < 4\.001/);
    expect(tcl).toMatch(/report_timing_summary .*-file \$root\/reports\/timing\.rpt/);
    expect(tcl).toMatch(/report_design_analysis -logic_level_distribution/);
    expect(tcl).toMatch(/if \{\$wns < 0 \|\| \$whs < 0\} \{ puts "lutforge: TIMING NOT MET"; exit 1 \}/);
    const order = ['synth_design', 'opt_design', 'place_design', 'route_design', 'report_timing_summary', 'write_bitstream'].map((c) => tcl.indexOf(c));
    expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!))).toBe(true);
    for (const f of g.rtl) expect(tcl).toContain(f.name);
  });

  it('constrains the 125 MHz board clock in the XDC (8.000 ns), from which Vivado derives the 4.000 ns fabric clock', () => {
    const xdc = g.files.find((f) => f.name.endsWith('.xdc'))!.data;
    expect(xdc).toMatch(/create_clock -period 8\.000 -name board_clk/);
  });

  it("brings the camera port out as the frame grabber's AXI4-Stream video input (no pins), not as a link channel; lints clean", async () => {
    const ports = Object.fromEntries(g.shell.top.ports.map((p) => [p.name, { dir: p.role, width: p.width }]));
    expect(ports).toMatchObject({
      cam_tdata: { dir: 'input', width: 8 * 4 },
      cam_tuser: { dir: 'input', width: 1 },
      cam_tlast: { dir: 'input', width: 1 },
      cam_tvalid: { dir: 'input', width: 1 },
      cam_tready: { dir: 'output', width: 1 },
      cam_on: { dir: 'output', width: 1 },
    });
    expect(g.shell.video.sort()).toEqual(['cam_on', 'cam_tdata', 'cam_tlast', 'cam_tready', 'cam_tuser', 'cam_tvalid']);
    expect(g.shell.pins.some((p) => p.port.startsWith('cam_'))).toBe(false);
    const regmap = JSON.parse(file('regmap.json')) as { channels: Array<{ name: string }>; csr_registers: Record<string, { type: string }> };
    expect(regmap.channels.map((c) => c.name)).toEqual(['px', 'wload', 'cfg', 'event']);
    expect(regmap.csr_registers.cam_on?.type).toBe('ro');
    expect(JSON.parse(file('board.json')).video.connect).toMatch(/frame grabber/);
    const lint = await lintVerilog([...g.rtl, ...g.stubs], 'top', { throwOnWarning: false });
    expect(lint.messages).toEqual([]);
  }, 300_000);
});
