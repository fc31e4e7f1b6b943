/**
 * The command line with GGUF models and text: `llm convert` (.bin <-> GGUF, atomic), `llm run --model X.gguf` on the
 * float reference, the golden decoder and `--device sim` against the .bin, and `--prompt` text in, text out.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { hasModel, MODEL, REPO } from '../../generator/llm/helpers';
import { buildVocab, tokenizerBinBytes } from '../../generator/llm/tokenizer/fixture';

const run = promisify(execFile);
const cli = async (args: string[]) => (await run('npx', ['lutforge', ...args], { cwd: REPO, maxBuffer: 1 << 24, timeout: 900_000 })).stdout;
const cliJson = async (args: string[]) => JSON.parse(await cli([...args, '--json']));
const cliError = async (args: string[]): Promise<string> => {
  try {
    await run('npx', ['lutforge', ...args], { cwd: REPO, timeout: 300_000 });
  } catch (e) {
    return (e as { stderr: string }).stderr;
  }
  throw new Error(`lutforge ${args.join(' ')} succeeded`);
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'lutforge-cli-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tok512 = path.join(dir, 'tok512.bin');
writeFileSync(tok512, tokenizerBinBytes(buildVocab(512)));
const gguf = path.join(dir, 'stories260K.gguf');

describe.skipIf(!hasModel)('llm convert and llm run with GGUF and text', () => {
  it('converts the shared checkpoint with a 512-entry tokenizer to GGUF and back; header, weights and tokenizer come back byte for byte', async () => {
    const r = await cliJson(['llm', 'convert', MODEL, '--out', gguf, '--tokenizer', tok512]);
    expect(r).toMatchObject({ from: 'llama2c', to: 'gguf', type: 'f32', tokenizer: { tokens: 512, embedded: true } });
    const bin = path.join(dir, 'back.bin');
    const tokOut = path.join(dir, 'back-tok.bin');
    const b = await cliJson(['llm', 'convert', gguf, '--out', bin, '--tokenizer-out', tokOut]);
    expect(b).toMatchObject({ from: 'gguf', to: 'llama2c' });
    expect(readFileSync(tokOut).equals(readFileSync(tok512))).toBe(true);
    // the freq_cis tables llama2.c stores unused are recomputed, so compare header + weights, and the length
    const orig = readFileSync(MODEL);
    const again = readFileSync(bin);
    expect(again.length).toBe(orig.length);
    const weightsEnd = orig.length - 4 * 512 * 8; // freq_cis_real + imag: seq_len * head_dim floats at the end (tied)
    expect(again.subarray(0, weightsEnd).equals(orig.subarray(0, weightsEnd))).toBe(true);
  }, 300_000);

  it('decodes the ids of the .bin from the GGUF: float reference, golden decoder and --device sim', async () => {
    const common = ['llm', 'run', '--tokens', '6', '--prompt-ids', '1,403,27'];
    const q = ['--search', 'minmax', '--no-calib'];
    const fBin = await cliJson([...common, '--model', MODEL]);
    const fGguf = await cliJson([...common, '--model', gguf]);
    expect(fGguf.ids).toHaveLength(6);
    expect(fGguf.ids).toEqual(fBin.ids);
    const gBin = await cliJson([...common, ...q, '--model', MODEL, '--engine', 'golden']);
    const gGguf = await cliJson([...common, ...q, '--model', gguf, '--engine', 'golden']);
    expect(gGguf.ids).toEqual(gBin.ids);
    const dev = await cliJson([...common, ...q, '--model', gguf, '--device', 'sim', '--preset', 'sim-small']);
    expect(dev.ids).toEqual(gBin.ids);
    expect(dev.golden.match).toBe(true);
  }, 900_000);

  it('--prompt text: encoded with the embedded tokenizer, decoded text starts with the prompt; --json keeps the ids', async () => {
    const prompt = 'Once upon a time, Lily saw a big dog.';
    const r = await cliJson(['llm', 'run', '--model', gguf, '--prompt', prompt, '--tokens', '40']);
    expect(r.prompt[0]).toBe(1);
    expect(r.prompt.length).toBeLessThan(prompt.length);
    expect(r.ids).toHaveLength(40);
    expect(r.text.startsWith(prompt)).toBe(true);
    // the .bin with --tokenizer gives the same ids, and the human report streams the same text
    const r2 = await cliJson(['llm', 'run', '--model', MODEL, '--tokenizer', tok512, '--prompt', prompt, '--tokens', '40']);
    expect(r2.ids).toEqual(r.ids);
    const human = await cli(['llm', 'run', '--model', gguf, '--prompt', prompt, '--tokens', '40']);
    expect(human).toContain(`text: ${r.text}\n`);
    expect(human).toContain(`ids: ${r.ids.join(' ')}`);
  }, 300_000);

  it('bad input names the problem and leaves the previous output intact', async () => {
    const out = path.join(dir, 'keep.gguf');
    writeFileSync(out, 'previous');
    const bad = path.join(dir, 'truncated.gguf');
    writeFileSync(bad, readFileSync(gguf).subarray(0, 5000));
    expect(await cliError(['llm', 'convert', bad, '--out', out])).toMatch(/truncated\.gguf: .*truncated/);
    expect(readFileSync(out, 'utf8')).toBe('previous');
    const tok300 = path.join(dir, 'tok300.bin');
    writeFileSync(tok300, tokenizerBinBytes(buildVocab(300)));
    expect(await cliError(['llm', 'convert', MODEL, '--out', out, '--tokenizer', tok300])).toMatch(/tokenizer .*tok300\.bin: the tokenizer has 300 tokens but the model's vocab_size is 512/);
    expect(readFileSync(out, 'utf8')).toBe('previous');
    expect(await cliError(['llm', 'run', '--model', MODEL, '--prompt', 'hi'])).toMatch(/'prompt': needs a tokenizer/);
    expect(await cliError(['llm', 'run', '--model', bad])).toMatch(/truncated/);
    expect(existsSync(path.join(dir, 'none.gguf'))).toBe(false);
  }, 300_000);
});

describe.skipIf(!hasModel)('generate llmdev --model', () => {
  it('sizes the device for the model file: the stories260K GGUF gives the default design byte for byte; other designs refuse it', async () => {
    const stories = path.join(dir, 'stories-f16.gguf');
    await cli(['llm', 'convert', MODEL, '--out', stories, '--type', 'f16']);
    const a = path.join(dir, 'dev-gguf');
    const b = path.join(dir, 'dev-default');
    await cli(['generate', 'llmdev', '--model', stories, '--out', a]);
    await cli(['generate', 'llmdev', '--out', b]);
    for (const f of ['llmdev.v', 'llm_engine.v', 'config.json']) expect(readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f))), f).toBe(true);
    expect(await cliError(['generate', 'gemv', '--model', stories, '--out', path.join(dir, 'g')])).toMatch(/--model sizes the llm and llmdev designs, not gemv/);
  }, 300_000);
});
