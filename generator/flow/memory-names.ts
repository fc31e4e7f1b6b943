/**
 * Memory name suffixes that steer technology mapping where Yosys' cost model picks badly. The RTL stays portable:
 * a suffix only sets a `ram_style` attribute in the flows of the families that need it.
 *
 * - `*_spram` (no initial contents, one port) go to iCE40 SB_SPRAM256KA: memory_libmap would pick block RAM on cost
 *   alone, so they get ram_style "huge".
 * - `*_regs` are small, wide memories (a few entries of 64+ bits) that would each waste whole iCE40 EBRs, whose
 *   narrowest shape is 256 x 16: on iCE40 they become flip-flops (ram_style "logic"). Elsewhere they stay LUT RAM.
 */
export const SPRAM_SUFFIX = '_spram';
export const REGISTERS_SUFFIX = '_regs';
export const ICE40_MEMORY_ATTRS = `setattr -set ram_style "huge" m:*${SPRAM_SUFFIX}; setattr -set ram_style "logic" m:*${REGISTERS_SUFFIX}`;
