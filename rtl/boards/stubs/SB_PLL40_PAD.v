// Lint/simulation stand-in for a vendor primitive (lutforge board shells). Passes the input clock through;
// frequencies are not modelled. Never synthesised: Yosys, nextpnr and Vivado use the vendor cell.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
module SB_PLL40_PAD #(
  parameter FEEDBACK_PATH = "SIMPLE",
  parameter DIVR = 0,
  parameter DIVF = 0,
  parameter DIVQ = 0,
  parameter FILTER_RANGE = 0
) (input wire PACKAGEPIN, input wire RESETB, input wire BYPASS, output wire PLLOUTGLOBAL, output wire LOCK);
  assign PLLOUTGLOBAL = PACKAGEPIN;
  assign LOCK = RESETB;
endmodule
