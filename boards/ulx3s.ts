import type { Board } from './types';

/**
 * Radiona ULX3S v3.x with LFE5U-85F-6BG381C.
 * Pins: emard/ulx3s `doc/constraints/ulx3s_v20.lpf` (clk_25mhz G2, ftdi_rxd L4 = FPGA TX, ftdi_txd M1 = FPGA RX,
 * led[7:0] H3 E1 E2 D1 D2 C1 C2 B2, btn[1] (FIRE1) R1, gp[0] B11), as mirrored in litex-boards
 * `platforms/radiona_ulx3s.py`.
 */
const io = 'LVCMOS33';

export const ulx3s: Board = {
  name: 'ulx3s',
  title: 'ULX3S (Lattice ECP5 LFE5U-85F-6BG381C)',
  pinSource: 'emard/ulx3s doc/constraints/ulx3s_v20.lpf; litex-boards platforms/radiona_ulx3s.py',
  part: { family: 'ecp5', vendor: 'lattice', device: 'LFE5U-85F-6BG381C', package: 'CABGA381', nextpnr: { device: '85k', package: 'CABGA381' } },
  constraints: 'lpf',
  clock: { mhz: 25, pin: { pin: 'G2', iostandard: io, net: 'clk_25mhz' } },
  fabricMhz: 50,
  reset: { pin: 'R1', iostandard: io, pull: 'down', net: 'btn[1] FIRE1 (active high)' },
  uart: {
    rx: { pin: 'M1', iostandard: io, net: 'ftdi_txd (FT231X -> FPGA)' },
    tx: { pin: 'L4', iostandard: io, net: 'ftdi_rxd (FPGA -> FT231X)' },
    baud: 115200,
    bridge: 'FT231XS (US1 port)',
  },
  trigger: { pin: 'B11', iostandard: io, net: 'GPIO gp[0] (J1)' },
  leds: ['B2', 'C2', 'C1', 'D2', 'D1', 'E2', 'E1', 'H3'].map((pin, i) => ({ pin, iostandard: io, net: `led[${i}]` })),
  memories: [
    { kind: 'SDRAM', bytes: 32 * 2 ** 20, where: 'board', note: '16-bit SDR SDRAM (IS42S16160 class)' },
    { kind: 'EBR', bytes: 208 * 2304, where: 'on-chip', note: '208 x DP16KD (18 Kbit)' },
  ],
  capacity: { luts: 83640, ffs: 83640, dsp: 156, bram: 208 },
  host: ['uart'],
  presets: { gemv: 'sim-small', cellnet: 'up5k', llm: 'tiny', llmdev: 'tiny' },
  program: { tool: 'openFPGALoader', args: ['-b', 'ulx3s'] },
};
