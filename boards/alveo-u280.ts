import type { Board } from './types';

/**
 * AMD/Xilinx Alveo U280 (xcu280-fsvh2892-2L-e).
 * Pins: Xilinx "AU280 HBM - Master XDC" rev 2.04 (SYS_CLK0 BJ43/BJ44 LVDS 100 MHz with DQS_BIAS,
 * USB_UART_TX A28 = FPGA output, USB_UART_RX B33 = FPGA input, CPU_RESET_FPGA L30 active low, HBM_CATTRIP D32
 * must stay low). The card has no user LEDs and no free GPIO, so it gets no trigger pin; the host link of a real
 * deployment is XDMA over PCIe (a Vivado IP, see docs/boards.md); the shell uses the FT4232 UART.
 */
const io18 = 'LVCMOS18';

export const alveoU280: Board = {
  name: 'u280',
  title: 'Alveo U280 (Xilinx xcu280-fsvh2892-2L-e, 8 GB HBM2)',
  pinSource: 'Xilinx AU280 HBM Master XDC rev 2.04 (alveo-u280-xdc.xdc)',
  part: { family: 'xcup', vendor: 'xilinx', device: 'xcu280-fsvh2892-2L-e', package: 'FSVH2892' },
  constraints: 'xdc',
  clock: {
    mhz: 100,
    pin: { pin: 'BJ43', iostandard: 'LVDS', net: 'SYSCLK0_P' },
    pinN: { pin: 'BJ44', iostandard: 'LVDS', net: 'SYSCLK0_N' },
    // AC-coupled LVDS into a 1.2 V bank with no external bias (master XDC note).
    xdcExtra: ['DQS_BIAS TRUE'],
  },
  fabricMhz: 225,
  reset: { pin: 'L30', iostandard: io18, activeLow: true, net: 'CPU_RESET_FPGA (SW1)' },
  uart: {
    rx: { pin: 'B33', iostandard: io18, net: 'USB_UART_RX (FT4232 port 3 -> FPGA)' },
    tx: { pin: 'A28', iostandard: io18, net: 'USB_UART_TX (FPGA -> FT4232 port 3)' },
    baud: 115200,
    bridge: 'FT4232H port 3',
  },
  leds: [],
  tieOffs: [{ port: 'hbm_cattrip', value: 0, pin: { pin: 'D32', iostandard: io18, pull: 'down', net: 'HBM_CATTRIP (high = power off)' } }],
  memories: [
    { kind: 'HBM2', bytes: 8 * 2 ** 30, where: 'on-chip', note: '2 stacks, 32 pseudo-channels, ~460 GB/s' },
    { kind: 'DDR4', bytes: 32 * 2 ** 30, where: 'board', note: '2 x 16 GB DDR4-2400 (72-bit)' },
    { kind: 'URAM', bytes: 960 * 36864, where: 'on-chip', note: '960 x URAM288' },
    { kind: 'BRAM36', bytes: 2016 * 4608, where: 'on-chip', note: '2,016 x RAMB36E2' },
  ],
  capacity: { luts: 1303680, ffs: 2607360, dsp: 9024, bram: 2016, uram: 960 },
  host: ['xdma', 'uart'],
  presets: { gemv: 'u280', llm: 'u280', llmdev: 'u280', cellnet: 'fast' },
  xdcBoard: [
    'set_property CONFIG_VOLTAGE 1.8 [current_design]',
    'set_property BITSTREAM.CONFIG.CONFIGFALLBACK Enable [current_design]',
    'set_property BITSTREAM.GENERAL.COMPRESS TRUE [current_design]',
    'set_property CONFIG_MODE SPIx4 [current_design]',
    'set_property BITSTREAM.CONFIG.SPI_BUSWIDTH 4 [current_design]',
    'set_property BITSTREAM.CONFIG.CONFIGRATE 63.8 [current_design]',
    'set_property BITSTREAM.CONFIG.EXTMASTERCCLK_EN disable [current_design]',
    'set_property BITSTREAM.CONFIG.SPI_FALL_EDGE YES [current_design]',
    'set_property BITSTREAM.CONFIG.UNUSEDPIN Pullup [current_design]',
    'set_property BITSTREAM.CONFIG.SPI_32BIT_ADDR Yes [current_design]',
  ],
  program: { tool: 'vivado', args: [] },
};
