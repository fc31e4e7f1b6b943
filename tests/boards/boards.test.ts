import { describe, expect, it } from 'vitest';
import { BOARDS, PACKAGE_PINS, boardNamed, isPackagePin } from '../../boards';
import { parseConstraints } from '../../generator/flow/constraints';
import { checkPins } from '../../generator/flow/pincheck';
import { generateBoard } from '../../generator/shell/generate';
import { ConfigError } from '../../generator/util/errors';

const boards = Object.values(BOARDS);

describe('board definitions', () => {
  it('covers the five boards of issue 7', () => {
    expect(Object.keys(BOARDS).sort()).toEqual(['arty-a7-35t', 'icebreaker', 'ku035', 'u280', 'ulx3s']);
  });

  it.each(boards.map((b) => [b.name, b] as const))('%s: pins exist on the package and are used once', (_n, b) => {
    const pins = [b.clock.pin, b.clock.pinN, b.reset, b.uart.rx, b.uart.tx, b.trigger, ...b.leds, ...(b.tieOffs ?? []).map((t) => t.pin)].filter(
      (p) => p !== undefined,
    );
    for (const p of pins) expect(isPackagePin(b.part.package, p!.pin), `${p!.net} ${p!.pin}`).toBe(true);
    const names = pins.map((p) => p!.pin);
    expect(new Set(names).size).toBe(names.length);
    expect(b.capacity.luts).toBeGreaterThan(1000);
    expect(b.memories.length).toBeGreaterThan(0);
    expect(b.pinSource.length).toBeGreaterThan(10);
  });

  it('matches the published numbers the brief names', () => {
    expect(boardNamed('icebreaker').uart.rx.pin).toBe('6');
    expect(boardNamed('icebreaker').uart.tx.pin).toBe('9');
    expect(boardNamed('icebreaker').clock).toMatchObject({ mhz: 12, pin: { pin: '35' } });
    expect(boardNamed('arty-a7-35t').clock).toMatchObject({ mhz: 100, pin: { pin: 'E3' } });
    expect([boardNamed('arty-a7-35t').uart.rx.pin, boardNamed('arty-a7-35t').uart.tx.pin]).toEqual(['A9', 'D10']);
    expect(boardNamed('ulx3s').clock).toMatchObject({ mhz: 25, pin: { pin: 'G2' } });
    expect(boardNamed('u280').capacity).toMatchObject({ dsp: 9024, bram: 2016, uram: 960 });
    expect(boardNamed('ku035').placeholder).toMatch(/placeholder|No public/i);
  });

  it('rejects an unknown board with the list of valid ones', () => {
    expect(() => boardNamed('de10nano')).toThrow(ConfigError);
    try {
      boardNamed('de10nano');
    } catch (e) {
      for (const n of Object.keys(BOARDS)) expect((e as Error).message).toContain(n);
    }
  });

  it('package pin lists reject balls that do not exist', () => {
    expect(isPackagePin('SG48', '35')).toBe(true);
    expect(isPackagePin('SG48', '1')).toBe(false); // VCC, not an I/O
    expect(isPackagePin('CSG324', 'V18')).toBe(true);
    expect(isPackagePin('CSG324', 'W1')).toBe(false); // 18 rows end at V
    expect(isPackagePin('CSG324', 'I3')).toBe(false); // no row I
    expect(isPackagePin('FSVH2892', 'BP54')).toBe(true);
    expect(isPackagePin('FSVH2892', 'BR1')).toBe(false);
    expect(Object.keys(PACKAGE_PINS)).toContain('CABGA381');
  });
});

describe('generated constraints (pin check)', () => {
  it.each(boards.map((b) => [b.name] as const))('%s: every top-level port bit is constrained once with a real pin', (name) => {
    const g = generateBoard({ design: 'gemv', board: name, preset: 'tiny' });
    const pc = checkPins(g.board, g.shell.top, g.constraints.text);
    expect(pc.problems).toEqual([]);
    expect(Object.keys(pc.map).length).toBe(g.shell.pins.length);
    expect(g.constraints.name.endsWith(g.board.constraints)).toBe(true);
  });

  it('the pin check catches a duplicate pin, an unconstrained port, a bogus pin and a stray constraint', () => {
    const g = generateBoard({ design: 'gemv', board: 'icebreaker', preset: 'tiny' });
    const lines = g.constraints.text.split('\n');
    const txLine = lines.findIndex((l) => /^set_io uart_tx /.test(l));
    const tampered = [...lines];
    tampered[txLine] = 'set_io uart_tx 6'; // same pin as uart_rx
    expect(checkPins(g.board, g.shell.top, tampered.join('\n')).problems.join('\n')).toMatch(/pin 6 is used by both uart_rx and uart_tx/);
    const missing = lines.filter((l) => !/^set_io trigger /.test(l)).join('\n');
    expect(checkPins(g.board, g.shell.top, missing).problems.join('\n')).toMatch(/port trigger has no pin constraint/);
    const bogus = lines.map((l) => (/^set_io trigger /.test(l) ? 'set_io trigger 49' : l)).join('\n');
    expect(checkPins(g.board, g.shell.top, bogus).problems.join('\n')).toMatch(/pin 49 .* not a pin of package SG48/);
    const stray = g.constraints.text + 'set_io spare 2\n';
    expect(checkPins(g.board, g.shell.top, stray).problems.join('\n')).toMatch(/spare .* names no top-level port/);
  });

  it('parses all three formats back', () => {
    expect(parseConstraints('xdc', 'set_property -dict {PACKAGE_PIN H5 IOSTANDARD LVCMOS33} [get_ports {led[0]}] ;# LD4\n')).toEqual([{ port: 'led[0]', pin: 'H5' }]);
    expect(parseConstraints('lpf', 'LOCATE COMP "led[7]" SITE "H3"; # x\n')).toEqual([{ port: 'led[7]', pin: 'H3' }]);
    expect(parseConstraints('pcf', 'set_io -pullup yes uart_rx 6  # RX\n')).toEqual([{ port: 'uart_rx', pin: '6' }]);
  });
});
