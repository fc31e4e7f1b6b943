// The engine top's ROMs in per-unit synthesis: which memories are boxed as asynchronously read ROMs (with their read
// ports), and the per-port synthesis the count is extrapolated from (each port a whole decoder of the table).
import { describe, expect, it } from 'vitest';
import { lit, Module } from '../../../../generator/hdl';
import { asyncRoms, engineTopDspCensus, romPortsModule } from '../../../../generator/llm/engine/synth';
import { printDesign } from '../../../../generator/hdl';
import { synthesize } from '../../../../generator/flow/synth';
import { llmPresetConfig, STORIES260K_SHAPE } from '../../../../generator/llm/engine/hw-config';

// a smooth 256-entry table, like the engine's sigmoid / exp2 tables
const TABLE = Array.from({ length: 256 }, (_, i) => Math.round(1000 * Math.sin(i / 40)) & 0xfff);

describe('engine top ROMs', () => {
  it('finds the ROMs read only asynchronously, with one port per distinct read', () => {
    const m = new Module('roms');
    const a = m.input('a', 8);
    const b = m.input('b', 8);
    const rom = m.memory('tab_rom', 12, 256, TABLE);
    const regRom = m.memory('reg_rom', 12, 256, TABLE);
    const ram = m.memory('ram', 12, 256);
    const r0 = rom.read(a);
    m.assign(m.output('y0', 12), r0);
    m.assign(m.output('y1', 12), rom.read(b));
    m.assign(m.output('y2', 12), r0.add(ram.read(a))); // the same read again: one port
    const q = m.output('q', 12);
    m.sync((blk) => blk.set(q, regRom.read(a)).write(ram, b, lit(0, 12)));
    expect(asyncRoms(m).map((r) => [r.mem.name, r.ports])).toEqual([['tab_rom', 2]]);
  });

  it('a ROM read port costs about the same LUTs each: two ports synthesise to about twice one', async () => {
    const rom = new Module('t').memory('tab_rom', 12, 256, TABLE);
    const luts = [];
    for (const ports of [1, 2]) {
      const d = printDesign(romPortsModule(rom, ports));
      luts.push((await synthesize(d.files, d.top, 'xcup')).luts);
    }
    expect(luts[0]).toBeGreaterThan(20);
    expect(luts[1]! / luts[0]!).toBeGreaterThan(1.8);
    expect(luts[1]! / luts[0]!).toBeLessThan(2.2);
  }, 60_000);

  it('the top DSP census grows with the attention slots, about 2 x kvGroup per slot with packed score and v products', () => {
    const cfgAt = (slotPar: number) => llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { slotPar } });
    const at = (slotPar: number) => engineTopDspCensus(cfgAt(slotPar)).dsp;
    const dsp = [1, 2, 4, 8].map(at);
    for (let k = 1; k < dsp.length; k++) expect(dsp[k]!).toBeGreaterThan(dsp[k - 1]!);
    // per slot: kvGroup / 2 score DSPs (two slots per DSP), kvGroup / 2 v dequantisations (two codes per DSP), kvGroup
    // P.V products and a few scalar ones; one product per element everywhere would be 3 x kvGroup
    const G = cfgAt(4).engine.kvGroup;
    const perSlot = (dsp[2]! - dsp[1]!) / 2;
    expect(perSlot).toBeGreaterThanOrEqual(2 * G);
    expect(perSlot).toBeLessThan(3 * G);
  });
});
