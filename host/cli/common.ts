import type { Command } from 'commander';

/** Every subcommand takes --json: one JSON object on stdout instead of the human report. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print one JSON object instead of a human report', false);
}

/** Print either the human text or the JSON object, depending on --json. */
export function emit(opts: { json?: boolean }, result: unknown, human: () => string): void {
  if (opts.json) process.stdout.write(JSON.stringify(result, bigintReplacer) + '\n');
  else process.stdout.write(human().replace(/\n?$/, '\n'));
}

export function bigintReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** Parse "1,2,3" into numbers, naming the option on failure. */
export function parseIntList(option: string, text: string): number[] {
  return text.split(',').map((t) => {
    const n = Number(t.trim());
    if (!Number.isInteger(n)) throw new Error(`${option}: '${t}' is not an integer`);
    return n;
  });
}

export function parseIntOpt(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`${option}: '${text}' is not an integer`);
  return n;
}
