/**
 * Vendor clocking primitives as ExternModules (bodies live in the vendor libraries). Only the ports the shell
 * connects are declared. Verilator and Icarus do not know these cells, so each has a small pass-through stand-in
 * in rtl/boards/stubs/ used for lint and simulation only (never handed to Yosys, nextpnr or Vivado).
 */
import { ExternModule } from '../hdl';

const i = (name: string, width = 1) => ({ name, dir: 'input' as const, width });
const o = (name: string, width = 1) => ({ name, dir: 'output' as const, width });

export const IBUFDS = new ExternModule('IBUFDS', [i('I'), i('IB'), o('O')], undefined, [['O', 'I'], ['O', 'IB']]);
export const BUFG = new ExternModule('BUFG', [i('I'), o('O')], undefined, [['O', 'I']]);

/** iCE40 PLL fed straight from its package pin (the pin must be a PLL input: iCEBreaker pin 35 is). */
export const SB_PLL40_PAD = new ExternModule('SB_PLL40_PAD', [i('PACKAGEPIN'), i('RESETB'), i('BYPASS'), o('PLLOUTGLOBAL'), o('LOCK')]);

/** ECP5 PLL, CLKOP fed back internally. */
export const EHXPLLL = new ExternModule('EHXPLLL', [
  i('CLKI'),
  i('CLKFB'),
  i('RST'),
  i('STDBY'),
  i('PHASESEL1'),
  i('PHASESEL0'),
  i('PHASEDIR'),
  i('PHASESTEP'),
  i('PHASELOADREG'),
  i('PLLWAKESYNC'),
  i('ENCLKOP'),
  o('CLKOP'),
  o('LOCK'),
]);

const mmcm = (name: string) => new ExternModule(name, [i('CLKIN1'), i('CLKFBIN'), i('RST'), i('PWRDWN'), o('CLKOUT0'), o('CLKFBOUT'), o('LOCKED')]);
/** 7-series, UltraScale and UltraScale+ MMCMs (same basic ports). */
export const MMCME2_BASE = mmcm('MMCME2_BASE');
export const MMCME3_BASE = mmcm('MMCME3_BASE');
export const MMCME4_BASE = mmcm('MMCME4_BASE');

/** Stand-in files for lint and simulation, by primitive name (repo-relative). */
export const STUB_FILES: Record<string, string> = {
  IBUFDS: 'rtl/boards/stubs/IBUFDS.v',
  BUFG: 'rtl/boards/stubs/BUFG.v',
  SB_PLL40_PAD: 'rtl/boards/stubs/SB_PLL40_PAD.v',
  EHXPLLL: 'rtl/boards/stubs/EHXPLLL.v',
  MMCME2_BASE: 'rtl/boards/stubs/MMCME2_BASE.v',
  MMCME3_BASE: 'rtl/boards/stubs/MMCME3_BASE.v',
  MMCME4_BASE: 'rtl/boards/stubs/MMCME4_BASE.v',
};
