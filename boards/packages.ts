/**
 * Valid pin names per package, for the pin check (generator/flow/pincheck.ts). QFN packages list their
 * user-I/O pins; BGA packages list every ball of the grid (row letters skip I O Q S X Z per the Xilinx and
 * Lattice ball-naming rules), so a typo or a pin from another package is caught, though not a power ball.
 */

/** Ball row letters in order: A..Y without I O Q S X Z, then AA..AY, BA..BY, ... */
function rowLetters(count: number): string[] {
  const single = 'ABCDEFGHJKLMNPRTUVWY'.split('');
  const out: string[] = [];
  for (let prefix = -1; out.length < count; prefix++)
    for (const l of single) {
      if (out.length >= count) break;
      out.push(prefix < 0 ? l : `${single[prefix]}${l}`);
    }
  return out;
}

function grid(rows: number, cols: number): Set<string> {
  const s = new Set<string>();
  for (const r of rowLetters(rows)) for (let c = 1; c <= cols; c++) s.add(`${r}${c}`);
  return s;
}

/**
 * iCE40UP5K SG48 user I/O pins (Lattice iCE40 UltraPlus family data sheet, SG48 pinout; pins 39-41 are the
 * RGB current sinks, 14-17 the configuration SPI, also usable as I/O after configuration).
 */
const SG48_IO = [2, 3, 4, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 25, 26, 27, 28, 31, 32, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48];

export const PACKAGE_PINS: Record<string, { description: string; pins: ReadonlySet<string> }> = {
  SG48: { description: 'iCE40UP5K 48-pin QFN, user I/O pins', pins: new Set(SG48_IO.map(String)) },
  CSG324: { description: 'Xilinx 7-series CSG324, 18 x 18 balls (A-V, 1-18)', pins: grid(18, 18) },
  CABGA381: { description: 'Lattice ECP5 caBGA381, 20 x 20 balls (A-Y, 1-20)', pins: grid(20, 20) },
  FFVA1156: { description: 'Xilinx UltraScale FFVA1156, 34 x 34 balls (A-AP, 1-34)', pins: grid(34, 34) },
  FSVH2892: { description: 'Xilinx UltraScale+ FSVH2892, 54 x 54 balls (A-BP, 1-54)', pins: grid(54, 54) },
};

export function isPackagePin(pkg: string, pin: string): boolean {
  const p = PACKAGE_PINS[pkg];
  if (!p) throw new Error(`no pin list for package '${pkg}' (known: ${Object.keys(PACKAGE_PINS).join(', ')})`);
  return p.pins.has(pin);
}
