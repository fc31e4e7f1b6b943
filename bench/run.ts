/**
 * `npm run bench -- NAME [--json] [args]` runs bench/NAME.ts, whose main(argv) prints a human table,
 * or with --json exactly one JSON object on stdout.
 */
const [name, ...rest] = process.argv.slice(2);
if (!name) {
  process.stderr.write('usage: npm run bench -- NAME [--json]   (NAME is a file in bench/, e.g. gemv)\n');
  process.exit(2);
}
const mod = (await import(`./${name}.ts`).catch(() => {
  process.stderr.write(`bench: no benchmark named '${name}' in bench/\n`);
  process.exit(2);
})) as { main: (argv: string[]) => Promise<void> };
await mod.main(rest);
export {};
