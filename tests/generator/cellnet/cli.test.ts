import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CELLNET_DEFAULTS } from '../../../generator/cellnet/config';
import { writeModel } from '../../../generator/cellnet/model';
import { randomModel } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'cellnet-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync('npx', ['tsx', 'host/cli/main.ts', 'cellnet', ...args, '--json'], { encoding: 'utf8', cwd: join(__dirname, '../../..') });
  return { code: r.status, json: JSON.parse(r.stdout.trim().split('\n').pop()!) };
}

describe('lutforge cellnet CLI', () => {
  const model = join(dir, 'm.json');
  writeModel(model, randomModel(9));

  it('writes synthetic IDX files that eval reads back, and a PNG sample grid', () => {
    const data = join(dir, 'idx');
    const s = cli('synth', '--out', data, '--data', 'synthetic:20:30', '--gzip');
    expect(s.code).toBe(0);
    expect(existsSync(join(data, 'test_images.gz'))).toBe(true);
    const e = cli('eval', '--model', model, '--data', data);
    expect(e.code).toBe(0);
    expect(e.json.n).toBe(30);
    expect(e.json.synthetic).toBe(false);
    const png = join(dir, 's.png');
    expect(cli('samples', '--out', png, '--per-class', '2').code).toBe(0);
    expect(Array.from(readFileSync(png).subarray(1, 4), (b) => String.fromCharCode(b)).join('')).toBe('PNG');
  });

  it('reports bad input as one JSON error object and a non-zero exit', () => {
    const cfgPath = join(dir, 'three.json');
    writeFileSync(cfgPath, JSON.stringify({ classes: [{ name: 'B', label: 0 }, { name: 'T4', label: 1 }, { name: 'T8', label: 2 }], layers: [...CELLNET_DEFAULTS.layers.slice(0, 4), { kind: 'dense', units: 3, weightBits: 8 }] }));
    const mismatch = cli('eval', '--model', model, '--config', cfgPath, '--data', 'synthetic:1:2');
    expect(mismatch.code).toBe(1);
    expect(mismatch.json).toMatchObject({ error: 'InputError' });
    expect(mismatch.json.message).toMatch(/does not match the configured architecture: 2 classes, expected 3/);
    const corrupt = join(dir, 'bad');
    cli('synth', '--out', corrupt, '--data', 'synthetic:2:2');
    writeFileSync(join(corrupt, 'test_images'), Buffer.from([0, 0, 8, 3, 0, 0, 0, 2]));
    const c = cli('eval', '--model', model, '--data', corrupt);
    expect(c.code).toBe(1);
    expect(c.json.message).toMatch(/test_images: truncated header/);
  });
});
