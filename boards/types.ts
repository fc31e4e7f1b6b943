/**
 * The typed description of a board: part, clock, the pins lutforge drives (UART, trigger, LEDs, reset), its
 * memories and its resource capacities. One file per board; `boards/index.ts` is the registry.
 */
import type { SynthTarget } from '../generator/flow/synth';

/** One package pin and how it is driven. */
export interface PinDef {
  /** Package pin (ball) name exactly as the vendor constraints expect it: '35', 'E3', 'BJ43'. */
  pin: string;
  iostandard?: string;
  /** True when the board's circuit is active low (LED to VCC, button to GND). The shell inverts. */
  activeLow?: boolean;
  pull?: 'up' | 'down';
  /** What the pin is on the board (net name or connector position), for humans. */
  net: string;
}

export interface ClockSource {
  mhz: number;
  /** Single-ended pin, or the P side of a differential pair. */
  pin: PinDef;
  /** N side of a differential pair (Xilinx IBUFDS). */
  pinN?: PinDef;
  /** Extra XDC properties for the P pin, e.g. DQS_BIAS on AC-coupled LVDS. */
  xdcExtra?: string[];
}

export type MemoryKind = 'HBM2' | 'DDR4' | 'DDR3L' | 'SDRAM' | 'SPRAM' | 'BRAM36' | 'URAM' | 'EBR' | 'BRAM18K';

export interface BoardMemory {
  kind: MemoryKind;
  /** Total capacity in bytes. */
  bytes: number;
  /** On-chip (in the FPGA fabric) or external on the board. */
  where: 'on-chip' | 'board';
  note: string;
}

/** Resource capacity in the units the fit check counts (generator/flow/fit.ts). */
export interface Capacity {
  luts: number;
  ffs: number;
  dsp: number;
  /** Block RAM in the family's native unit: RAMB36 / SB_RAM40_4K / DP16KD. */
  bram: number;
  /** UltraRAM blocks (UltraScale+ only). */
  uram?: number;
  /** iCE40 UltraPlus SB_SPRAM256KA blocks. */
  spram?: number;
}

export interface Part {
  /** Yosys target (generator/flow/synth.ts). */
  family: SynthTarget;
  vendor: 'xilinx' | 'lattice';
  /** Full part name as the vendor tool wants it: 'xcu280-fsvh2892-2L-e', 'LFE5U-85F-6BG381C'. */
  device: string;
  /** Package code used to check pin names (boards/packages.ts). */
  package: string;
  /** nextpnr arguments for open-flow parts, e.g. { device: 'up5k', package: 'sg48' }. */
  nextpnr?: { device: string; package: string };
}

export interface Board {
  /** Registry key, used on the command line. */
  name: string;
  title: string;
  /** Where the pin numbers come from (documentation / constraint file), cited per board. */
  pinSource: string;
  /** Set when the pins are a documented stand-in rather than a real product's pin-out. */
  placeholder?: string;
  part: Part;
  constraints: 'xdc' | 'pcf' | 'lpf';
  clock: ClockSource;
  /** Default fabric clock for generated designs; a PLL/MMCM is added when it differs from clock.mhz. */
  fabricMhz: number;
  /** Reset push button, if the board has one usable by the FPGA. */
  reset?: PinDef;
  uart: { rx: PinDef; tx: PinDef; baud: number; bridge: string };
  /** The sort-trigger output (cell sorter). Undefined on boards with no free user pin. */
  trigger?: PinDef;
  leds: PinDef[];
  /**
   * The camera's video input (cell sorter): the board's frame grabber core (a CoaXPress, MIPI CSI-2 or parallel
   * receiver in the fabric) delivers AXI4-Stream video (Xilinx UG934: tuser[0] start of frame, tlast end of line,
   * ppc pixels per beat, fabric clock, no backpressure). The shell brings the app's cam_* ports to the top level
   * as ports without pins, where that core's output connects. Boards without one tie the camera input off.
   */
  camera?: { grabber: string };
  /** Pins the shell must hold at a constant level for the board to stay safe (e.g. U280 HBM_CATTRIP low). */
  tieOffs?: Array<{ port: string; value: 0 | 1; pin: PinDef }>;
  memories: BoardMemory[];
  capacity: Capacity;
  /** Host interfaces the board offers, most capable first. */
  host: Array<'xdma' | 'uart'>;
  /** Default preset per design (generator/shell/presets.ts). */
  presets: Record<string, string>;
  /** Extra Vivado properties (XDC) the board's master constraints ask for. */
  xdcBoard?: string[];
  program: { tool: 'iceprog' | 'openFPGALoader' | 'vivado'; args: string[] };
}
