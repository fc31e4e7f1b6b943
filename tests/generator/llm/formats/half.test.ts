import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../../../generator/llm/formats/half';

describe('F16 / BF16 <-> float32', () => {
  it('decodes known binary16 patterns', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x8000].map(f16ToF32)).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, -0]);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
  });

  it('every binary16 value survives decode -> encode, and encoding rounds to nearest even', () => {
    for (let h = 0; h < 0x10000; h++) if ((h & 0x7c00) !== 0x7c00 || !(h & 0x3ff)) expect(f32ToF16(f16ToF32(h))).toBe(h);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f32ToF16(65520)).toBe(0x7c00); // overflow
    expect(f32ToF16(2 ** -25)).toBe(0); // half the smallest subnormal: tie -> 0
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(1);
  });

  it('bfloat16 is the top half of float32, rounded to nearest even', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc0a0)).toBe(-5);
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    for (let b = 0; b < 0x10000; b += 7) if ((b & 0x7f80) !== 0x7f80) expect(f32ToBf16(bf16ToF32(b))).toBe(b);
  });
});
