import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'lutforge-ice40-long-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('iCEBreaker bitstreams (long)', () => {
  it('cell classifier (ppc 1) + link: bitstream and timing report at 12 MHz', () => {
    const out = join(tmp, 'cellnet');
    const r = cli(['build', 'cellnet', '--board', 'icebreaker', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    const res = JSON.parse(r.stdout) as { timingMet: boolean; clocks: Array<{ fmaxMhz: number; targetMhz: number }>; preset: string };
    expect(res.preset).toBe('small');
    expect(res.timingMet).toBe(true);
    for (const c of res.clocks) expect(c.fmaxMhz).toBeGreaterThanOrEqual(c.targetMhz);
    expect(statSync(join(out, 'top.bin')).size).toBe(104090);
    const man = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { top: string; design: string; files: Array<{ path: string }> };
    expect(man).toMatchObject({ top: 'top', design: 'cellnet' });
    expect(man.files.map((f) => f.path)).toContain('regmap.json');
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
