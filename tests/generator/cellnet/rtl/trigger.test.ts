import { beforeAll, describe, expect, it } from 'vitest';
import { cellnetConfig } from '../../../../generator/cellnet/config';
import { cellnetHw, EVENT_MODES, REGS, type CellnetHw } from '../../../../generator/cellnet/rtl';
import { regWrites, triggerGolden, type Decision, type TriggerRegs } from '../../../../generator/cellnet/rtl/trigger-golden';
import { printDesign } from '../../../../generator/hdl';
import { Rng } from '../../../../generator/util/rng';
import { buildSim, type Sim } from '../../../../sim';
import { decodeEdges, decodeEvent, regWord, triggerHarness } from '../../../../sim/designs/cellnet';

const hw3: CellnetHw = cellnetHw(cellnetConfig({ classes: [{ name: 'B', label: 0 }, { name: 'T4', label: 1 }, { name: 'T8', label: 2 }], layers: [...cellnetConfig().layers.slice(0, 4), { kind: 'dense', units: 3, weightBits: 8 }] }), 8, { queueDepth: 4, eventDepth: 64 });

describe('trigger golden model', () => {
  const dec = (timestamp: number, cls: number, score: number, frame = 0): Decision => ({ timestamp, sof: timestamp, cls, score, frame });
  const writes = (r: TriggerRegs) => regWrites(r).map((w, i) => ({ ...w, cycle: i }));

  it('starts a pulse exactly delay cycles after the decision and holds it width cycles', () => {
    for (const [delay, width] of [[0, 1], [0, 7], [5, 3], [1000, 250]]) {
      const g = triggerGolden(hw3, [dec(100, 1, 50)], writes({ enable: true, classMask: 2, threshold: 10, delay: delay!, width: width! }));
      expect(g.pulses).toEqual([{ start: 100 + delay!, end: 100 + delay! + width! }]);
      expect(g.events[0]).toMatchObject({ fired: true, dropped: false });
    }
  });

  it('never fires outside the class mask, below threshold, with width 0 or disabled', () => {
    const r = { enable: true, classMask: 0b101, threshold: 40, delay: 3, width: 5 };
    const ds = [dec(50, 1, 100), dec(60, 0, 39), dec(70, 2, 40), dec(80, 0, 41)];
    const g = triggerGolden(hw3, ds, writes(r));
    expect(g.events.map((e) => e.fired)).toEqual([false, false, true, true]);
    expect(g.pulses).toEqual([{ start: 73, end: 78 }, { start: 83, end: 88 }]);
    expect(triggerGolden(hw3, ds, writes({ ...r, enable: false })).pulses).toEqual([]);
    expect(triggerGolden(hw3, ds, writes({ ...r, width: 0 })).pulses).toEqual([]);
    expect(triggerGolden(hw3, ds, []).pulses).toEqual([]);
  });

  it('merges overlapping pulses without a gap and drops decisions when the queue is full', () => {
    const r = { enable: true, classMask: 7, threshold: 0, delay: 100, width: 30 };
    const g = triggerGolden(hw3, [dec(10, 0, 1), dec(20, 0, 1), dec(60, 0, 1)], writes(r));
    expect(g.pulses).toEqual([{ start: 110, end: 150 }, { start: 160, end: 190 }]);
    const many = Array.from({ length: 6 }, (_, i) => dec(10 + i, 0, 1, i));
    const g2 = triggerGolden(hw3, many, writes(r));
    expect(g2.events.map((e) => e.dropped)).toEqual([false, false, false, false, true, true]);
  });
});

describe('trigger RTL (Verilator) vs the golden model', () => {
  let sim: Sim;
  beforeAll(async () => {
    const m = triggerHarness(hw3);
    const d = printDesign(m);
    sim = await buildSim({ iface: m.interface(), files: d.files });
  }, 600_000);

  /** Random decisions (spaced by input stalls), random register rewrites while they flow. */
  async function scenario(seed: number, regs: TriggerRegs, n: number, stall: number, rewrite: boolean) {
    const rng = new Rng(seed);
    const run = await sim.start({ seed, stall: { default: 0, dec: stall, event: 0.3, edges: 0 }, stampInputs: true });
    try {
      const hw = hw3;
      const regList = regWrites(regs);
      await run.push('cfg', regList.map((w) => regWord(hw, w.addr, w.value)));
      await run.run();
      const decs = Array.from({ length: n }, (_, i) => ({ frame: i, cls: rng.int(0, 2), score: rng.int(0, 300) }));
      const words = decs.map((d) => BigInt(d.frame) | (BigInt(d.cls) << 16n) | (BigInt(d.score) << BigInt(16 + hw.classBits)));
      const extra: Array<{ addr: number; value: number }> = [];
      const collected = run.collect('event', n);
      const half = Math.floor(n / 2);
      await run.push('dec', words.slice(0, half), { more: true });
      if (rewrite) {
        extra.push({ addr: REGS.DELAY, value: rng.int(0, 40) }, { addr: REGS.WIDTH, value: rng.int(1, 30) }, { addr: REGS.CLASS_MASK, value: rng.int(0, 7) });
        await run.push('cfg', extra.map((w) => regWord(hw, w.addr, w.value)));
      }
      await run.push('dec', words.slice(half));
      const ev = await collected;
      await run.step(2000);
      const pulses = decodeEdges(run.take('edges').data);
      const lost = Number(await run.read('events_lost'));
      const decCycles = run.inputCycles('dec');
      const cfgCycles = run.inputCycles('cfg');
      await run.finish();
      const events = ev.data.map((w) => decodeEvent(hw, w));
      const writes = [...regList, ...extra].map((w, i) => ({ ...w, cycle: cfgCycles[i]! }));
      const golden = triggerGolden(hw, events, writes);
      return { events, decs, decCycles, pulses, golden, lost };
    } finally {
      run.kill();
    }
  }

  it('matches the golden model exactly: events, timestamps, every pulse edge (overlaps, queue full, rewrites)', async () => {
    const cases: Array<[TriggerRegs, number, boolean]> = [
      [{ enable: true, classMask: 0b110, threshold: 150, delay: 0, width: 1 }, 0.9, false],
      [{ enable: true, classMask: 0b011, threshold: 100, delay: 7, width: 5 }, 0.8, true],
      [{ enable: true, classMask: 0b111, threshold: 0, delay: 60, width: 25 }, 0.7, true],
      [{ enable: true, classMask: 0b111, threshold: 50, delay: 200, width: 3 }, 0.2, false],
      [{ enable: false, classMask: 0b111, threshold: 0, delay: 3, width: 3 }, 0.5, false],
    ];
    let seed = 1;
    let merged = 0;
    let dropped = 0;
    for (const [regs, stall, rewrite] of cases) {
      const r = await scenario(seed++, regs, 150, stall, rewrite);
      expect(r.lost).toBe(0);
      // the hardware timestamp is the cycle after the decision transfer
      expect(r.events.map((e) => e.timestamp)).toEqual(r.decCycles.map((c) => c + 1));
      expect(r.events.map(({ frame, cls, score }) => ({ frame, cls, score }))).toEqual(r.decs);
      expect(r.events).toEqual(r.golden.events);
      expect(r.pulses).toEqual(r.golden.pulses);
      if (!regs.enable) expect(r.pulses).toEqual([]);
      merged += r.golden.pulses.filter((p) => p.end - p.start > regs.width).length;
      dropped += r.events.filter((e) => e.dropped).length;
    }
    expect(merged).toBeGreaterThan(0); // the scenarios do exercise overlapping pulses
    expect(dropped).toBeGreaterThan(0); // and a full queue
  }, 600_000);

  it('fired-only events with late camera decisions (start of frame + delay already past) match the golden', async () => {
    const regs = { enable: true, classMask: 0b111, threshold: 0, delay: 6, width: 2, eventMode: EVENT_MODES.FIRED };
    const rng = new Rng(7);
    const run = await sim.start({ seed: 7, stall: { default: 0, dec: 0.5, event: 0.3, edges: 0 }, stampInputs: true });
    try {
      const regList = regWrites(regs);
      await run.push('cfg', regList.map((w) => regWord(hw3, w.addr, w.value)));
      await run.run();
      // the harness's start of frame is the decision timestamp minus `age`, the top field of a decision word
      const ageLo = BigInt(16 + hw3.classBits + hw3.cfg.scoreBits);
      const decs = Array.from({ length: 120 }, (_, i) => ({ frame: i, cls: rng.int(0, 2), score: rng.int(0, 300), age: rng.int(0, 12) }));
      await run.push('dec', decs.map((d) => BigInt(d.frame) | (BigInt(d.cls) << 16n) | (BigInt(d.score) << BigInt(16 + hw3.classBits)) | (BigInt(d.age) << ageLo)));
      await run.step(2000);
      const events = run.take('event').data.map((w) => decodeEvent(hw3, w));
      const pulses = decodeEdges(run.take('edges').data);
      const decCycles = run.inputCycles('dec');
      const cfgCycles = run.inputCycles('cfg');
      await run.finish();
      const golden = triggerGolden(
        hw3,
        decs.map((d, i) => ({ timestamp: decCycles[i]! + 1, sof: decCycles[i]! + 1 - d.age, fromSof: true, frame: d.frame, cls: d.cls, score: d.score })),
        regList.map((w, i) => ({ ...w, cycle: cfgCycles[i]! })),
      );
      expect(golden.decisions.filter((e) => e.dropped).length).toBeGreaterThan(10); // the ages do make decisions late
      expect(events.length).toBeGreaterThan(20);
      expect(events.every((e) => e.fired)).toBe(true);
      expect(events).toEqual(golden.events);
      expect(pulses).toEqual(golden.pulses);
    } finally {
      run.kill();
    }
  }, 600_000);

  it('fires exactly delay cycles after each qualifying decision, for width cycles, and never otherwise', async () => {
    const regs = { enable: true, classMask: 0b101, threshold: 120, delay: 9, width: 4 };
    const r = await scenario(42, regs, 200, 0.95, false);
    const want = r.events
      .filter((e) => ((regs.classMask >> e.cls) & 1) === 1 && e.score >= regs.threshold)
      .map((e) => ({ start: e.timestamp + regs.delay, end: e.timestamp + regs.delay + regs.width }));
    expect(want.length).toBeGreaterThan(20);
    expect(r.events.some((e) => e.dropped)).toBe(false);
    // the line is the union of the windows (touching or overlapping windows make one pulse)
    const union: typeof want = [];
    for (const w of want) {
      const prev = union[union.length - 1];
      if (prev && w.start <= prev.end) prev.end = Math.max(prev.end, w.end);
      else union.push({ ...w });
    }
    expect(r.pulses).toEqual(union);
  }, 600_000);
});

describe('trigger fail-safe under reset (Verilator)', () => {
  it('drops the line when reset during a pulse, and stays disarmed afterwards until reprogrammed', async () => {
    const m = triggerHarness(hw3);
    const d = printDesign(m);
    const sim = await buildSim({ iface: m.interface(), files: d.files });
    const run = await sim.start({ seed: 1, stall: { default: 0 } });
    try {
      const regs = { enable: true, classMask: 0b111, threshold: 0, delay: 10, width: 100 };
      await run.push('cfg', regWrites(regs).map((w) => regWord(hw3, w.addr, w.value)));
      await run.run();
      expect(await run.read('armed')).toBe(1n);
      const word = (frame: number) => BigInt(frame) | (1n << 16n) | (5n << BigInt(16 + hw3.classBits));
      const ev = run.collect('event', 2);
      await run.push('dec', [word(0), word(1)]);
      await ev;
      await run.step(30); // pulse is high now
      expect(await run.read('pulse')).toBe(1n);
      run.set('soft_rst', 1);
      await run.step(1);
      expect(await run.read('pulse')).toBe(0n);
      await run.step(3);
      run.set('soft_rst', 0);
      await run.step(300);
      const edges = decodeEdges(run.take('edges').data);
      expect(edges).toHaveLength(1);
      expect(edges[0]!.end - edges[0]!.start).toBeLessThan(regs.width); // cut short by the reset
      // after reset: registers are 0, so decisions are reported but never fire
      expect(await run.read('armed')).toBe(0n);
      const later = run.collect('event', 3);
      await run.push('dec', [word(2), word(3), word(4)]);
      const evs = (await later).data.map((w) => decodeEvent(hw3, w));
      await run.step(300);
      expect(evs.map((e) => [e.frame, e.fired])).toEqual([[2, false], [3, false], [4, false]]);
      expect(run.take('edges').data).toEqual([]);
      await run.finish();
    } finally {
      run.kill();
    }
  }, 600_000);
});
