/**
 * The one entry point that turns a model file into a checkpoint, whatever its format: GGUF (by its magic bytes)
 * or a llama2.c checkpoint (.bin legacy / ak42). Every command that takes --model loads through loadModel.
 */
import { readFileSync } from 'node:fs';
import { parseCheckpoint, type LlamaCheckpoint } from './checkpoint';
import { isGguf } from './formats/gguf-read';
import { parseGgufModel } from './formats/gguf-llama';
import type { Tokenizer } from './tokenizer/tokenizer';
import { loadTokenizerBin } from './tokenizer/llama2c';
import { InputError } from '../util/errors';

export type ModelFormat = 'gguf' | 'llama2c';

export interface LoadedModel {
  ckpt: LlamaCheckpoint;
  format: ModelFormat;
  /** The tokenizer embedded in the file (GGUF `tokenizer.ggml.*`), if any. */
  tokenizer?: Tokenizer;
}

export function modelFormat(bytes: Uint8Array): ModelFormat {
  return isGguf(bytes) ? 'gguf' : 'llama2c';
}

export async function parseModel(bytes: Uint8Array, source = '<buffer>'): Promise<LoadedModel> {
  if (modelFormat(bytes) === 'gguf') return { format: 'gguf', ...(await parseGgufModel(bytes, source)) };
  return { format: 'llama2c', ckpt: parseCheckpoint(bytes, source) };
}

export async function loadModel(path: string): Promise<LoadedModel> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`model ${path}: cannot read (${(e as Error).message})`);
  }
  return parseModel(bytes, path);
}

/**
 * The tokenizer a command uses: `--tokenizer FILE` (a llama2.c tokenizer.bin) if given, else the model file's own,
 * else none (ids only). Either way its size must equal the model's vocabulary.
 */
export function modelTokenizer(m: LoadedModel, tokenizerPath?: string): Tokenizer | undefined {
  if (tokenizerPath !== undefined) return loadTokenizerBin(tokenizerPath, m.ckpt.dims.vocabSize);
  return m.tokenizer;
}
