import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bars, beside, histogram, lines, renderSvg, writePlot } from '../../host/plot';

describe('SVG plots', () => {
  it('renders titles, axis titles and one mark per bar', async () => {
    const svg = await renderSvg(beside(histogram('latency xyz', [1, 2, 2, 3, 9], 'ms'), bars('per class', [{ label: 'B', value: 3 }, { label: 'T4', value: 5 }], 'events')));
    expect(svg.startsWith('<svg')).toBe(true);
    for (const t of ['latency xyz', 'per class', 'ms', 'events', 'T4']) expect(svg).toContain(t);
    // Bars are drawn as path elements with aria labels naming their data.
    expect(svg.match(/aria-label="label: T4; events: 5"/g)).toHaveLength(1);
  });

  it('writes atomically and refuses formats it cannot render', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-plot-'));
    await writePlot(join(dir, 'a.svg'), lines('t', [{ x: 0, y: 1, series: 's' }, { x: 1, y: 2, series: 's' }], { x: 'x', y: 'y' }));
    expect(readFileSync(join(dir, 'a.svg'), 'utf8')).toMatch(/^<svg/);
    await expect(writePlot(join(dir, 'b.png'), lines('t', [], { x: 'x', y: 'y' }))).rejects.toThrow(/only \.svg/);
    expect(existsSync(join(dir, 'b.png'))).toBe(false);
  });
});
