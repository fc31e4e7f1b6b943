import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** LUTFORGE_MODEL overrides the path (e.g. from a git worktree, where ../shared is not beside the checkout). */
export const MODEL = process.env.LUTFORGE_MODEL ?? resolve(REPO, '../shared/models/stories260K.bin');
export const hasModel = existsSync(MODEL);

/** Compile tests/fixtures/llm/ref_run.c once per source hash into .cache/ and return the binary path. */
export function refRunBinary(): string {
  const src = join(REPO, 'tests/fixtures/llm/ref_run.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const dir = join(REPO, '.cache/llm');
  const bin = join(dir, `ref_run-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.tmp${process.pid}`;
    execFileSync('gcc', ['-O2', '-ffp-contract=off', '-o', tmp, src, '-lm']);
    renameSync(tmp, bin);
  }
  return bin;
}

export function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function refRun(steps: number, prompt?: number[]): number[] {
  const args = [MODEL, String(steps), ...(prompt ? [prompt.join(',')] : [])];
  return execFileSync(refRunBinary(), args, { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
}
