/** The four regions of the device's weight memory (layout.ts lays them out; hbm-layout.ts re-slices them per pseudo-channel). */
export const REGIONS = ['w', 's', 'a', 'e'] as const;
export type RegionName = (typeof REGIONS)[number];

export interface RegionLayout {
  name: RegionName;
  /** Wide words held. */
  words: number;
  /** Wide word width in bits and its 32-bit limbs. */
  width: number;
  limbs: number;
  /** Address stride of one wide word (power of two >= limbs). */
  stride: number;
  /** First host word address. */
  base: number;
}
