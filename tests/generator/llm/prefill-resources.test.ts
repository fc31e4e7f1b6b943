// The XCU280 budget of a saved per-unit engine synthesis (bench llm-synth7b): LUT sites of LUTRAM cells, the on-chip
// bits with the shell's share, per-lane extrapolation of the GEMV slices, and refusals of stale or incomplete reports.
import { describe, expect, it } from 'vitest';
import { STORIES260K_SHAPE, llmPresetConfig, U280_ONCHIP_BITS } from '../../../generator/llm/engine/hw-config';
import { budgetWithMemory, engineBudget, lutSites, synthConfigKey, U280_PART, type SavedEngineSynth } from '../../../generator/llm/prefill/resources';
import { synthesize, type ResourceReport } from '../../../generator/flow/synth';

const rep = (luts: number, ffs: number, dsp: number, cells: Record<string, number> = {}): ResourceReport => ({
  target: 'xcup', top: 't', luts, ffs, carry: 0, dsp, bram: 0, lutram: 0, cells: { LUT6: luts, ...cells }, seconds: 10,
});

describe('engine budget from a saved synthesis', () => {
  it('counts LUTRAM and SRL cells as the LUT sites they take, and refuses a RAM cell it has no count for', () => {
    expect(lutSites(rep(10, 0, 0, { RAM64M: 3, SRLC32E: 2, RAMB36E2: 1, FDRE: 5 }))).toEqual({ logic: 10, lutram: 14, total: 24 });
    expect(() => lutSites(rep(1, 0, 0, { RAM16X8Q: 1 }))).toThrow(/RAM16X8Q/);
  });

  it('adds the shell share of the on-chip bits and fails the fit on memory alone', () => {
    const shellBits = Math.round(U280_ONCHIP_BITS / 10);
    const ok = budgetWithMemory({ a: { luts: 1, ffs: 1, dsp: 1 } }, 100 * 2 ** 20);
    expect(ok.onChip.totalBits).toBe(100 * 2 ** 20 + shellBits);
    expect(ok.fits).toBe(true);
    const over = budgetWithMemory({ a: { luts: 1, ffs: 1, dsp: 1 } }, U280_ONCHIP_BITS - shellBits + 1);
    expect(over.fits).toBe(false);
    expect(over.onChip.fraction).toBeGreaterThan(1);
  });

  const cfg = llmPresetConfig('sim-small', STORIES260K_SHAPE); // 4 GEMV lanes
  const saved = (): SavedEngineSynth => ({
    version: 1,
    configKey: synthConfigKey(cfg),
    description: 'test',
    target: 'xcup',
    boxMemoryBits: 1024,
    top: { report: rep(500, 50, 3, { RAM32M: 2 }), boxed: [{ name: 'x_mem', width: 8, depth: 256, bits: 2048 }], wallSeconds: 100 },
    gemvAt: [
      { lanes: 2, report: rep(180, 30, 5, { RAM64M: 2 }), wallSeconds: 20 },
      { lanes: 1, report: rep(100, 20, 3, { RAM64M: 1 }), wallSeconds: 11 },
    ],
  });

  it('sums the top and the GEMV unit extrapolated per lane, with the shell share', () => {
    const b = engineBudget(saved(), cfg, 'test');
    const [top, gemv] = Object.values(b.parts);
    expect(top).toEqual({ luts: 508, ffs: 50, dsp: 3 });
    // slices at 1 / 2 lanes take 104 / 188 LUT sites, 20 / 30 FF, 3 / 5 DSP: 84, 10, 2 per lane, so at 4 lanes
    expect(gemv).toEqual({ luts: 104 + 3 * 84, ffs: 50, dsp: 9 });
    expect(b.total).toEqual({ luts: 508 + 356 + 130_368, ffs: 100 + 260_736, dsp: 12 + 902 });
    expect(b.fraction.dsp).toBeCloseTo(914 / U280_PART.dsp, 12);
    expect(Object.values(b.lutSplit)[1]).toEqual({ logic: 100 + 3 * 80, lutram: 16 });
    expect(b.onChip.bits).toBe(cfg.onChipBits);
    expect(b.boxedBits).toBe(2048);
    expect(b.yosysSeconds).toEqual({ top: 10, gemvSlices: 20, total: 30 });
    expect(b.wallSeconds).toEqual({ top: 100, gemvSlices: 31, total: 131 });
    expect(b.fits).toBe(true);
  });

  it('extrapolates the top per slot from two smaller slotPar runs when the full top was not synthesised', () => {
    const c4 = llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { slotPar: 4 } });
    const s = { ...saved(), configKey: synthConfigKey(c4), top: undefined };
    s.topAt = [
      { slotPar: 2, report: rep(900, 80, 10, { RAM64M: 1 }), boxed: [], wallSeconds: 50 },
      { slotPar: 1, report: rep(600, 60, 6), boxed: [], wallSeconds: 40 },
    ];
    const b = engineBudget(s, c4, 'test');
    // 600 / 904 LUT sites, 60 / 80 FF, 6 / 10 DSP at slotPar 1 / 2: 304, 20, 4 per slot, so at slotPar 4
    expect(Object.values(b.parts)[0]).toEqual({ luts: 600 + 3 * 304, ffs: 120, dsp: 18 });
    expect(Object.values(b.lutSplit)[0]).toEqual({ logic: 1512 - 12, lutram: 12 });
    expect(b.topAt.map((t) => t.slotPar)).toEqual([1, 2]);
    expect(b.wallSeconds.top).toBe(90);
    expect(Object.keys(b.parts)[0]).toMatch(/slotPar 1 and 2, extrapolated per slot to 4/);
    expect(() => engineBudget({ ...s, topAt: s.topAt!.slice(0, 1) }, c4, 'test')).toThrow(/two slotPar values/);
  });

  it('refuses a report of another configuration, without a top, or with one slice', () => {
    expect(() => engineBudget({ ...saved(), configKey: 'feedbeef' }, cfg, 'test')).toThrow(/another configuration/);
    expect(() => engineBudget({ ...saved(), top: undefined }, cfg, 'test')).toThrow(/no engine top/);
    const low = engineBudget({ ...saved(), top: undefined }, cfg, 'test', { withoutTop: true });
    expect([low.complete, Object.values(low.parts)[0], low.total.luts]).toEqual([false, { luts: 0, ffs: 0, dsp: 0 }, 356 + 130_368]);
    // the top's DSPs from the census: the lower bound can then fail on DSPs alone
    const dspOver = U280_PART.dsp - 902 - 9 + 1;
    const censused = engineBudget({ ...saved(), top: undefined }, cfg, 'test', { withoutTop: true, topDspCensus: dspOver });
    expect([censused.complete, Object.values(censused.parts)[0], censused.total.dsp, censused.fits]).toEqual([false, { luts: 0, ffs: 0, dsp: dspOver }, U280_PART.dsp + 1, false]);
    expect(Object.keys(censused.parts)[0]).toMatch(/census/);
    expect(engineBudget({ ...saved(), top: undefined }, cfg, 'test', { withoutTop: true, topDspCensus: dspOver - 1 }).fits).toBe(true);
    expect(() => engineBudget({ ...saved(), gemvAt: saved().gemvAt.slice(0, 1) }, cfg, 'test')).toThrow(/two lane counts/);
    const other = llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { prefillBlock: 4 } });
    expect(synthConfigKey(other)).not.toBe(synthConfigKey(cfg));
  });

  it('boxes memories on Xilinx targets only', async () => {
    await expect(synthesize([{ name: 't.v', text: 'module t(); endmodule\n' }], 't', 'ice40', { boxMemories: ['m'] })).rejects.toThrow(/Xilinx/);
  });
});
