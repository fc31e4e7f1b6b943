import { describe, expect, it } from 'vitest';
import { goldenBatch } from '../../../../generator/cellnet/golden';
import { cellnetHw, cellnetSerialModule, serialPlan, unpackFields } from '../../../../generator/cellnet/rtl';
import { runIcarus } from '../../../../sim/testbench';
import { cellImages, shippedModel } from './helpers';

// Icarus needs ~45 s per 1.36 M-cycle frame here, so this second-simulator check is a long test.
describe('serial cell classifier under Icarus (long)', () => {
  it('gives the golden results for two frames with 20 % stalls (a second simulator agrees with Verilator)', async () => {
    const { model, q } = shippedModel();
    const hw = cellnetHw(model.config, 1);
    const n = 2;
    const pixels = cellImages(n, 21);
    const ivl = await runIcarus(cellnetSerialModule(hw, q), { inputs: { px: Array.from(pixels, (v) => BigInt(v)) }, outputs: { event: n }, stall: 0.2, maxCycles: 3_000_000 });
    const ev = (ivl.outputs.event ?? []).map((w) => unpackFields(hw.event, w));
    expect(ev.map((e) => [e.frame, e.cls, e.score])).toEqual(goldenBatch(q, pixels, n).map((g, i) => [i, g.cls, g.score]));
    // each decision needs at least the planned compute time after its frame's 2,304 pixels
    const sp = serialPlan(hw);
    expect(ev[0]!.timestamp!).toBeGreaterThan(sp.computeCycles + 48 * 48);
    expect(ev[1]!.timestamp! - ev[0]!.timestamp!).toBeGreaterThan(sp.computeCycles + 48 * 48);
  });
});
