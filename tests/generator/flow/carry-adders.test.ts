import { describe, expect, it } from 'vitest';
import { Module, printDesign, sumTree, type Expr } from '../../../generator/hdl';
import { synthesize } from '../../../generator/flow/synth';

/** A lane of the GEMV unit's DSP half in miniature: 16 DSP products (27 x 3 bits) summed by an adder tree. */
function sumOfProducts(n: number): Module {
  const m = new Module('sum_of_products');
  const prods: Expr[] = [];
  for (let j = 0; j < n; j++) prods.push(m.input(`a${j}`, 27).asSigned().mul(m.input(`l${j}`, 3).asSigned()).resize(34));
  m.assign(m.output('y', 34), sumTree(prods, 34));
  return m;
}

describe('synthesize carryChainAdders (Xilinx)', () => {
  it('maps an adder tree to carry-chain adders instead of a carry-save tree of LUT full adders', async () => {
    const d = printDesign(sumOfProducts(16));
    const stock = await synthesize(d.files, d.top, 'xcup', { logicDepth: false });
    const carry = await synthesize(d.files, d.top, 'xcup', { logicDepth: false, carryChainAdders: true });
    // the same multipliers on DSPs either way; 15 adders of <= 34 bits: about one LUT per bit on a carry chain
    expect(carry.dsp).toBe(16);
    expect(stock.dsp).toBe(16);
    expect(carry.carry).toBeGreaterThanOrEqual(15 * 4);
    expect(carry.luts).toBeLessThanOrEqual(15 * 34);
    expect(stock.luts).toBeGreaterThan(3 * carry.luts);
  }, 300_000);

  it('is refused on a non-Xilinx target', async () => {
    const d = printDesign(sumOfProducts(2));
    await expect(synthesize(d.files, d.top, 'ice40', { carryChainAdders: true })).rejects.toThrow(/carryChainAdders/);
  });
});
