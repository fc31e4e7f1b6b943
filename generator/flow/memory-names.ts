/**
 * Memories named `*_spram` (no initial contents, one port) go to iCE40 SB_SPRAM256KA: memory_libmap would pick
 * block RAM on cost alone, so they get ram_style "huge". Other families ignore the attribute.
 */
export const SPRAM_SUFFIX = '_spram';
export const ICE40_MEMORY_ATTRS = `setattr -set ram_style "huge" m:*${SPRAM_SUFFIX}`;
