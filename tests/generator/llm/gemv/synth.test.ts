import { describe, expect, it } from 'vitest';
import { printDesign } from '../../../../generator/hdl';
import { synthesize } from '../../../../generator/flow/synth';
import { gemvConfig, gemvModule } from '../../../../generator/llm/gemv';

describe('GEMV synthesises in Yosys', () => {
  const cfg = gemvConfig({ lanes: 2, simd: 8, group: 16, maxCols: 256, maxRows: 64 });
  const d = printDesign(gemvModule(cfg));

  it('for UltraScale+ (xcup): no DSP on the 2-bit products, one per lane for the group scales', async () => {
    const r = await synthesize(d.files, d.top, 'xcup');
    expect(r.luts).toBeGreaterThan(0);
    expect(r.ffs).toBeGreaterThan(0);
    expect(r.dsp).toBe(cfg.lanes);
  });

  it('for iCE40 and ECP5', async () => {
    for (const target of ['ice40', 'ecp5'] as const) {
      const r = await synthesize(d.files, d.top, target);
      expect(r.luts, target).toBeGreaterThan(0);
      expect(r.dsp, target).toBeLessThanOrEqual(cfg.lanes);
    }
  });
});
