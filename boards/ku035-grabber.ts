import type { Board } from './types';

/**
 * Kintex UltraScale KU035 frame-grabber target (xcku035-ffva1156-2-e): the reference cell sorter's part.
 *
 * PLACEHOLDER PIN-OUT. No public board documents a KU035 frame grabber's pins. This definition uses the
 * Xilinx KCU105 evaluation board's pin-out (xcku040-ffva1156-2-e, the pin-compatible KU040 in the same
 * FFVA1156 package): CLK_125 G10/F10 LVDS, USB-UART (CP2105) RX G25 / TX K26, CPU_RESET AN8, GPIO_LED0..7
 * AP8 H23 P20 P21 N22 M22 R23 P23, USER_SMA_GPIO_P H27 for the trigger. Source: KCU105 master XDC (UG917) as
 * mirrored in litex-boards `platforms/xilinx_kcu105.py`. Replace these with the frame grabber's own pins.
 */
const io18 = 'LVCMOS18';

export const ku035Grabber: Board = {
  name: 'ku035',
  title: 'Kintex UltraScale KU035 frame grabber (xcku035-ffva1156-2-e; KCU105 placeholder pin-out)',
  pinSource: 'Xilinx KCU105 master XDC (UG917) via litex-boards platforms/xilinx_kcu105.py — placeholder',
  placeholder:
    'No public KU035 frame-grabber pin-out exists; pins are the KCU105 (pin-compatible FFVA1156) ones. Replace before use.',
  part: { family: 'xcu', vendor: 'xilinx', device: 'xcku035-ffva1156-2-e', package: 'FFVA1156' },
  constraints: 'xdc',
  clock: {
    mhz: 125,
    pin: { pin: 'G10', iostandard: 'LVDS', net: 'CLK_125_P' },
    pinN: { pin: 'F10', iostandard: 'LVDS', net: 'CLK_125_N' },
  },
  fabricMhz: 250,
  reset: { pin: 'AN8', iostandard: io18, net: 'CPU_RESET (active high)' },
  uart: {
    rx: { pin: 'G25', iostandard: io18, net: 'USB_UART_TX of the CP2105 -> FPGA' },
    tx: { pin: 'K26', iostandard: io18, net: 'FPGA -> USB_UART_RX of the CP2105' },
    baud: 115200,
    bridge: 'CP2105 (standard port)',
  },
  trigger: { pin: 'H27', iostandard: io18, net: 'USER_SMA_GPIO_P (SMA J34)' },
  camera: {
    grabber:
      "the frame grabber core's UG934 video output (e.g. a CoaXPress host core's AXI4-Stream video, ppc 8 pixels per beat, re-clocked to the 250 MHz fabric clock) connects to top's cam_tdata/cam_tuser/cam_tlast/cam_tvalid; cam_on tells it acquisition is on",
  },
  leds: ['AP8', 'H23', 'P20', 'P21', 'N22', 'M22', 'R23', 'P23'].map((pin, i) => ({ pin, iostandard: io18, net: `GPIO_LED_${i}` })),
  memories: [
    { kind: 'DDR4', bytes: 2 * 2 ** 30, where: 'board', note: 'KCU105-style 64-bit DDR4 component memory (placeholder)' },
    { kind: 'BRAM36', bytes: 540 * 4608, where: 'on-chip', note: '540 x RAMB36E2 (19 Mbit)' },
  ],
  capacity: { luts: 203128, ffs: 406256, dsp: 1700, bram: 540 },
  host: ['uart'],
  presets: { gemv: 'sim-small', cellnet: 'large', llm: 'sim-small', llmdev: 'sim-small' },
  program: { tool: 'vivado', args: [] },
};
