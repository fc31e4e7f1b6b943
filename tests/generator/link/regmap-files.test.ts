/**
 * `lutforge generate DESIGN --board B` writes regmap.json and the typed regmap.ts next to the Verilog; all three must
 * describe the same registers. The bank is rebuilt from regmap.json alone and must print to the very Verilog file
 * that was generated; regmap.ts must hold the same map, id and version.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { printDesign } from '../../../generator/hdl';
import { regBankModule } from '../../../generator/regmap/bank';
import { regMapFromJson, type RegMapJson } from '../../../generator/regmap/emit';
import type { RegMap } from '../../../generator/regmap/regmap';
import { generateBoard } from '../../../generator/shell/generate';
import { REPO_ROOT } from '../../../sim/build';

describe('generated register map files', () => {
  it('regmap.json, regmap.ts and the Verilog register bank agree (cellnet on icebreaker)', async () => {
    const g = generateBoard({ design: 'cellnet', board: 'icebreaker' });
    const file = (name: string): string => {
      const f = g.files.find((x) => x.name === name);
      if (!f) throw new Error(`generate wrote no ${name}: ${g.files.map((x) => x.name).join(', ')}`);
      return f.data;
    };
    const map = regMapFromJson(JSON.parse(file('regmap.json')) as RegMapJson);
    expect(map.registers.map((r) => r.name).slice(0, 2)).toEqual(['design_id', 'version']);
    // The bank, printed from the JSON alone, is byte for byte the generated RTL file.
    const bank = printDesign(regBankModule(map)).files.find((f) => f.name === `${map.design}_regs.v`)!;
    expect(bank).toBeDefined();
    expect(file(`rtl/${bank.name}`)).toBe(bank.text);
    // The typed module holds the same map.
    const dir = await mkdtemp(path.join(REPO_ROOT, '.cache', 'regmap-files-'));
    try {
      const ts = path.join(dir, 'regmap.ts');
      await writeFile(ts, file('regmap.ts'));
      const mod = (await import(ts)) as { REGMAP: RegMap; DESIGN_ID: number; VERSION: number; Reg: Record<string, number> };
      expect(mod.DESIGN_ID).toBe(map.designId);
      expect(mod.VERSION).toBe(map.version);
      expect({ ...mod.REGMAP, registers: mod.REGMAP.registers.map(({ port: _p, ...r }) => r) }).toEqual(map);
      // Self-contained: it type-checks on its own, strict, with no lutforge import.
      expect(file('regmap.ts')).not.toMatch(/^import /m);
      const tsc = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--target', 'es2022', '--module', 'es2022', '--types', 'node', '--skipLibCheck', ts], { encoding: 'utf8' });
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.status).toBe(0);
      for (const r of map.registers) expect(mod.Reg[r.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/^./, (c) => c.toUpperCase())], r.name).toBe(r.addr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
