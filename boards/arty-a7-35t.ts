import type { Board } from './types';

/**
 * Digilent Arty A7-35T (xc7a35ticsg324-1L).
 * Pins: Digilent `Arty-A7-35-Master.xdc` (CLK100MHZ E3, uart_txd_in A9, uart_rxd_out D10, ck_rst C2,
 * LD4..LD7 H5 J5 T9 T10, Pmod JA1 G13), as mirrored in litex-boards `platforms/digilent_arty.py`.
 */
const io = 'LVCMOS33';

export const artyA7_35t: Board = {
  name: 'arty-a7-35t',
  title: 'Digilent Arty A7-35T (Xilinx xc7a35ticsg324-1L)',
  pinSource: 'Digilent Arty-A7-35-Master.xdc; litex-boards platforms/digilent_arty.py',
  part: { family: 'xc7', vendor: 'xilinx', device: 'xc7a35ticsg324-1L', package: 'CSG324' },
  constraints: 'xdc',
  clock: { mhz: 100, pin: { pin: 'E3', iostandard: io, net: 'CLK100MHZ' } },
  fabricMhz: 100,
  reset: { pin: 'C2', iostandard: io, activeLow: true, net: 'ck_rst (RESET button)' },
  uart: {
    rx: { pin: 'A9', iostandard: io, net: 'uart_txd_in (FT2232 -> FPGA)' },
    tx: { pin: 'D10', iostandard: io, net: 'uart_rxd_out (FPGA -> FT2232)' },
    baud: 115200,
    bridge: 'FT2232HQ channel B',
  },
  trigger: { pin: 'G13', iostandard: io, net: 'Pmod JA pin 1' },
  leds: [
    { pin: 'H5', iostandard: io, net: 'LD4' },
    { pin: 'J5', iostandard: io, net: 'LD5' },
    { pin: 'T9', iostandard: io, net: 'LD6' },
    { pin: 'T10', iostandard: io, net: 'LD7' },
  ],
  memories: [
    { kind: 'DDR3L', bytes: 256 * 2 ** 20, where: 'board', note: 'MT41K128M16JT-125 (16-bit), needs a MIG controller' },
    { kind: 'BRAM36', bytes: 50 * 4608, where: 'on-chip', note: '50 x RAMB36E1 (1,800 Kbit)' },
  ],
  capacity: { luts: 20800, ffs: 41600, dsp: 90, bram: 50 },
  host: ['uart'],
  presets: { gemv: 'sim-small', cellnet: 'up5k', llm: 'tiny', llmdev: 'tiny' },
  program: { tool: 'openFPGALoader', args: ['-b', 'arty'] },
};
