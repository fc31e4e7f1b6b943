// The DSP census against Yosys itself: every multiply shape the rule distinguishes sits in its own module, Yosys
// synth_xilinx (xcup) maps the hierarchy, and each module's DSP48E2 count must equal the census of that module.
import { describe, expect, it } from 'vitest';
import { runYosys } from '@yowasp/yosys';
import { lit, Module, printDesign, type Expr } from '../../../generator/hdl';
import { dspCensus } from '../../../generator/flow/dsp-census';

interface Shape {
  name: string;
  build: (m: Module) => Expr;
}
const port = (m: Module, n: string, w: number, signed: boolean) => m.input(n, w, { signed });
const SHAPES: Shape[] = [
  { name: 's8x4', build: (m) => port(m, 'a', 8, true).mul(port(m, 'b', 4, true)) },
  { name: 's4x4', build: (m) => port(m, 'a', 4, true).mul(port(m, 'b', 4, true)) }, // 8-bit product: LUTs
  { name: 's27x18', build: (m) => port(m, 'a', 27, true).mul(port(m, 'b', 18, true)) },
  { name: 's28x18', build: (m) => port(m, 'a', 28, true).mul(port(m, 'b', 18, true)) }, // A split
  { name: 's24x24', build: (m) => port(m, 'a', 24, true).mul(port(m, 'b', 24, true)) }, // B split
  { name: 's40x33', build: (m) => port(m, 'a', 40, true).mul(port(m, 'b', 33, true)) },
  { name: 'u27x8', build: (m) => port(m, 'a', 27, false).mul(port(m, 'b', 8, false)) }, // unsigned: 28 x 9 signed
  { name: 'u17x17', build: (m) => port(m, 'a', 17, false).mul(port(m, 'b', 17, false)) },
  { name: 'zext_in_signed', build: (m) => port(m, 'a', 17, false).zext(18).asSigned().mul(port(m, 'b', 18, true)) },
  { name: 'sext_dropped', build: (m) => port(m, 'a', 10, true).resize(30).mul(port(m, 'b', 9, true).resize(30)) },
  { name: 'const48', build: (m) => port(m, 'a', 6, false).zext(10).mul(lit(48, 6)) }, // 48 = 3 << 4: 6 x 2 bits
  { name: 'const_odd', build: (m) => port(m, 'a', 12, true).mul(lit(-77, 8, true)) },
  { name: 'const_pow2', build: (m) => port(m, 'a', 12, true).mul(lit(16, 6, true)) },
];

function shapeModule(s: Shape): Module {
  const m = new Module(`mul_${s.name}`, { doc: s.name });
  const y = s.build(m);
  m.assign(m.output('y', y.width, { signed: y.signed }), y);
  return m;
}

describe('dspCensus', () => {
  it('counts the DSP48E2s Yosys synth_xilinx maps each multiply shape to', async () => {
    const mods = SHAPES.map(shapeModule);
    const top = new Module('census_top');
    mods.forEach((mm, i) => {
      const conn: Record<string, Expr> = {};
      for (const p of mm.interface().ports)
        conn[p.name] = p.name === 'clk' ? top.clk : p.name === 'rst' ? top.rst : p.dir === 'input' ? top.input(`${mm.name}_${p.name}`, p.width) : top.output(`${mm.name}_${p.name}`, p.width);
      top.instance(mm, `u${i}`, conn);
    });
    const d = printDesign(top);
    const vfs = Object.fromEntries(d.files.map((f) => [f.name, f.text]));
    const out = (await runYosys(['-q', '-p', `${d.files.map((f) => `read_verilog ${f.name}`).join('; ')}; synth_xilinx -family xcup -top census_top; tee -q -o stat.json stat -json`], vfs)) as Record<string, string | Uint8Array>;
    const raw = out['stat.json']!;
    const stat = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw)) as { modules: Record<string, { num_cells_by_type?: Record<string, number> }> };
    const yosysDsp = (name: string) => {
      const mod = stat.modules[`\\${name}`] ?? stat.modules[name];
      expect(mod, `module ${name} in Yosys' statistics`).toBeDefined();
      return Object.entries(mod!.num_cells_by_type ?? {}).reduce((s, [c, n]) => s + (/^DSP48/.test(c) ? n : 0), 0);
    };
    const rows = mods.map((mm) => ({ shape: mm.name, census: dspCensus(mm).dsp, yosys: yosysDsp(mm.name) }));
    expect(rows.map((r) => r.census)).toEqual(rows.map((r) => r.yosys));
    // the shapes exercise every branch: LUT-only products, one DSP, and split products
    expect(new Set(rows.map((r) => r.yosys)).size).toBeGreaterThanOrEqual(3);
    // hierarchy: each instance counts, a skipped module does not
    const total = rows.reduce((s, r) => s + r.yosys, 0);
    expect(dspCensus(top).dsp).toBe(total);
    expect(dspCensus(top, new Set([mods[2]!.name])).dsp).toBe(total - rows[2]!.yosys);
  }, 120_000);
});
