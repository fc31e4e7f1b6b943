import { InputError } from '../../util/errors';

/** A SentencePiece-BPE vocabulary: pieces with spaces as ' ' (GGUF's U+2581 is mapped on load), scores, specials. */
export interface Vocab {
  pieces: readonly string[];
  scores: ArrayLike<number>;
  bos: number;
  eos: number;
  /** Control tokens (BOS, EOS, UNK...): never produced by merges, decoded to nothing. */
  control: ReadonlySet<number>;
  /** Prepend a space to non-empty text before encoding (SentencePiece's add_dummy_prefix, run.c's default). */
  addSpacePrefix: boolean;
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;
const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

/**
 * The llama2.c / llama.cpp SentencePiece-BPE tokenizer. encode: optional BOS, the dummy space prefix, one token per
 * code point (or its UTF-8 bytes as <0xHH> tokens when the code point has no piece), then repeatedly merge the
 * adjacent pair whose concatenation is a piece with the highest score (run.c's encode). decode: strip the space
 * after BOS, map <0xHH> tokens to bytes, reassemble UTF-8.
 */
export class Tokenizer {
  private readonly lookup = new Map<string, number>();
  private readonly byteIds: Int32Array;
  /** Raw bytes of every piece as decode emits them (byte tokens are their one byte). */
  private readonly bytesOf: Uint8Array[];

  constructor(readonly vocab: Vocab) {
    const { pieces, bos, eos } = vocab;
    if (pieces.length === 0) throw new InputError('tokenizer: the vocabulary is empty');
    if (vocab.scores.length !== pieces.length) throw new InputError(`tokenizer: ${vocab.scores.length} scores for ${pieces.length} pieces`);
    for (const [name, id] of [['bos', bos], ['eos', eos]] as const)
      if (!(Number.isInteger(id) && id >= 0 && id < pieces.length)) throw new InputError(`tokenizer: ${name} id ${id} is outside the vocabulary [0, ${pieces.length})`);
    this.byteIds = new Int32Array(256).fill(-1);
    const enc = new TextEncoder();
    this.bytesOf = pieces.map((p, id) => {
      const m = BYTE_PIECE.exec(p);
      if (m) {
        const b = parseInt(m[1]!, 16);
        if (this.byteIds[b] === -1) this.byteIds[b] = id;
        return Uint8Array.of(b);
      }
      if (!vocab.control.has(id) && !this.lookup.has(p)) this.lookup.set(p, id);
      return vocab.control.has(id) ? new Uint8Array(0) : enc.encode(p);
    });
  }

  get size(): number {
    return this.vocab.pieces.length;
  }

  /** Fail unless this vocabulary matches the model's. */
  checkVocabSize(modelVocab: number, what: string): this {
    if (this.size !== modelVocab) throw new InputError(`${what}: the tokenizer has ${this.size} tokens but the model's vocab_size is ${modelVocab}`);
    return this;
  }

  encode(text: string, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const { bos = true, eos = false } = opts;
    const ids: number[] = [];
    if (bos) ids.push(this.vocab.bos);
    const body = text !== '' && this.vocab.addSpacePrefix ? ` ${text}` : text;
    const enc = new TextEncoder();
    for (const cp of body) {
      const id = this.lookup.get(cp);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      for (const b of enc.encode(cp)) {
        const bid = this.byteIds[b]!;
        if (bid < 0) throw new InputError(`tokenizer: cannot encode ${JSON.stringify(cp)}: no piece for it and no byte-fallback token <0x${hex2(b)}>`);
        ids.push(bid);
      }
    }
    const start = bos ? 1 : 0;
    const pieces = this.vocab.pieces;
    const scores = this.vocab.scores;
    for (;;) {
      let best = -Infinity;
      let bestId = -1;
      let bestAt = -1;
      for (let i = start; i + 1 < ids.length; i++) {
        const id = this.lookup.get(pieces[ids[i]!]! + pieces[ids[i + 1]!]!);
        if (id !== undefined && scores[id]! > best) {
          best = scores[id]!;
          bestId = id;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      ids.splice(bestAt, 2, bestId);
    }
    if (eos) ids.push(this.vocab.eos);
    return ids;
  }

  /** The bytes `token` prints after `prev` (run.c's decode: no leading space right after BOS). */
  pieceBytes(prev: number, token: number): Uint8Array {
    const b = this.bytesOf[token];
    if (b === undefined) throw new InputError(`tokenizer: token ${token} is outside the vocabulary [0, ${this.size})`);
    return prev === this.vocab.bos && b[0] === 0x20 ? b.subarray(1) : b;
  }

  /** Decode `ids`, the first following `prev` (BOS by default, as after an encoded prompt's BOS). */
  decode(ids: readonly number[], prev = this.vocab.bos): string {
    const s = this.stream(prev);
    return ids.map((t) => s.push(t)).join('') + s.flush();
  }

  /** Incremental decoder for streaming output: a multi-byte character split across byte tokens comes out whole. */
  stream(prev = this.vocab.bos): { push(token: number): string; flush(): string } {
    const dec = new TextDecoder('utf-8');
    let last = prev;
    return {
      push: (token: number) => {
        const out = dec.decode(this.pieceBytes(last, token), { stream: true });
        last = token;
        return out;
      },
      flush: () => dec.decode(),
    };
  }
}
