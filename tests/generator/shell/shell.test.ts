import { describe, expect, it } from 'vitest';
import { BOARDS } from '../../../boards';
import { generateBoard, manifest, sha256 } from '../../../generator/shell/generate';
import { compileIcarus } from '../../../sim/icarus';
import { lintVerilog } from '../../../sim/lint';

// Every board with the GEMV 'tiny' preset at its default clock, plus PLL/MMCM variants.
const pairs: Array<{ board: string; preset: string; clockMhz?: number; via: string }> = [
  { board: 'u280', preset: 'tiny', via: 'mmcm' },
  { board: 'ku035', preset: 'tiny', via: 'mmcm' },
  { board: 'icebreaker', preset: 'tiny', via: 'direct' },
  { board: 'icebreaker', preset: 'tiny', clockMhz: 24, via: 'ice40' },
  { board: 'arty-a7-35t', preset: 'sim-small', via: 'direct' },
  { board: 'arty-a7-35t', preset: 'tiny', clockMhz: 150, via: 'mmcm' },
  { board: 'ulx3s', preset: 'sim-small', via: 'ecp5' },
];

describe('board shells', () => {
  it('covers every board', () => {
    expect(new Set(pairs.map((p) => p.board))).toEqual(new Set(Object.keys(BOARDS)));
  });

  it.each(pairs.map((p) => [`${p.board} ${p.preset}${p.clockMhz ? ` @${p.clockMhz} MHz` : ''}`, p] as const))(
    '%s: generates, lints clean (verilator -Wall) and compiles in Icarus',
    async (_n, p) => {
      const g = generateBoard({ design: 'gemv', board: p.board, preset: p.preset, clockMhz: p.clockMhz });
      expect(g.plan.kind).toBe(p.via);
      expect(g.shell.top.name).toBe('top');
      const files = [...g.rtl, ...g.stubs];
      const lint = await lintVerilog(files, 'top', { throwOnWarning: false });
      expect(lint.messages).toEqual([]);
      await compileIcarus(files, 'top');
      // Vendor primitives are stand-ins only for lint/sim: never in the synthesis sources.
      for (const prim of g.shell.primitives) expect(g.rtl.some((f) => new RegExp(`^module ${prim}\\b`, 'm').test(f.text))).toBe(false);
    },
  );

  it('writes a manifest naming top and board with the sha256 of every file', () => {
    const g = generateBoard({ design: 'gemv', board: 'arty-a7-35t', preset: 'tiny' });
    const man = JSON.parse(manifest(g)) as { top: string; board: string; files: Array<{ path: string; sha256: string; role: string }> };
    expect(man.top).toBe('top');
    expect(man.board).toBe('arty-a7-35t');
    expect(man.files.map((f) => f.path).sort()).toEqual(g.files.map((f) => f.name).sort());
    for (const f of man.files) expect(f.sha256).toBe(sha256(g.files.find((x) => x.name === f.path)!.data));
    const roles = new Set(man.files.map((f) => f.role));
    for (const r of ['rtl', 'constraints', 'script', 'regmap', 'meta']) expect(roles.has(r)).toBe(true);
    expect(g.files.find((f) => f.name === 'scripts/build.tcl')!.data).toMatch(/synth_design -top top -part xc7a35ticsg324-1L/);
  });

  it('drives active-low LEDs inverted and ties U280 HBM_CATTRIP low', () => {
    const ice = generateBoard({ design: 'gemv', board: 'icebreaker', preset: 'tiny' });
    const topV = ice.rtl.find((f) => f.name === 'top.v')!.text;
    expect(topV).toMatch(/assign led = \{\(~app_led\[1\]\), \(~app_led\[0\]\)\};/);
    const u = generateBoard({ design: 'gemv', board: 'u280', preset: 'tiny' });
    expect(u.rtl.find((f) => f.name === 'top.v')!.text).toMatch(/assign hbm_cattrip = 1'h0;/);
    expect(u.constraints.text).toMatch(/PACKAGE_PIN D32 .*hbm_cattrip/);
    expect(u.constraints.text).toMatch(/DQS_BIAS TRUE \[get_ports \{clk_in_p\}\]/);
  });
});

describe('cell classifier + link on boards', () => {
  const cases: Array<[string, string]> = [
    ['icebreaker', 'board default'], // small (ppc 1)
    ['arty-a7-35t', 'board default'],
    ['u280', 'small'], // no trigger pin on the card
    ['ku035', 'board default'], // large (ppc 4, DSP-packed): the largest that fits the reference part's 1,700 DSPs
  ];
  it.each(cases)('%s (%s): generates, lints clean and compiles in Icarus; the trigger pin follows the core pulse', async (board, preset) => {
    const g = generateBoard({ design: 'cellnet', board, preset: preset === 'board default' ? undefined : preset });
    if (board === 'ku035') expect(g.preset).toBe('large');
    const files = [...g.rtl, ...g.stubs];
    expect((await lintVerilog(files, 'top', { throwOnWarning: false })).messages).toEqual([]);
    await compileIcarus(files, 'top');
    const app = g.rtl.find((f) => f.name === 'cellnet_app.v')!.text;
    expect(app).toMatch(/\.trigger_pin\(core_trigger\)/);
    expect(app).toMatch(/assign trigger = core_trigger;/);
    const regmap = JSON.parse(g.files.find((f) => f.name === 'regmap.json')!.data) as { design: string; channels: Array<{ name: string }> };
    expect(regmap.design).toBe('cellnet');
    expect(regmap.channels.map((c) => c.name)).toContain('px');
    const top = g.rtl.find((f) => f.name === 'top.v')!.text;
    if (g.board.trigger) expect(top).toMatch(/assign trigger = app_trigger;/);
    else expect(top).not.toMatch(/output wire trigger/);
  });
});

describe('LLM engine + link on a board', () => {
  it('arty-a7-35t (tiny): generates, lints clean and compiles in Icarus', async () => {
    const g = generateBoard({ design: 'llm', board: 'arty-a7-35t', preset: 'tiny' });
    expect(g.preset).toBe('tiny');
    const files = [...g.rtl, ...g.stubs];
    expect((await lintVerilog(files, 'top', { throwOnWarning: false })).messages).toEqual([]);
    await compileIcarus(files, 'top');
  });
});

// The cell classifier behind the link on every board with the time-multiplexed engine (preset up5k, the default of
// the iCEBreaker, Arty and ULX3S; the streaming engines only fit the Xilinx UltraScale parts).
describe('cell classifier (serial engine) board shells', () => {
  it('is the default cellnet preset where the streaming engines do not fit', () => {
    for (const b of ['icebreaker', 'arty-a7-35t', 'ulx3s']) expect(BOARDS[b]!.presets.cellnet).toBe('up5k');
    const g = generateBoard({ design: 'cellnet', board: 'icebreaker' });
    expect(g.preset).toBe('up5k');
    expect(g.params).toMatchObject({ ppc: 1, serial: 1 });
    expect(g.rtl.some((f) => /^module cellnet_serial\b/m.test(f.text))).toBe(true);
  });

  it.each(Object.keys(BOARDS))('%s: generates with preset up5k, lints clean (verilator -Wall) and compiles in Icarus', async (board) => {
    const g = generateBoard({ design: 'cellnet', board, preset: 'up5k' });
    const files = [...g.rtl, ...g.stubs];
    const lint = await lintVerilog(files, 'top', { throwOnWarning: false });
    expect(lint.messages).toEqual([]);
    await compileIcarus(files, 'top');
    // the streaming design's link streams: the camera port is the board's video input, never a link channel, so the
    // serial engine (no camera port) has the same channels (docs/cellnet.md)
    const par = generateBoard({ design: 'cellnet', board, preset: 'small' });
    type Chan = { name: string; dir: string; width: number; hasLast: boolean };
    const chans = (x: typeof g) =>
      (JSON.parse(x.files.find((f) => f.name === 'regmap.json')!.data) as { channels: Chan[] }).channels.map(({ name, dir, width, hasLast }) => ({ name, dir, width, hasLast }));
    expect(chans(g)).toEqual(chans(par));
    expect(chans(par).map((c) => c.name)).toEqual(['px', 'wload', 'cfg', 'event']);
    // boards without a frame grabber tie the camera input off: no cam_* port at the top
    expect(BOARDS[board]!.camera === undefined).toBe(!par.shell.top.ports.some((p) => p.name === 'cam_tvalid'));
  }, 300_000);
});
