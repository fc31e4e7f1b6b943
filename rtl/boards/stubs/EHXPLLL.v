// Lint/simulation stand-in for a vendor primitive (lutforge board shells). Passes the input clock through;
// frequencies are not modelled. Never synthesised: Yosys, nextpnr and Vivado use the vendor cell.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
module EHXPLLL #(
  parameter PLLRST_ENA = "DISABLED",
  parameter INTFB_WAKE = "DISABLED",
  parameter STDBY_ENABLE = "DISABLED",
  parameter DPHASE_SOURCE = "DISABLED",
  parameter OUTDIVIDER_MUXA = "DIVA",
  parameter CLKOP_ENABLE = "ENABLED",
  parameter CLKOP_DIV = 1,
  parameter CLKOP_CPHASE = 0,
  parameter CLKOP_FPHASE = 0,
  parameter FEEDBK_PATH = "CLKOP",
  parameter CLKFB_DIV = 1,
  parameter CLKI_DIV = 1
) (
  input wire CLKI, input wire CLKFB, input wire RST, input wire STDBY, input wire PHASESEL1, input wire PHASESEL0,
  input wire PHASEDIR, input wire PHASESTEP, input wire PHASELOADREG, input wire PLLWAKESYNC, input wire ENCLKOP,
  output wire CLKOP, output wire LOCK
);
  assign CLKOP = CLKI;
  assign LOCK = ~RST;
endmodule
