import { describe, expect, it } from 'vitest';
import { cellnetLinked } from '../../host/designs/cellnet';
import { DeviceMismatchError } from '../../host/link/device';
import { classMask, explainMismatch, percentile } from '../../host/sorter/replay';

describe('sorter host helpers', () => {
  it('names the --ppc of a board that runs another cell-sorter build', () => {
    const ppc1 = cellnetLinked(1).regmap;
    const e = new DeviceMismatchError('device runs cellnet version x', { designId: ppc1.designId, version: ppc1.version });
    const out = explainMismatch(e, 8) as Error;
    expect(out).toBeInstanceOf(DeviceMismatchError);
    expect(out.message).toMatch(/pass --ppc 1 \(also the --serial/);
    // Unknown versions and other errors pass through unchanged.
    const odd = new DeviceMismatchError('m', { designId: 1, version: 12345 });
    expect(explainMismatch(odd, 8)).toBe(odd);
    const other = new Error('timeout');
    expect(explainMismatch(other, 8)).toBe(other);
  });

  it('resolves class names and indices, and lists the valid ones otherwise', () => {
    expect(classMask(['B', 'T4'], ['T4'])).toBe(2);
    expect(classMask(['B', 'T4'], ['0', 'T4'])).toBe(3);
    expect(() => classMask(['B', 'T4'], ['T8'])).toThrow(/0=B, 1=T4/);
    expect(percentile([5, 1, 3], 0.5)).toBe(3);
  });
});
