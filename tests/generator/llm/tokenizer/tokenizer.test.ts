import { describe, expect, it } from 'vitest';
import { parseTokenizerBin, serializeTokenizerBin } from '../../../../generator/llm/tokenizer/llama2c';
import { Tokenizer } from '../../../../generator/llm/tokenizer/tokenizer';
import { InputError } from '../../../../generator/util/errors';
import { buildVocab, CORPUS, tokenizerBinBytes } from './fixture';

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

/** <unk> <s> </s>, bytes at 3..258, then ' ' a b c and scored merges (ids 259..). */
function tiny(extra: Array<[string, number]>): Tokenizer {
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n', ...Array.from({ length: 256 }, (_, b) => `<0x${hex2(b)}>`), ' ', 'a', 'b', 'c', ...extra.map((e) => e[0])];
  const scores = [...pieces.slice(0, 263).map(() => 0), ...extra.map((e) => e[1])];
  return new Tokenizer({ pieces, scores, bos: 1, eos: 2, control: new Set([0, 1, 2]), addSpacePrefix: true });
}

describe('SentencePiece-BPE encode (run.c semantics)', () => {
  it('merges the highest-scoring adjacent pair first, after BOS and the dummy space prefix', () => {
    // ' abc' -> [' ', a, b, c]; 'bc' (10) beats 'ab' (5) and ' a' (1); then ' a' + 'bc' -> ' abc'.
    const t = tiny([['ab', 5], ['bc', 10], [' a', 1], [' abc', 0]]);
    expect(t.encode('abc')).toEqual([1, 266]);
    const t2 = tiny([['ab', 5], ['bc', 10], [' a', 1]]);
    expect(t2.encode('abc')).toEqual([1, 265, 264]);
    // with 'ab' winning instead, 'c' stays alone
    const t3 = tiny([['ab', 50], ['bc', 10], [' a', 1]]);
    expect(t3.encode('abc')).toEqual([1, 259, 263, 262]);
    expect(t.encode('abc', { bos: false, eos: true })).toEqual([266, 2]);
    expect(t.encode('', { bos: true })).toEqual([1]);
  });

  it('falls back to UTF-8 byte tokens for characters without a piece, and decodes them back whole', () => {
    const t = tiny([]);
    // 'é' = C3 A9 -> byte tokens 3 + 0xC3, 3 + 0xA9
    expect(t.encode('é')).toEqual([1, 259, 3 + 0xc3, 3 + 0xa9]);
    expect(t.decode([259, 3 + 0xc3, 3 + 0xa9])).toBe('é');
    // a streaming decoder holds back half a character
    const s = t.stream();
    expect(s.push(259)).toBe('');
    expect(s.push(3 + 0xc3)).toBe('');
    expect(s.push(3 + 0xa9)).toBe('é');
  });

  it('strips the space after BOS only, and prints nothing for control tokens', () => {
    const t = tiny([[' a', 1]]);
    expect(t.decode([263, 263])).toBe('a a');
    expect(t.decode([263], 260)).toBe(' a');
    // a BOS mid-stream starts a new sequence: the space after it goes too
    expect(t.decode([263, 2, 1, 263])).toBe('aa');
  });

  it('refuses text it cannot encode, naming the missing byte token', () => {
    const pieces = ['<unk>', '<s>', '</s>', ' ', 'a'];
    const t = new Tokenizer({ pieces, scores: [0, 0, 0, 0, 0], bos: 1, eos: 2, control: new Set([0, 1, 2]), addSpacePrefix: true });
    expect(() => t.encode('ab')).toThrow(/cannot encode "b": no piece for it and no byte-fallback token <0x62>/);
  });

  it('a 512-entry vocabulary learned from a corpus round-trips text, including characters it never saw', () => {
    const v = buildVocab(512);
    expect(v.pieces).toHaveLength(512);
    const t = parseTokenizerBin(tokenizerBinBytes(v), 'tok512.bin');
    expect(t.size).toBe(512);
    for (const text of [...CORPUS, 'Lily and Tom played.', 'naïve café — 日本 🙂', '  two  spaces\nand a newline', 'x']) {
      const ids = t.encode(text);
      expect(ids[0]).toBe(1);
      expect(t.decode(ids.slice(1))).toBe(text);
    }
    // merges compress: the corpus takes far fewer tokens than characters
    const ids = t.encode(CORPUS[0]!);
    expect(ids.length).toBeLessThan(CORPUS[0]!.length / 2);
  });
});

describe('llama2.c tokenizer.bin', () => {
  const v = buildVocab(512);
  const bytes = tokenizerBinBytes(v);

  it('reads every piece and score written field by field, and writes the same bytes back', () => {
    const t = parseTokenizerBin(bytes);
    expect(t.vocab.pieces).toEqual(v.pieces);
    expect(Array.from(t.vocab.scores)).toEqual(v.scores.map(Math.fround));
    expect(Buffer.from(serializeTokenizerBin(t)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses a vocabulary whose size differs from the model, naming both sizes', () => {
    const t = parseTokenizerBin(bytes, 'tok.bin');
    expect(() => t.checkVocabSize(32000, 'tokenizer tok.bin')).toThrow(/tokenizer tok.bin: the tokenizer has 512 tokens but the model's vocab_size is 32000/);
  });

  it('refuses truncated and malformed files with the token index', () => {
    expect(() => parseTokenizerBin(bytes.subarray(0, bytes.length - 2), 't.bin')).toThrow(InputError);
    expect(() => parseTokenizerBin(bytes.subarray(0, bytes.length - 2), 't.bin')).toThrow(/t\.bin: token 511: .* run past the end of the file \(truncated\?\)/);
    expect(() => parseTokenizerBin(bytes.subarray(0, 2))).toThrow(/shorter than the 4-byte max_token_length header/);
    const bad = Buffer.from(bytes);
    bad.writeInt32LE(-1, 0);
    expect(() => parseTokenizerBin(bad)).toThrow(/max_token_length=-1 is out of range/);
    const bad2 = Buffer.from(bytes);
    bad2.writeInt32LE(9999, 8); // token 0's length
    expect(() => parseTokenizerBin(bad2)).toThrow(/token 0: length 9999 is outside/);
  });
});
