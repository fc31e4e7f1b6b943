import Table from 'cli-table3';

/** Print a human table: header row plus data rows. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  return t.toString();
}

export function fmt(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return Math.abs(n) >= 100 ? n.toFixed(1) : n.toPrecision(4);
}

/** Either print one JSON object (--json) or the human text. */
export function report(argv: string[], json: unknown, human: () => string): void {
  if (argv.includes('--json')) process.stdout.write(JSON.stringify(json) + '\n');
  else process.stdout.write(human() + '\n');
}

/** The file of `--plot FILE.svg`, if given. */
export function plotPath(argv: string[]): string | undefined {
  const i = argv.indexOf('--plot');
  if (i < 0) return undefined;
  const f = argv[i + 1];
  if (!f || f.startsWith('--')) throw new Error('--plot needs a file name (FILE.svg)');
  return f;
}
