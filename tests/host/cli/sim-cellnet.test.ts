import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run('node', ['bin/lutforge.js', ...args], { cwd: process.cwd(), maxBuffer: 1 << 24 }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

describe('lutforge sim cellnet', () => {
  it('classifies images under stalls, bit-exact with the classifier and trigger goldens', async () => {
    const r = await cli(['sim', 'cellnet', '--images', 'synthetic:8', '--ppc', '1', '--stall', '0.3', '--seed', '4', '--json']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { ok: boolean; images: number; classifierMatches: number; triggerMatches: boolean; frameCycles: { min: number } };
    expect(res).toMatchObject({ ok: true, images: 8, classifierMatches: 8, triggerMatches: true });
    // At 1 pixel per cycle a frame cannot finish before all 48x48 pixels are in.
    expect(res.frameCycles.min).toBeGreaterThanOrEqual(48 * 48);
  }, 900_000);

  it('refuses an impossible ppc, naming it', async () => {
    const r = await cli(['sim', 'cellnet', '--ppc', '3', '--json']);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout).message).toMatch(/'ppc'.*1, 2, 4, 8/);
  });
});
