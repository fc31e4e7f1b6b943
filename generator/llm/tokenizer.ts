import { readFileSync } from 'node:fs';
import { InputError } from '../util/errors';

/** llama2.c tokenizer.bin: int32 max_token_length, then per token float32 score, int32 length, bytes. Decode only. */
export class Tokenizer {
  constructor(readonly pieces: string[]) {}

  static load(path: string, vocabSize: number): Tokenizer {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw new InputError(`tokenizer ${path}: cannot read (${(e as Error).message})`);
    }
    const pieces: string[] = [];
    let off = 4;
    for (let i = 0; i < vocabSize; i++) {
      if (off + 8 > buf.length) throw new InputError(`tokenizer ${path}: ends after ${i} of ${vocabSize} tokens`);
      const len = buf.readInt32LE(off + 4);
      if (len < 0 || off + 8 + len > buf.length) throw new InputError(`tokenizer ${path}: token ${i} has bad length ${len}`);
      pieces.push(buf.toString('utf8', off + 8, off + 8 + len));
      off += 8 + len;
    }
    return new Tokenizer(pieces);
  }

  /** run.c's decode: strip the space after BOS, map <0xHH> byte tokens to their byte. */
  decode(prev: number, token: number): string {
    let p = this.pieces[token] ?? '';
    if (prev === 1 && p.startsWith(' ')) p = p.slice(1);
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p);
    return m ? String.fromCharCode(parseInt(m[1]!, 16)) : p;
  }
}
