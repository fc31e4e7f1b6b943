/**
 * Test tokenizers built here, not by the code under test: a llama2.c-layout vocabulary (<unk>, <s>, </s>, the 256
 * byte tokens, then pieces) learned from a small corpus by counting adjacent pairs, and tokenizer.bin bytes
 * written field by field.
 */

export const CORPUS = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine.',
  'One day, she saw a big red ball in the park. She wanted to play with it, so she ran to her mom.',
  'The dog was happy and wagged his tail. They played together all day and had lots of fun.',
  'Tom and Sam were best friends. They liked to build tall towers with their blocks and laugh.',
];

export interface TestVocab {
  pieces: string[];
  scores: number[];
}

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

/** A `size`-entry vocabulary: specials, bytes, the corpus' characters, then the most frequent merges. */
export function buildVocab(size = 512, corpus = CORPUS): TestVocab {
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n', ...Array.from({ length: 256 }, (_, b) => `<0x${hex2(b)}>`)];
  const scores = pieces.map(() => 0);
  const words = corpus.flatMap((s) => ` ${s}`.split(/(?= )/)).map((w) => [...w]);
  for (const ch of new Set(words.flat())) {
    pieces.push(ch);
    scores.push(-1e6);
  }
  let rank = 0;
  while (pieces.length < size) {
    const counts = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) counts.set(w[i]! + w[i + 1]!, (counts.get(w[i]! + w[i + 1]!) ?? 0) + 1);
    const best = [...counts].filter(([p]) => !pieces.includes(p)).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (!best) break;
    pieces.push(best[0]);
    scores.push(-rank++);
    for (const w of words)
      for (let i = 0; i + 1 < w.length; i++)
        if (w[i]! + w[i + 1]! === best[0]) w.splice(i, 2, best[0]);
  }
  // Pad with unused pieces so the vocabulary has exactly `size` entries (the corpus may run out of pairs).
  while (pieces.length < size) {
    pieces.push(`<unused${pieces.length}>`);
    scores.push(-1e9);
  }
  return { pieces, scores };
}

/** tokenizer.bin bytes: int32 max_token_length, then per piece float32 score, int32 length, bytes. */
export function tokenizerBinBytes(v: TestVocab): Uint8Array {
  const enc = v.pieces.map((p) => Buffer.from(p, 'utf8'));
  const buf = Buffer.alloc(4 + enc.reduce((a, b) => a + 8 + b.length, 0));
  buf.writeInt32LE(Math.max(...enc.map((b) => b.length)), 0);
  let off = 4;
  enc.forEach((b, i) => {
    buf.writeFloatLE(v.scores[i]!, off);
    buf.writeInt32LE(b.length, off + 4);
    b.copy(buf, off + 8);
    off += 8 + b.length;
  });
  return buf;
}
