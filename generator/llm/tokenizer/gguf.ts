/**
 * The tokenizer embedded in a GGUF file (`tokenizer.ggml.*`). Accepted: `tokenizer.ggml.model = "llama"`, the
 * SentencePiece-BPE vocabulary llama.cpp uses for Llama models (pieces with U+2581 for spaces, scores, token types),
 * including vocabularies converted from llama2.c's tokenizer.bin (spaces as ' '). Byte-level BPE (`gpt2`, with
 * merges) is refused by name.
 */
import { GGUFValueType, type MetadataValue } from '@huggingface/gguf';
import { InputError } from '../../util/errors';
import type { GgufValue } from '../formats/gguf-write';
import { Tokenizer } from './tokenizer';

/** llama.cpp token types (tokenizer.ggml.token_type). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;
const SPACE = '\u2581';
const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;

const num = (v: MetadataValue | undefined): number | undefined => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined);

/** The embedded tokenizer, or undefined when the file has none. */
export function tokenizerFromGguf(md: Record<string, MetadataValue>, source: string): Tokenizer | undefined {
  const fail = (msg: string): never => {
    throw new InputError(`GGUF ${source}: ${msg}`);
  };
  const model = md['tokenizer.ggml.model'];
  if (model === undefined || model === 'no_vocab') return undefined;
  if (model !== 'llama')
    fail(`tokenizer.ggml.model is ${JSON.stringify(model)}; lutforge decodes 'llama' (SentencePiece-BPE) vocabularies only`);
  const tokens = md['tokenizer.ggml.tokens'];
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) return fail('tokenizer.ggml.tokens is missing or not an array of strings');
  const scores = md['tokenizer.ggml.scores'];
  if (!Array.isArray(scores) || scores.length !== tokens.length || scores.some((s) => typeof s !== 'number'))
    return fail(`tokenizer.ggml.scores must hold one number per token (${tokens.length})`);
  const types = md['tokenizer.ggml.token_type'];
  if (types !== undefined && (!Array.isArray(types) || types.length !== tokens.length))
    fail(`tokenizer.ggml.token_type must hold one entry per token (${tokens.length})`);
  const id = (key: string, dflt: number): number => {
    const v = md[key];
    if (v === undefined) return dflt;
    const n = num(v);
    if (n === undefined || !Number.isInteger(n) || n < 0 || n >= tokens.length) return fail(`${key}=${String(v)} is not a token id in [0, ${tokens.length})`);
    return n;
  };
  const bos = id('tokenizer.ggml.bos_token_id', 1);
  const eos = id('tokenizer.ggml.eos_token_id', 2);
  const control = new Set<number>([bos, eos]);
  if (md['tokenizer.ggml.unknown_token_id'] !== undefined) control.add(id('tokenizer.ggml.unknown_token_id', 0));
  (types as number[] | undefined)?.forEach((t, i) => {
    if (t === TOKEN_TYPE.control || t === TOKEN_TYPE.unknown || t === TOKEN_TYPE.unused) control.add(i);
  });
  const strs = tokens as string[];
  const pieces = strs.some((t) => t.includes(SPACE)) ? strs.map((t) => t.replaceAll(SPACE, ' ')) : strs;
  const prefix = md['tokenizer.ggml.add_space_prefix'];
  return new Tokenizer({ pieces, scores: scores as number[], bos, eos, control, addSpacePrefix: prefix === undefined ? true : prefix === true });
}

/** `tokenizer.ggml.*` entries for a vocabulary, in llama.cpp's SentencePiece form (spaces as U+2581). */
export function tokenizerGgufEntries(tok: Tokenizer): Array<[string, GgufValue]> {
  const { pieces, scores, bos, eos, control, addSpacePrefix } = tok.vocab;
  const types = pieces.map((p, i) => (control.has(i) ? (p === '<unk>' ? TOKEN_TYPE.unknown : TOKEN_TYPE.control) : BYTE_PIECE.test(p) ? TOKEN_TYPE.byte : TOKEN_TYPE.normal));
  const unk = types.indexOf(TOKEN_TYPE.unknown);
  return [
    ['tokenizer.ggml.model', { type: GGUFValueType.STRING, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: GGUFValueType.ARRAY, itemType: GGUFValueType.STRING, value: pieces.map((p) => p.replaceAll(' ', SPACE)) }],
    ['tokenizer.ggml.scores', { type: GGUFValueType.ARRAY, itemType: GGUFValueType.FLOAT32, value: Array.from(scores) }],
    ['tokenizer.ggml.token_type', { type: GGUFValueType.ARRAY, itemType: GGUFValueType.INT32, value: types }],
    ['tokenizer.ggml.bos_token_id', { type: GGUFValueType.UINT32, value: bos }],
    ['tokenizer.ggml.eos_token_id', { type: GGUFValueType.UINT32, value: eos }],
    ...(unk >= 0 ? [['tokenizer.ggml.unknown_token_id', { type: GGUFValueType.UINT32, value: unk }] as [string, GgufValue]] : []),
    ['tokenizer.ggml.add_bos_token', { type: GGUFValueType.BOOL, value: true }],
    ['tokenizer.ggml.add_space_prefix', { type: GGUFValueType.BOOL, value: addSpacePrefix }],
  ];
}
