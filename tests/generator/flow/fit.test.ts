import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BOARDS, boardNamed } from '../../../boards';
import { fitCheck, fitRows, formatFitTable } from '../../../generator/flow/fit';
import type { ResourceReport } from '../../../generator/flow/synth';
import { generateBoard, sha256 } from '../../../generator/shell/generate';
import { cli } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'lutforge-fit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fake = (o: Partial<ResourceReport>): ResourceReport => ({ target: 'ice40', top: 'top', luts: 0, ffs: 0, carry: 0, dsp: 0, bram: 0, lutram: 0, cells: {}, seconds: 0, ...o });

describe('fit check', () => {
  it('marks exactly the overflowing rows and splits SPRAM out of block RAM', () => {
    const ice = boardNamed('icebreaker');
    const rows = fitRows(ice, fake({ luts: 5281, ffs: 10, dsp: 8, bram: 34, cells: { SB_SPRAM256KA: 4, SB_RAM40_4K: 30 } }));
    const by = Object.fromEntries(rows.map((r) => [r.resource, r]));
    expect(by.LUT).toMatchObject({ used: 5281, available: 5280, over: true });
    expect(by.DSP).toMatchObject({ used: 8, over: false });
    expect(by.BRAM).toMatchObject({ used: 30, over: false });
    expect(by.SPRAM).toMatchObject({ used: 4, available: 4, over: false });
    expect(formatFitTable(rows)).toMatch(/LUT\s+5281\s+5280\s+100\.0\s+OVERFLOW/);
    const u280 = fitRows(BOARDS.u280!, fake({ target: 'xcup', luts: 10, cells: { URAM288: 961 } }));
    expect(u280.find((r) => r.resource === 'URAM')).toMatchObject({ used: 961, over: true });
  });

  it('a small GEMV fits the iCEBreaker (Yosys synth_ice40 of the whole top)', async () => {
    const g = generateBoard({ design: 'gemv', board: 'icebreaker', preset: 'tiny' });
    const fit = await fitCheck(g.board, g.rtl, 'top');
    expect(fit.fits).toBe(true);
    const dsp = fit.rows.find((r) => r.resource === 'DSP')!;
    expect(dsp.used).toBe(2); // one scale multiplier per lane
    expect(fit.rows.find((r) => r.resource === 'LUT')!.used).toBeGreaterThan(300);
  });

  it('the cell classifier + link with the serial engine (preset up5k, the default) fits the iCEBreaker', async () => {
    const g = generateBoard({ design: 'cellnet', board: 'icebreaker' });
    expect(g.params).toMatchObject({ serial: 1 });
    const fit = await fitCheck(g.board, g.rtl, 'top');
    const row = (r: string) => fit.rows.find((x) => x.resource === r)!;
    expect(fit.fits, formatFitTable(fit.rows)).toBe(true);
    expect(row('DSP').used).toBe(1); // the one shared multiplier
    expect(row('SPRAM').used).toBe(2); // the two feature-map memories
    expect(row('BRAM').used).toBeGreaterThanOrEqual(12); // the 5,768 weight bytes
    expect(row('LUT').used).toBeGreaterThan(1000);
  }, 600_000);

  it('refuses a GEMV with more lanes than the UP5K has DSPs: overflow table, suggestion, nothing written', () => {
    const out = join(tmp, 'over');
    const r = cli(['generate', 'gemv', '--board', 'icebreaker', '--lanes', '16', '--simd', '2', '--group', '8', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not fit icebreaker/);
    expect(r.stderr).toMatch(/DSP\s+16\s+8\s+200\.0\s+OVERFLOW/);
    expect(r.stderr).toMatch(/--lanes \(now 16\)/);
    expect(r.stderr).toMatch(/--preset tiny/);
    expect(existsSync(out)).toBe(false);
  });

  it('generates a fitting pair with --json: manifest with sha256 of every written file', () => {
    const out = join(tmp, 'arty');
    const r = cli(['generate', 'gemv', '--board', 'arty-a7-35t', '--preset', 'tiny', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    const res = JSON.parse(r.stdout) as { top: string; fit: { fits: boolean } };
    expect(res).toMatchObject({ top: 'top', fit: { fits: true } });
    const man = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { top: string; board: string; files: Array<{ path: string; sha256: string }> };
    expect(man).toMatchObject({ top: 'top', board: 'arty-a7-35t' });
    for (const f of man.files) expect(sha256(readFileSync(join(out, f.path)))).toBe(f.sha256);
    expect(man.files.map((f) => f.path)).toEqual(expect.arrayContaining(['constraints/top.xdc', 'scripts/build.tcl', 'regmap.json', 'rtl/top.v', 'reports/fit.json']));
  });

  it('names the valid boards and presets on bad input', () => {
    const b = cli(['generate', 'gemv', '--board', 'zedboard', '--out', join(tmp, 'x')]);
    expect(b.code).toBe(1);
    for (const n of Object.keys(BOARDS)) expect(b.stderr).toContain(n);
    const p = cli(['generate', 'gemv', '--board', 'icebreaker', '--preset', 'enormous', '--out', join(tmp, 'x')]);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/preset.*u280, tiny, sim-small/);
  });
});
