import type { Command } from 'commander';
import { resolve } from 'node:path';
import { printDesign } from '../../generator/hdl';
import { GEMV_DEFAULTS, gemvConfig, gemvModule } from '../../generator/llm/gemv';
import { synthesize } from '../../generator/flow/synth';
import { writeDirAtomic } from '../../generator/util/files';
import { lintVerilog } from '../../sim/lint';
import { emit } from './common';
import { checkGemvInVerilator } from './gemv';
import { formatResources } from './hw';

const step = (json: boolean, s: string) => json || process.stderr.write(`demo: ${s}\n`);

/** The quick-start job: generate the default GEMV unit, prove it in Verilator against the golden model, synthesise it. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('generate the default GEMV unit, check it bit for bit on the Verilator virtual board, and synthesise it')
    .option('--out <dir>', 'where to write the generated Verilog', 'build/demo/gemv')
    .option('--json', 'print one JSON object', false)
    .action(async (opts: { out: string; json?: boolean }) => {
      const json = Boolean(opts.json);
      const params = { ...GEMV_DEFAULTS };
      const cfg = gemvConfig(params);
      step(json, `generating gemv (lanes=${cfg.lanes} simd=${cfg.simd} group=${cfg.group}) into ${opts.out}`);
      const module = gemvModule(cfg);
      const printed = printDesign(module);
      await lintVerilog(printed.files, printed.top);
      await writeDirAtomic(resolve(opts.out), [
        ...printed.files.map((f) => ({ name: f.name, data: f.text })),
        { name: 'interface.json', data: JSON.stringify(module.interface(), null, 2) + '\n' },
      ]);
      step(json, 'lint clean (verilator -Wall); simulating a 256x1000 job with 20% random stalls on every stream');
      const clean = await checkGemvInVerilator(params, { rows: 256, cols: 1000, seed: 1, stall: 0 });
      const stalled = await checkGemvInVerilator(params, { rows: 256, cols: 1000, seed: 2, stall: 0.2 });
      step(json, 'synthesising for xcup (Alveo U280 class) with Yosys');
      const synth = await synthesize(printed.files, printed.top, 'xcup');
      const result = {
        config: cfg,
        out: resolve(opts.out),
        lintClean: true,
        runs: [clean, stalled].map(({ run: _run, config: _c, ...r }) => r),
        synth,
      };
      emit(opts, result, () =>
        [
          `lutforge demo: W2A8 GEMV unit, lanes=${cfg.lanes} simd=${cfg.simd} group=${cfg.group} (${cfg.weightPortBits}-bit weight port)`,
          `  Verilog: ${printed.files.map((f) => f.name).join(', ')} in ${result.out}, verilator -Wall lint clean`,
          ...[clean, stalled].map(
            (r) =>
              `  Verilator ${r.rows}x${r.cols}, stalls ${r.stall}: ${r.bitExact ? 'bit-exact' : 'MISMATCH'} with the golden model, ` +
              `${r.cycles} cycles, weight-port utilisation ${r.weightPortUtilisation.toFixed(3)}`,
          ),
          '  ' + formatResources(synth).replace('\n', '\n  '),
        ].join('\n'),
      );
      if (!clean.bitExact || !stalled.bitExact) process.exitCode = 1;
    });
}
