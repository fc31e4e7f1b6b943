// Lint/simulation stand-in for a vendor primitive (lutforge board shells). Passes the input clock through;
// frequencies are not modelled. Never synthesised: Yosys, nextpnr and Vivado use the vendor cell.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
module MMCME3_BASE #(
  parameter real CLKIN1_PERIOD = 10.0,
  parameter real CLKFBOUT_MULT_F = 5.0,
  parameter integer DIVCLK_DIVIDE = 1,
  parameter real CLKOUT0_DIVIDE_F = 1.0
) (input wire CLKIN1, input wire CLKFBIN, input wire RST, input wire PWRDWN, output wire CLKOUT0, output wire CLKFBOUT, output wire LOCKED);
  assign CLKOUT0 = CLKIN1;
  assign CLKFBOUT = CLKIN1;
  assign LOCKED = ~RST;
endmodule
