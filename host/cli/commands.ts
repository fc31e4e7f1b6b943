import type { Command } from 'commander';
import { register as registerCellnet } from './cellnet';
import { register as registerLlm } from './llm';
import { register as registerHw } from './hw';
import { register as registerDemo } from './demo';
import { register as registerSim } from './sim';
import { register as registerSort } from './sort';
import { register as registerBoards } from './boards';
import { register as registerVboard } from './vboard';

/**
 * Each command group lives in its own module under host/cli/ exporting register(program).
 * To add a group: import it here and call it in register() (one line each).
 */

export function register(program: Command): void {
  registerCellnet(program);
  registerLlm(program);
  registerHw(program);
  registerDemo(program);
  registerSim(program);
  registerSort(program);
  registerBoards(program);
  registerVboard(program);
  program
    .command('version')
    .description('print the lutforge version')
    .option('--json', 'print one JSON object', false)
    .action((o: { json?: boolean }) => {
      const v = '0.1.0';
      process.stdout.write(o.json ? JSON.stringify({ version: v }) + '\n' : `lutforge ${v}\n`);
    });
}
