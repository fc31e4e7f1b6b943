#!/usr/bin/env node
import { Command } from 'commander';
import { register as registerCommands } from './commands';

const program = new Command();
program
  .name('lutforge')
  .description('Generate FPGA inference accelerators, prove them cycle-accurately, and drive them from a host.')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

registerCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = err as Error;
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ error: e.name, message: e.message }) + '\n');
  process.stderr.write(`lutforge: ${e.message}\n`);
  if (process.env.LUTFORGE_DEBUG) process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
});
