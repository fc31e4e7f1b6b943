import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../generator/llm/checkpoint';
import { FloatModel, generateGreedy } from '../../../generator/llm/float-model';
import { hasGcc, hasModel, MODEL, REPO, refRun } from './helpers';

// The expected ids come from tests/fixtures/llm/ref_run.c, an independent C implementation of run.c's forward pass.
describe.skipIf(!hasModel || !hasGcc())('float reference vs independent C implementation', () => {
  it('matches greedy ids from BOS for 128 tokens', () => {
    const expected = refRun(128);
    expect(expected).toHaveLength(128);
    const got = generateGreedy(new FloatModel(loadCheckpoint(MODEL)), [1], 128);
    expect(got).toEqual(expected);
  });

  it('matches greedy ids after a prompt', () => {
    const prompt = [1, 300, 400, 5, 77, 263];
    const expected = refRun(80, prompt);
    const got = generateGreedy(new FloatModel(loadCheckpoint(MODEL)), prompt, 80);
    expect(got).toEqual(expected);
    expect(got.slice(0, prompt.length - 1)).toEqual(prompt.slice(1));
  });

  it('`lutforge llm run --engine float --json` prints the same ids', () => {
    const out = execFileSync('npx', ['tsx', 'host/cli/main.ts', 'llm', 'run', '--model', MODEL, '--tokens', '64', '--engine', 'float', '--json'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    const res = JSON.parse(out) as { ids: number[] };
    expect(res.ids).toEqual(refRun(64));
  });
});
