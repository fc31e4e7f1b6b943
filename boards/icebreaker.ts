import type { Board } from './types';

/**
 * 1BitSquared iCEBreaker v1.0 (iCE40UP5K-SG48).
 * Pins: icebreaker-fpga/icebreaker `v1.0e/icebreaker.pcf` as mirrored in litex-boards
 * `litex_boards/platforms/1bitsquared_icebreaker.py` (CLK 35, RX 6, TX 9, BTN_N 10, LEDR_N 11, LEDG_N 37,
 * PMOD1A = 4 2 47 45 3 48 46 44).
 */
const io = 'LVCMOS33';

export const icebreaker: Board = {
  name: 'icebreaker',
  title: 'iCEBreaker (Lattice iCE40UP5K-SG48)',
  pinSource: 'icebreaker-fpga/icebreaker icebreaker.pcf; litex-boards platforms/1bitsquared_icebreaker.py',
  part: { family: 'ice40', vendor: 'lattice', device: 'iCE40UP5K-SG48', package: 'SG48', nextpnr: { device: 'up5k', package: 'sg48' } },
  constraints: 'pcf',
  clock: { mhz: 12, pin: { pin: '35', iostandard: io, net: 'CLK (12 MHz oscillator, PLL-capable GBIN)' } },
  fabricMhz: 12,
  reset: { pin: '10', iostandard: io, activeLow: true, net: 'BTN_N (user button)' },
  uart: {
    // FT2232H channel B: RX is the FPGA input, TX the FPGA output.
    rx: { pin: '6', iostandard: io, net: 'RX (FTDI ch. B TXD -> FPGA)' },
    tx: { pin: '9', iostandard: io, net: 'TX (FPGA -> FTDI ch. B RXD)' },
    baud: 115200,
    bridge: 'FT2232H channel B',
  },
  trigger: { pin: '4', iostandard: io, net: 'PMOD1A pin 1' },
  leds: [
    { pin: '11', iostandard: io, activeLow: true, net: 'LEDR_N (red)' },
    { pin: '37', iostandard: io, activeLow: true, net: 'LEDG_N (green)' },
  ],
  memories: [
    { kind: 'SPRAM', bytes: 4 * 32768, where: 'on-chip', note: '4 x SB_SPRAM256KA (16K x 16)' },
    { kind: 'EBR', bytes: 30 * 512, where: 'on-chip', note: '30 x SB_RAM40_4K (4 Kbit)' },
  ],
  capacity: { luts: 5280, ffs: 5280, dsp: 8, bram: 30, spram: 4 },
  host: ['uart'],
  presets: { gemv: 'tiny', cellnet: 'up5k', llm: 'tiny', llmdev: 'tiny' },
  program: { tool: 'iceprog', args: [] },
};
