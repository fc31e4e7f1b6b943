import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'lutforge-ice40-long-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('iCEBreaker bitstreams (long)', () => {
  // Default cellnet preset on the iCEBreaker: the time-multiplexed engine (serial=1) behind the link.
  it('builds the cell classifier (serial engine) + link: top.bin, timing report with Fmax >= 12 MHz', () => {
    const out = join(tmp, 'cellnet-serial');
    const r = cli(['build', 'cellnet', '--board', 'icebreaker', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { preset: string; bytes: number; timingMet: boolean; clocks: Array<{ fmaxMhz: number; targetMhz: number }> };
    expect(res.preset).toBe('up5k');
    expect(res.timingMet).toBe(true);
    expect(res.clocks.length).toBeGreaterThan(0);
    for (const c of res.clocks) expect(c.fmaxMhz).toBeGreaterThanOrEqual(c.targetMhz);
    const bin = readFileSync(join(out, 'top.bin'));
    expect(bin.length).toBe(res.bytes);
    expect(bin.length).toBeGreaterThan(100_000); // a whole UP5K configuration image
    const timing = JSON.parse(readFileSync(join(out, 'reports/timing.json'), 'utf8')) as {
      timingMet: boolean;
      utilisation: Record<string, { used: number; available: number }>;
    };
    expect(timing.timingMet).toBe(true);
    expect(timing.utilisation.ICESTORM_SPRAM!.used).toBe(2);
    expect(timing.utilisation.ICESTORM_DSP!.used).toBe(1);
    expect(timing.utilisation.ICESTORM_LC!.used).toBeLessThanOrEqual(5280);
    const man = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { params: Record<string, number>; bitstream: { bytes: number } };
    expect(man.params).toMatchObject({ ppc: 1, serial: 1 });
    expect(man.bitstream.bytes).toBe(bin.length);
  });

  // The streaming generator instantiates every multiplier and keeps weights in flops (docs/cellnet.md):
  // even at ppc 1 it is ~13x the UP5K, so the board build must refuse it after Yosys with the overflow table.
  it('refuses the streaming cell classifier (preset small, ppc 1) + link on the iCEBreaker with the overflow table', () => {
    const out = join(tmp, 'cellnet');
    const r = cli(['build', 'cellnet', '--board', 'icebreaker', '--preset', 'small', '--out', out], 3_500_000); // Yosys alone ~40 min here
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not fit icebreaker/);
    expect(r.stderr).toMatch(/LUT\s+\d+\s+5280\s+[\d.]+\s+OVERFLOW/);
    expect(r.stderr).toMatch(/--preset up5k/);
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
