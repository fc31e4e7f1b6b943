// Lint/simulation stand-in for a vendor primitive (lutforge board shells). Passes the input clock through;
// frequencies are not modelled. Never synthesised: Yosys, nextpnr and Vivado use the vendor cell.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
module IBUFDS #(parameter DQS_BIAS = "FALSE") (input wire I, input wire IB, output wire O);
  assign O = I;
endmodule
