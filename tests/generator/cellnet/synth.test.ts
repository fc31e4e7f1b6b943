import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../generator/util/errors';
import { FRAME, synthImages, synthSplit } from '../../../generator/cellnet/synth';

/** Pixels clearly darker than the frame border: a proxy for the cell's area. */
function darkArea(px: Uint8Array): number {
  const border: number[] = [];
  for (let i = 0; i < FRAME; i++) border.push(px[i]!, px[(FRAME - 1) * FRAME + i]!, px[i * FRAME]!, px[i * FRAME + FRAME - 1]!);
  border.sort((a, b) => a - b);
  const bg = border[border.length >> 1]!;
  let n = 0;
  for (const v of px) if (v < 0.85 * bg) n++;
  return n;
}

describe('synthetic lymphocytes', () => {
  it('is deterministic in the seed', () => {
    const a = synthImages(20, { seed: 5, labels: [0, 1] });
    const b = synthImages(20, { seed: 5, labels: [0, 1] });
    const c = synthImages(20, { seed: 6, labels: [0, 1] });
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true);
    expect(Buffer.from(a.pixels).equals(Buffer.from(c.pixels))).toBe(false);
    expect(Array.from(a.labels.subarray(0, 4))).toEqual([0, 1, 0, 1]);
    const s = synthSplit(10, 10, { seed: 5, labels: [0, 1] });
    expect(Buffer.from(s.train.pixels).equals(Buffer.from(s.test.pixels))).toBe(false);
  });

  it('has per-class statistics that differ but overlap', () => {
    const n = 600;
    const set = synthImages(n, { seed: 11, labels: [0, 1] });
    const area = (i: number) => darkArea(set.pixels.subarray(i * FRAME * FRAME, (i + 1) * FRAME * FRAME));
    const a0: number[] = [], a1: number[] = [];
    for (let i = 0; i < n; i++) (set.labels[i] === 0 ? a0 : a1).push(area(i));
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    // B cells are larger on average (physical model: 7.6 vs 7.2 um at the default separation) ...
    expect(mean(a0)).toBeGreaterThan(mean(a1) * 1.03);
    // ... but the best single threshold on that area is far from a perfect classifier.
    const all = [...a0.map((v) => [v, 0] as const), ...a1.map((v) => [v, 1] as const)].sort((x, y) => x[0] - y[0]);
    let best = 0;
    let below1 = 0, below0 = 0;
    for (const [, c] of all) {
      if (c === 0) below0++;
      else below1++;
      // Predict T4 (1) at or below the threshold, B (0) above.
      best = Math.max(best, (below1 + (a0.length - below0)) / all.length);
    }
    expect(best).toBeGreaterThan(0.55);
    expect(best).toBeLessThan(0.85);
  });

  it('images look like bright-field frames (mean and contrast in range, no clipping floods)', () => {
    const set = synthImages(60, { seed: 2, labels: [0, 1, 2] });
    let s = 0, s2 = 0, sat = 0;
    for (const p of set.pixels) (s += p / 255), (s2 += (p / 255) ** 2), (sat += p === 0 || p === 255 ? 1 : 0);
    const m = s / set.pixels.length;
    expect(m).toBeGreaterThan(0.35);
    expect(m).toBeLessThan(0.65);
    expect(Math.sqrt(s2 / set.pixels.length - m * m)).toBeGreaterThan(0.04);
    expect(sat / set.pixels.length).toBeLessThan(0.001);
  });

  it('rejects unknown labels and bad separation', () => {
    expect(() => synthImages(2, { seed: 1, labels: [0, 7] })).toThrow(ConfigError);
    expect(() => synthImages(2, { seed: 1, labels: [0, 1], separation: -1 })).toThrow(/separation/);
  });
});
