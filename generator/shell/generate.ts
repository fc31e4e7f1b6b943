/**
 * Board generation: design (+ preset/params) -> board app -> shell -> Verilog, constraints, register map, build
 * script and manifest, all in memory. The CLI writes the result with writeDirAtomic; tests lint it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boardNamed, type Board } from '../../boards';
import { designEntry } from '../designs';
import type { ModelShape } from '../llm/model-spec';
import { writeConstraints } from '../flow/constraints';
import { writeLatticeScript, writeVivadoTcl } from '../flow/scripts';
import { printDesign, type VerilogFile } from '../hdl';
import { boardAppFor } from './apps';
import { planClock, type ClockPlan } from './pll';
import { resolvePreset } from './presets';
import { STUB_FILES } from './primitives';
import { buildShell, TOP_NAME, type Shell } from './shell';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BoardGenOptions {
  design: string;
  board: string;
  /** Preset name; default: the board's preset for the design. */
  preset?: string;
  /** Explicit design parameters, applied over the preset. */
  params?: Record<string, number>;
  /** Fabric clock in MHz; default: the board's fabricMhz. */
  clockMhz?: number;
  baud?: number;
  /** Model shape for the LLM designs (`--model FILE`); default stories260K. */
  shape?: ModelShape;
}

export type FileRole = 'rtl' | 'sim-stub' | 'constraints' | 'script' | 'regmap' | 'meta';

export interface OutFile {
  name: string;
  data: string;
  role: FileRole;
}

export interface BoardGen {
  board: Board;
  design: string;
  preset: string;
  params: Record<string, number>;
  config: object;
  plan: ClockPlan;
  shell: Shell;
  /** Sources for synthesis (no stubs). */
  rtl: VerilogFile[];
  /** Lint/simulation stand-ins for the vendor primitives. */
  stubs: VerilogFile[];
  constraints: { name: string; text: string };
  files: OutFile[];
}

export function generateBoard(o: BoardGenOptions): BoardGen {
  const board = boardNamed(o.board);
  const entry = designEntry(o.design);
  const preset = resolvePreset(o.design, o.preset, board.presets[o.design]);
  const presetName = preset.name;
  const params = { ...preset.params, ...o.params };
  const { config, module: core } = entry.build(params, preset.registry, o.shape);
  const plan = planClock(board.part.family, board.clock.mhz, o.clockMhz ?? board.fabricMhz);
  const app = boardAppFor({ design: o.design, core, config, clockHz: plan.outMhz * 1e6, baud: o.baud ?? board.uart.baud });
  const shell = buildShell(board, app, plan);
  const printed = printDesign(shell.top);
  const rtl: VerilogFile[] = [
    ...printed.files,
    ...printed.externFiles.map((f) => ({ name: basename(f), text: readFileSync(REPO_ROOT + f, 'utf8') })),
  ];
  const stubs = shell.primitives.map((p) => ({ name: basename(STUB_FILES[p]!), text: readFileSync(REPO_ROOT + STUB_FILES[p]!, 'utf8') }));
  const constraints = writeConstraints(board, shell);
  const rtlPaths = rtl.map((f) => `rtl/${f.name}`);
  const scriptInput = { board, rtl: rtlPaths, constraints: `constraints/${constraints.name}`, fabricMhz: plan.outMhz };
  const script =
    board.part.vendor === 'xilinx'
      ? { name: 'scripts/build.tcl', data: writeVivadoTcl(scriptInput) }
      : { name: 'scripts/build.sh', data: writeLatticeScript(scriptInput) };
  const json = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
  const files: OutFile[] = [
    ...rtl.map((f) => ({ name: `rtl/${f.name}`, data: f.text, role: 'rtl' as const })),
    ...stubs.map((f) => ({ name: `sim/stubs/${f.name}`, data: f.text, role: 'sim-stub' as const })),
    { name: `constraints/${constraints.name}`, data: constraints.text, role: 'constraints' },
    { ...script, role: 'script' },
    { name: 'regmap.json', data: json(app.regmap), role: 'regmap' },
    ...(app.regmapTs ? [{ name: 'regmap.ts', data: app.regmapTs, role: 'regmap' as const }] : []),
    { name: 'interface.json', data: json(core.interface()), role: 'meta' },
    { name: 'config.json', data: json(config), role: 'meta' },
    {
      name: 'board.json',
      data: json({ board: board.name, title: board.title, part: board.part, clock: plan, pins: shell.pins, video: shell.video.length ? { ports: shell.video, connect: board.camera!.grabber } : undefined, app: app.description, placeholder: board.placeholder }),
      role: 'meta',
    },
  ];
  return { board, design: o.design, preset: presetName, params, config, plan, shell, rtl, stubs, constraints, files };
}

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** manifest.json: the top module, the board, and every other file with its sha256. */
export function manifest(g: BoardGen, extra: OutFile[] = [], info: Record<string, unknown> = {}): string {
  const files = [...g.files, ...extra].map((f) => ({ path: f.name, role: f.role, bytes: Buffer.byteLength(f.data), sha256: sha256(f.data) }));
  return (
    JSON.stringify(
      {
        top: TOP_NAME,
        board: g.board.name,
        part: g.board.part.device,
        design: g.design,
        preset: g.preset,
        params: g.params,
        clock: { boardMhz: g.plan.inMhz, fabricMhz: g.plan.outMhz, via: g.plan.kind },
        ...info,
        files,
      },
      null,
      2,
    ) + '\n'
  );
}
