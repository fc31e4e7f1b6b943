import type { Command } from 'commander';
import { resolve } from 'node:path';
import { DESIGNS, designEntry } from '../../generator/designs';
import { printDesign } from '../../generator/hdl';
import { SYNTH_TARGETS, parseTarget, synthesize, type ResourceReport } from '../../generator/flow/synth';
import { writeDirAtomic } from '../../generator/util/files';
import { lintVerilog } from '../../sim/lint';
import { emit } from './common';
import { generateForBoard } from './boards';
import { addParamOptions, designParams, designPreset, kebab, modelShapeOpt } from './design-params';

export function formatResources(r: ResourceReport): string {
  return [
    `${r.top} on ${r.target} (${SYNTH_TARGETS[r.target].description}), yosys ${r.seconds.toFixed(1)} s`,
    `  LUT ${r.luts}  FF ${r.ffs}  carry ${r.carry}  DSP ${r.dsp}  BRAM ${r.bram}  LUTRAM/SRL ${r.lutram}` +
      (r.logicLevels === undefined ? '' : `  logic levels ${r.logicLevels} (${r.logicCarry ?? 0} of them carry segments; longest register-to-register path)`),
  ].join('\n');
}

export function register(program: Command): void {
  addParamOptions(
    program
      .command('generate')
      .argument('<design>', `one of ${Object.keys(DESIGNS).join(', ')}`)
      .description('generate checked Verilog for a design into a directory')
      .requiredOption('--out <dir>', 'output directory (replaced atomically)')
      .option('--lint', 'also run verilator --lint-only -Wall on the result', false)
      .option('--board <name>', 'also generate the board shell, constraints, build script and manifest (npx lutforge boards)')
      .option('--clock-mhz <f>', 'with --board: fabric clock (a PLL/MMCM is added when it differs from the board clock)')
      .option('--baud <n>', 'with --board: UART baud rate')
      .option('--no-fit', 'with --board: skip the Yosys fit check')
      .option('--model <file>', 'llm/llmdev: size the design for this model (GGUF or llama2.c .bin; default stories260K)')
      .option('--json', 'print one JSON object', false),
  ).action(async (design: string, opts: Record<string, unknown>) => {
    if (opts.board !== undefined) return generateForBoard(design, opts);
    const shape = await modelShapeOpt(design, opts);
    for (const o of ['clockMhz', 'baud'] as const)
      if (opts[o] !== undefined) throw new Error(`--${kebab(o)} needs --board`);
    const { config, module } = designEntry(design).build(designParams(design, opts), designPreset(design, opts), shape);
    const printed = printDesign(module);
    if (opts.lint) await lintVerilog(printed.files, printed.top);
    const out = resolve(String(opts.out));
    await writeDirAtomic(out, [
      ...printed.files.map((f) => ({ name: f.name, data: f.text })),
      { name: 'interface.json', data: JSON.stringify(module.interface(), null, 2) + '\n' },
      { name: 'config.json', data: JSON.stringify(config, null, 2) + '\n' },
    ]);
    const result = { design, top: printed.top, out, files: printed.files.map((f) => f.name), linted: Boolean(opts.lint), config };
    emit(opts, result, () => `wrote ${printed.files.length} Verilog file(s) for ${design} (top ${printed.top}) to ${out}${opts.lint ? ' — lint clean' : ''}`);
  });

  addParamOptions(
    program
      .command('synth')
      .argument('<design>', `one of ${Object.keys(DESIGNS).join(', ')}`)
      .description('synthesise a design with Yosys and report LUT, FF, carry, DSP and BRAM counts')
      .option('--target <t>', `one of ${Object.keys(SYNTH_TARGETS).join(', ')}`, 'xcup')
      .option('--json', 'print one JSON object', false),
  ).action(async (design: string, opts: Record<string, unknown>) => {
    const target = parseTarget(String(opts.target));
    const entry = designEntry(design);
    const { config, module } = entry.build(designParams(design, opts), designPreset(design, opts));
    const printed = printDesign(module);
    const r = entry.synth ? await entry.synth(config, target) : await synthesize(printed.files, printed.top, target);
    const note = (r as { method?: string; uram?: number }).method === 'per-unit' ? `\n  per-unit synthesis (docs/llm-engine.md#synthesis), URAM ${(r as { uram?: number }).uram}` : '';
    emit(opts, { design, config, ...r }, () => formatResources(r) + note);
  });
}
