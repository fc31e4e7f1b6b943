import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Run the CLI as a user would (bin/lutforge.js through tsx). */
export function cli(args: string[], timeoutMs = 600_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ROOT + 'bin/lutforge.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
