import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'lutforge-ice40-long-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('iCEBreaker bitstreams (long)', () => {
  // The cell classifier generator instantiates every multiplier and keeps weights in flops (docs/cellnet.md):
  // even at ppc 1 it is ~13x the UP5K, so the board build must refuse it after Yosys with the overflow table.
  it('refuses the cell classifier (ppc 1) + link on the iCEBreaker with the overflow table', () => {
    const out = join(tmp, 'cellnet');
    const r = cli(['build', 'cellnet', '--board', 'icebreaker', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not fit icebreaker/);
    expect(r.stderr).toMatch(/LUT\s+\d+\s+5280\s+[\d.]+\s+OVERFLOW/);
    expect(r.stderr).toMatch(/larger board/);
    expect(r.stderr).not.toMatch(/--ppc \(now 1\)/); // nothing smaller to suggest
    expect(() => statSync(out)).toThrow();
  });

  it('fails clearly when the requested clock is faster than the achieved Fmax', () => {
    const out = join(tmp, 'fast');
    const r = cli(['build', 'gemv', '--board', 'icebreaker', '--preset', 'tiny', '--clock-mhz', '96', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/timing not met on icebreaker .* MHz < 96 MHz/);
    // The reports are still written for inspection.
    const timing = JSON.parse(readFileSync(join(out, 'reports/timing.json'), 'utf8')) as { timingMet: boolean };
    expect(timing.timingMet).toBe(false);
  });
});
