import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../generator/llm/checkpoint';
import { shapeOf } from '../../../generator/llm/model-spec';
import { llmPresetConfig } from '../../../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../../../generator/llm/golden/decoder';
import { loadQuantModelFor } from '../../../generator/llm/quant/qmodel-file';
import { hasModel, MODEL, REPO } from '../../generator/llm/helpers';

const run = promisify(execFile);
const SHIPPED_W2 = join(REPO, 'models/stories260K-W2A8KV4-qat.lfq');

describe.skipIf(!hasModel)('lutforge demo (the quick-start job)', () => {
  it('decodes on the engine and sorts cells on the virtual board; its ids are the golden decoder greedy ids', async () => {
    const r = await run('node', ['bin/lutforge.js', 'demo', '--tokens', '4', '--images', '3', '--json'], { cwd: process.cwd(), maxBuffer: 1 << 24 });
    const res = JSON.parse(r.stdout) as { ok: boolean; llm: { ids: number[]; bitExactSteps: number; weights: string }; sort: { events: number; images: number; goldenMismatches: number } };
    expect(res.ok).toBe(true);
    expect(res.sort).toMatchObject({ events: 3, images: 3, goldenMismatches: 0 });
    // Independent greedy run of the golden decoder with the demo's settings and the shipped W2 QAT model.
    const ckpt = loadCheckpoint(MODEL);
    const cfg = llmPresetConfig('sim-small', shapeOf(ckpt.dims));
    expect(res.llm.weights).toBe(SHIPPED_W2);
    const gold = new GoldenDecoder(loadQuantModelFor(SHIPPED_W2, cfg.engine, ckpt));
    const ids: number[] = [];
    let tok = 1;
    for (let p = 0; p < 4; p++) {
      const g = gold.forward(tok, p);
      tok = g.indexOf(Math.max(...g));
      ids.push(tok);
    }
    expect(res.llm.ids).toEqual(ids);
  }, 600_000);

  it('sim llm feeds the prompt, then greedy ids, bit-exact under stalls; a bad preset lists the valid ones', async () => {
    const r = await run('node', ['bin/lutforge.js', 'sim', 'llm', '--tokens', '3', '--prompt-ids', '1,77', '--stall', '0.2', '--quant', 'shipped', '--json'], { cwd: process.cwd(), maxBuffer: 1 << 24 });
    const res = JSON.parse(r.stdout) as { fed: number[]; ids: number[]; bitExactSteps: number; firstMismatch: unknown; weights: string };
    expect(res).toMatchObject({ bitExactSteps: 3, firstMismatch: null, weights: SHIPPED_W2 });
    expect(res.fed.slice(0, 2)).toEqual([1, 77]);
    expect(res.fed[2]).toBe(res.ids[1]);
    const bad = await run('node', ['bin/lutforge.js', 'sim', 'llm', '--preset', 'huge', '--json']).catch((e: { stdout: string }) => e);
    expect(JSON.parse(bad.stdout).message).toMatch(/u280.*tiny.*sim-small|sim-small.*tiny|tiny.*sim-small/);
  }, 600_000);

  it('sim llm --prefill-block with two groups: the prompt in blocks, then the same greedy ids as token by token', async () => {
    const prompt = '1,403,27,300,12,499,64,8,250,111,7';
    const args = ['bin/lutforge.js', 'sim', 'llm', '--tokens', '13', '--prompt-ids', prompt, '--stall', '0.2', '--json'];
    const pre = JSON.parse((await run('node', [...args, '--prefill-block', '3', '--prefill-groups', '2'], { maxBuffer: 1 << 24 })).stdout) as {
      ids: number[]; bitExactSteps: number; checkedOutputs: number; firstMismatch: unknown; prefill: { blocks: number[]; groups: number };
    };
    expect(pre).toMatchObject({ firstMismatch: null, bitExactSteps: 4, checkedOutputs: 4, prefill: { blocks: [6, 5], groups: 2 } });
    const tbt = JSON.parse((await run('node', args, { maxBuffer: 1 << 24 })).stdout) as { ids: number[] };
    // token by token gives an id after every position; prefill after the prompt's last one, then per decode step
    expect(pre.ids).toEqual(tbt.ids.slice(10));
    const bad = await run('node', [...args, '--tokens', '5', '--prefill-block', '3']).catch((e: { stdout: string }) => e);
    expect(JSON.parse(bad.stdout).message).toMatch(/tokens.*cover the prompt/);
  }, 600_000);
});
