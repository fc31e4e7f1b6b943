/**
 * Board commands: `generate DESIGN --board B` (called from hw.ts), `build DESIGN --board icebreaker` (open flow
 * to a bitstream), `program`, and `boards` (the list).
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BOARDS, boardNamed, type Board } from '../../boards';
import { DESIGNS } from '../../generator/designs';
import { FitError, fitCheck, fitRows, formatFitTable, type FitReport } from '../../generator/flow/fit';
import { buildIce40, type Ice40Build } from '../../generator/flow/ice40';
import { checkPins } from '../../generator/flow/pincheck';
import { fitSuggestion } from '../../generator/shell/presets';
import { generateBoard, manifest, sha256, type BoardGen, type OutFile } from '../../generator/shell/generate';
import { writeDirAtomic } from '../../generator/util/files';
import { generateU280Llm, KERNEL_TOP } from '../../generator/shell/u280-xdma';
import type { LlmDeviceConfig } from '../../generator/llm/device/layout';
import { lintVerilog } from '../../sim/lint';
import { runTool } from '../../sim/tools';
import { addParamOptions, designParams, modelShapeOpt } from './design-params';
import type { ModelShape } from '../../generator/llm/model-spec';
import { emit, parseIntOpt } from './common';

export class TimingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimingError';
  }
}

function genFromOpts(design: string, opts: Record<string, unknown>, shape?: ModelShape): BoardGen {
  const clock = opts.clockMhz === undefined ? undefined : Number(opts.clockMhz);
  if (clock !== undefined && !(clock > 0)) throw new Error(`--clock-mhz: '${String(opts.clockMhz)}' is not a positive number`);
  return generateBoard({
    design,
    board: String(opts.board),
    preset: opts.preset === undefined ? undefined : String(opts.preset),
    params: designParams(design, opts),
    clockMhz: clock,
    baud: opts.baud === undefined ? undefined : parseIntOpt('--baud', String(opts.baud)),
    shape,
  });
}

const suggestFor = (g: BoardGen) => (rows: FitReport['rows']) =>
  fitSuggestion(g.design, g.preset, g.params, rows.filter((r) => r.over).map((r) => r.resource));

function assertPins(g: BoardGen): void {
  const pc = checkPins(g.board, g.shell.top, g.constraints.text);
  if (!pc.ok) throw new Error(`pin check failed for ${g.board.name}:\n  ${pc.problems.join('\n  ')}`);
}

/** `generate DESIGN --board B`: files, fit check (unless --no-fit), manifest, written atomically. */
export async function generateForBoard(design: string, opts: Record<string, unknown>): Promise<void> {
  if (design === 'llmdev' && boardNamed(String(opts.board)).host.includes('xdma')) return generateXdmaLlm(opts);
  const g = genFromOpts(design, opts, await modelShapeOpt(design, opts));
  assertPins(g);
  if (opts.lint) await lintVerilog([...g.rtl, ...g.stubs], 'top');
  let fit: FitReport | undefined;
  if (opts.fit !== false) {
    fit = await fitCheck(g.board, g.rtl, 'top', suggestFor(g));
    if (!fit.fits) throw new FitError(fit);
  }
  const extra: OutFile[] = fit ? [{ name: 'reports/fit.json', data: JSON.stringify({ rows: fit.rows, synth: fit.synth }, null, 2) + '\n', role: 'meta' }] : [];
  const out = resolve(String(opts.out));
  const all = [...g.files, ...extra];
  await writeDirAtomic(out, [...all.map((f) => ({ name: f.name, data: f.data })), { name: 'manifest.json', data: manifest(g, extra) }]);
  const result = {
    design,
    board: g.board.name,
    preset: g.preset,
    params: g.params,
    top: 'top',
    out,
    clock: g.plan,
    files: [...all.map((f) => f.name), 'manifest.json'],
    linted: Boolean(opts.lint),
    fit: fit && { fits: fit.fits, rows: fit.rows },
  };
  emit(opts, result, () =>
    [
      `wrote ${all.length + 1} files for ${design} on ${g.board.title} (preset ${g.preset}, fabric ${g.plan.outMhz} MHz via ${g.plan.kind}) to ${out}${opts.lint ? ' — lint clean' : ''}`,
      ...(g.board.placeholder ? [`note: ${g.board.placeholder}`] : []),
      ...(fit ? ['fit check (Yosys):', formatFitTable(fit.rows)] : ['fit check skipped (--no-fit)']),
    ].join('\n'),
  );
}

/** `generate llmdev --board u280`: the XDMA + HBM block design around the AXI llmdev (generator/shell/u280-xdma.ts). */
async function generateXdmaLlm(opts: Record<string, unknown>): Promise<void> {
  const board = boardNamed(String(opts.board));
  const preset = opts.preset === undefined ? board.presets.llmdev ?? 'u280' : String(opts.preset);
  const params = { masters: 32, ...designParams('llmdev', opts) };
  if (!params.masters) throw new Error(`--masters 0 (on-chip weights) has no XDMA + HBM shell on ${board.name}; use 1..32`);
  const { config } = DESIGNS.llmdev!.build(params, preset);
  const g = generateU280Llm(board, config as LlmDeviceConfig);
  if (opts.lint) await lintVerilog(g.rtl, KERNEL_TOP);
  const out = resolve(String(opts.out));
  const man = JSON.stringify({ top: KERNEL_TOP, board: board.name, part: board.part.device, design: 'llmdev', preset, params, files: g.files.map((f) => ({ path: f.name, role: f.role, bytes: Buffer.byteLength(f.data), sha256: sha256(f.data) })) }, null, 2) + '\n';
  await writeDirAtomic(out, [...g.files.map((f) => ({ name: f.name, data: f.data })), { name: 'manifest.json', data: man }]);
  const files = [...g.files.map((f) => f.name), 'manifest.json'];
  emit(opts, { design: 'llmdev', board: board.name, preset, params, top: KERNEL_TOP, out, files, linted: Boolean(opts.lint) }, () =>
    `wrote ${files.length} files for llmdev on ${board.title} (preset ${preset}, ${params.masters} AXI4 masters into HBM, XDMA + HBM block design) to ${out}${opts.lint ? ' — lint clean' : ''}\nbuild: vivado -mode batch -source ${out}/scripts/build.tcl (see README.md)`,
  );
}

function formatBuild(b: Ice40Build): string {
  const u = b.utilisation;
  const row = (k: string) => (u[k] ? `${k} ${u[k]!.used}/${u[k]!.available}` : '');
  return [
    `nextpnr: ${['ICESTORM_LC', 'ICESTORM_RAM', 'ICESTORM_DSP', 'ICESTORM_SPRAM', 'SB_IO', 'ICESTORM_PLL'].map(row).filter(Boolean).join('  ')}`,
    ...b.clocks.map((c) => `clock ${c.clock}: Fmax ${c.fmaxMhz.toFixed(2)} MHz vs target ${c.targetMhz.toFixed(2)} MHz — ${c.pass ? 'PASS' : 'FAIL'}`),
    `time: yosys ${b.seconds.yosys.toFixed(1)} s, nextpnr ${b.seconds.nextpnr.toFixed(1)} s, icepack ${b.seconds.icepack.toFixed(1)} s`,
  ].join('\n');
}

/** `build DESIGN --board B`: the open flow to a bitstream (iCE40 boards). */
export async function buildForBoard(design: string, opts: Record<string, unknown>): Promise<void> {
  const g = genFromOpts(design, opts);
  const np = g.board.part.nextpnr;
  if (g.board.part.family !== 'ice40' || !np)
    throw new Error(
      `lutforge build runs the npm-only open flow for iCE40 boards (${Object.values(BOARDS).filter((b) => b.part.family === 'ice40').map((b) => b.name).join(', ')}); ` +
        `for ${g.board.name} use 'lutforge generate ${design} --board ${g.board.name}' and its scripts/ (docs/boards.md)`,
    );
  assertPins(g);
  const b = await buildIce40(g.rtl, g.constraints.text, {
    top: 'top',
    device: np.device,
    package: np.package,
    freqMhz: g.plan.outMhz,
    seed: opts.seed === undefined ? 1 : parseIntOpt('--seed', String(opts.seed)),
    afterSynth: (r) => {
      const rows = fitRows(g.board, r);
      if (rows.some((x) => x.over)) throw new FitError({ board: g.board.name, fits: false, rows, synth: r, suggestion: suggestFor(g)(rows) });
    },
  });
  const timing = { clocks: b.clocks, timingMet: b.timingMet, targetMhz: g.plan.outMhz, utilisation: b.utilisation, synth: { ...b.synth, cells: b.synth.cells } };
  const extra: OutFile[] = [
    { name: 'reports/timing.json', data: JSON.stringify(timing, null, 2) + '\n', role: 'meta' },
    { name: 'reports/nextpnr.log', data: b.log, role: 'meta' },
  ];
  const out = resolve(String(opts.out));
  const binFile = { name: 'top.bin', data: b.bin };
  const man = manifest(g, extra, { bitstream: { path: 'top.bin', bytes: b.bin.length, sha256: sha256(b.bin) }, timingMet: b.timingMet });
  await writeDirAtomic(out, [...[...g.files, ...extra].map((f) => ({ name: f.name, data: f.data })), binFile, { name: 'manifest.json', data: man }]);
  const result = { design, board: g.board.name, preset: g.preset, out, bitstream: join(out, 'top.bin'), bytes: b.bin.length, ...timing, seconds: b.seconds };
  if (!b.timingMet) {
    const worst = b.clocks.map((c) => `${c.clock}: ${c.fmaxMhz.toFixed(2)} MHz < ${c.targetMhz} MHz`).join(', ') || 'no clock reported';
    throw new TimingError(`timing not met on ${g.board.name} (${worst}); outputs and reports are in ${out}. Lower --clock-mhz or use a smaller preset.`);
  }
  emit(opts, result, () => `wrote ${join(out, 'top.bin')} (${b.bin.length} bytes)\n${formatBuild(b)}`);
}

const INSTALL_HINT: Record<Board['program']['tool'], string> = {
  iceprog: "iceprog is not on PATH: install it with 'apt-get install fpga-icestorm' (or build icestorm), or use 'openFPGALoader -b ice40_generic top.bin'",
  openFPGALoader: "openFPGALoader is not on PATH: install it with 'apt-get install openfpgaloader' (https://github.com/trabucayre/openFPGALoader)",
  vivado: 'Vivado is not on PATH: program with the Vivado Hardware Manager (open_hw_manager; program_hw_devices) or write_cfgmem for the flash, see docs/boards.md',
};

async function onPath(tool: string): Promise<boolean> {
  try {
    const r = await runTool('sh', ['-c', `command -v ${tool}`]);
    return r.code === 0 && r.stdout.trim() !== '';
  } catch {
    return false;
  }
}

export function register(program: Command): void {
  program
    .command('boards')
    .description('list the supported boards: part, clock, pins, memories and capacity')
    .option('--json', 'print one JSON object', false)
    .action((opts: { json?: boolean }) => {
      emit(opts, { boards: Object.values(BOARDS) }, () =>
        Object.values(BOARDS)
          .map((b) =>
            [
              `${b.name.padEnd(12)} ${b.title}${b.placeholder ? '  [placeholder pins]' : ''}`,
              `${''.padEnd(12)} clock ${b.clock.mhz} MHz (${b.clock.pin.pin}${b.clock.pinN ? '/' + b.clock.pinN.pin : ''}) -> fabric ${b.fabricMhz} MHz; UART rx ${b.uart.rx.pin} tx ${b.uart.tx.pin}; trigger ${b.trigger?.pin ?? 'none'}; LEDs ${b.leds.map((l) => l.pin).join(' ') || 'none'}`,
              `${''.padEnd(12)} LUT ${b.capacity.luts}  FF ${b.capacity.ffs}  DSP ${b.capacity.dsp}  BRAM ${b.capacity.bram}${b.capacity.uram ? `  URAM ${b.capacity.uram}` : ''}${b.capacity.spram ? `  SPRAM ${b.capacity.spram}` : ''}; memories ${b.memories.map((m) => m.kind).join(', ')}; host ${b.host.join('/')}`,
            ].join('\n'),
          )
          .join('\n'),
      );
    });

  addParamOptions(
    program
      .command('build')
      .argument('<design>', `one of ${Object.keys(DESIGNS).join(', ')}`)
      .description('generate, synthesise, place and route a design for an iCE40 board entirely from npm packages; writes top.bin')
      .requiredOption('--board <name>', `one of ${Object.keys(BOARDS).join(', ')} (iCE40 only)`)
      .option('--clock-mhz <f>', 'fabric clock (default: the board default; a PLL is added when it differs)')
      .option('--baud <n>', 'UART baud rate (default: the board default)')
      .option('--seed <n>', 'nextpnr placement seed', '1')
      .requiredOption('--out <dir>', 'output directory (replaced atomically)')
      .option('--json', 'print one JSON object', false),
  ).action(buildForBoard);

  program
    .command('program')
    .argument('[path]', 'a bitstream or a build directory holding top.bin / top.bit', '.')
    .description('program a board with its vendor tool (iceprog, openFPGALoader); says what to install when missing')
    .requiredOption('--board <name>', `one of ${Object.keys(BOARDS).join(', ')}`)
    .option('--json', 'print one JSON object', false)
    .action(async (path: string, opts: { board: string; json?: boolean }) => {
      const board = boardNamed(opts.board);
      let file = resolve(path);
      if (existsSync(file) && statSync(file).isDirectory()) {
        const cand = ['top.bin', 'top.bit'].map((f) => join(file, f)).find((f) => existsSync(f));
        if (!cand) throw new Error(`${file} holds no top.bin or top.bit; run 'lutforge build' or the scripts/ flow first`);
        file = cand;
      }
      if (!existsSync(file)) throw new Error(`bitstream ${file} does not exist`);
      const tool = board.program.tool;
      if (!(await onPath(tool))) throw new Error(INSTALL_HINT[tool]);
      if (tool === 'vivado') throw new Error(INSTALL_HINT.vivado.replace('Vivado is not on PATH: ', ''));
      const r = await runTool(tool, [...board.program.args, file]);
      if (r.code !== 0) throw new Error(`${tool} failed (exit ${r.code}):\n${(r.stderr + r.stdout).trim().slice(-2000)}`);
      emit(opts, { board: board.name, tool, file }, () => `programmed ${board.title} with ${tool} from ${file}`);
    });
}
