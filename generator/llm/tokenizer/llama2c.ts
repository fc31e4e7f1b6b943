/**
 * llama2.c's tokenizer.bin: int32 max_token_length, then per token float32 score, int32 byte length, UTF-8 bytes.
 * The file has no token count or special-token ids: it holds as many tokens as the model's vocabulary, with
 * llama2.c's ids UNK = 0, BOS = 1, EOS = 2, and spaces stored as ' '.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../util/errors';
import { Tokenizer, type Vocab } from './tokenizer';

export const LLAMA2C_SPECIALS = { unk: 0, bos: 1, eos: 2 } as const;

export function parseTokenizerBin(buf: Uint8Array, source = '<buffer>'): Tokenizer {
  const fail = (msg: string): never => {
    throw new InputError(`tokenizer ${source}: ${msg}`);
  };
  if (buf.length < 4) fail(`file is ${buf.length} bytes, shorter than the 4-byte max_token_length header`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const maxLen = dv.getInt32(0, true);
  if (maxLen < 1 || maxLen > 1 << 16) fail(`max_token_length=${maxLen} is out of range [1, 65536] (not a llama2.c tokenizer.bin?)`);
  const pieces: string[] = [];
  const scores: number[] = [];
  const dec = new TextDecoder('utf-8');
  let off = 4;
  while (off < buf.length) {
    const i = pieces.length;
    if (off + 8 > buf.length) fail(`token ${i}: the file ends inside its score/length fields (truncated?)`);
    const score = dv.getFloat32(off, true);
    const len = dv.getInt32(off + 4, true);
    if (len < 0 || len > maxLen) fail(`token ${i}: length ${len} is outside [0, max_token_length=${maxLen}]`);
    if (off + 8 + len > buf.length) fail(`token ${i}: ${len} bytes run past the end of the file (truncated?)`);
    if (!Number.isFinite(score)) fail(`token ${i}: score is ${score}`);
    pieces.push(dec.decode(buf.subarray(off + 8, off + 8 + len)));
    scores.push(score);
    off += 8 + len;
  }
  if (pieces.length <= LLAMA2C_SPECIALS.eos) fail(`holds ${pieces.length} tokens; a llama2.c vocabulary starts with <unk>, <s>, </s>`);
  const vocab: Vocab = {
    pieces, scores, bos: LLAMA2C_SPECIALS.bos, eos: LLAMA2C_SPECIALS.eos,
    control: new Set(Object.values(LLAMA2C_SPECIALS)), addSpacePrefix: true,
  };
  return new Tokenizer(vocab);
}

/** Load a tokenizer.bin and check it against the model's vocabulary size. */
export function loadTokenizerBin(path: string, modelVocab?: number): Tokenizer {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(`tokenizer ${path}: cannot read (${(e as Error).message})`);
  }
  const tok = parseTokenizerBin(buf, path);
  return modelVocab === undefined ? tok : tok.checkVocabSize(modelVocab, `tokenizer ${path}`);
}

/** Serialise a vocabulary as tokenizer.bin (BOS/EOS must sit at llama2.c's ids). */
export function serializeTokenizerBin(tok: Tokenizer): Uint8Array {
  const { pieces, scores, bos, eos } = tok.vocab;
  if (bos !== LLAMA2C_SPECIALS.bos || eos !== LLAMA2C_SPECIALS.eos)
    throw new InputError(`tokenizer.bin fixes BOS = 1 and EOS = 2; this vocabulary has BOS = ${bos}, EOS = ${eos}`);
  const enc = new TextEncoder();
  const bytes = pieces.map((p) => enc.encode(p));
  const out = new Uint8Array(4 + bytes.reduce((a, b) => a + 8 + b.length, 0));
  const dv = new DataView(out.buffer);
  dv.setInt32(0, Math.max(1, ...bytes.map((b) => b.length)), true);
  let off = 4;
  bytes.forEach((b, i) => {
    dv.setFloat32(off, scores[i]!, true);
    dv.setInt32(off + 4, b.length, true);
    out.set(b, off + 8);
    off += 8 + b.length;
  });
  return out;
}
