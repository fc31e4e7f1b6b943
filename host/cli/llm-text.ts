/** `llm` command pieces for model files and text: the prompt option, and `llm convert` (.bin <-> GGUF). */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { checkpointToGguf, type GgufFloatType } from '../../generator/llm/formats/gguf-llama';
import { serializeCheckpoint } from '../../generator/llm/formats/llama2c-write';
import { loadModel, modelTokenizer, type ModelFormat } from '../../generator/llm/model-file';
import { serializeTokenizerBin } from '../../generator/llm/tokenizer/llama2c';
import type { Tokenizer } from '../../generator/llm/tokenizer/tokenizer';
import { writeFileAtomic } from '../../generator/util/files';
import { ConfigError } from '../../generator/util/errors';
import { emit, parseIntList, withJson } from './common';

export const MODEL_HELP = 'model file: GGUF (llama architecture; F32/F16/BF16 tensors) or llama2.c checkpoint (.bin)';

/** Prompt ids from --prompt (encoded, BOS first) or --prompt-ids; BOS alone when neither is given. */
export function promptOf(o: { prompt?: string; promptIds?: string; tokenizer?: string }, tok: Tokenizer | undefined): number[] {
  if (o.prompt !== undefined && o.promptIds !== undefined) throw new ConfigError('prompt', 'give either --prompt or --prompt-ids, not both');
  if (o.prompt !== undefined) {
    if (!tok) throw new ConfigError('prompt', 'needs a tokenizer: the model file has none, pass --tokenizer FILE (llama2.c tokenizer.bin) or use --prompt-ids');
    return tok.encode(o.prompt, { bos: true });
  }
  return o.promptIds ? parseIntList('--prompt-ids', o.promptIds) : [1];
}

interface ConvertOpts {
  out: string;
  to?: string;
  type: string;
  tokenizer?: string;
  tokenizerOut?: string;
  name?: string;
  json?: boolean;
}

function targetFormat(o: ConvertOpts): ModelFormat {
  const to = o.to ?? (/\.gguf$/i.test(o.out) ? 'gguf' : /\.bin$/i.test(o.out) ? 'bin' : undefined);
  if (to === 'gguf') return 'gguf';
  if (to === 'bin' || to === 'llama2c') return 'llama2c';
  throw new ConfigError('to', "must be 'gguf' or 'bin' (or name --out FILE.gguf / FILE.bin)", o.to ?? o.out);
}

export function registerConvert(llm: Command): void {
  withJson(
    llm
      .command('convert')
      .argument('<model>', 'input model file (GGUF or llama2.c .bin)')
      .description('convert a model between llama2.c .bin and GGUF, written atomically (the tokenizer goes along)')
      .requiredOption('--out <file>', 'output model file (.gguf or .bin)')
      .option('--to <format>', 'output format: gguf | bin (default: from the --out extension)')
      .option('--type <t>', 'GGUF matrix tensor type: f32 | f16 | bf16 (norms stay F32)', 'f32')
      .option('-z, --tokenizer <file>', 'llama2.c tokenizer.bin to embed in the GGUF (default: the input GGUF\'s own)')
      .option('--tokenizer-out <file>', "also write the model's tokenizer as a llama2.c tokenizer.bin")
      .option('--name <name>', 'GGUF general.name'),
  ).action(async (input: string, o: ConvertOpts) => {
    const to = targetFormat(o);
    if (!['f32', 'f16', 'bf16'].includes(o.type)) throw new ConfigError('type', 'must be f32, f16 or bf16', o.type);
    if (to === 'llama2c' && o.type !== 'f32') throw new ConfigError('type', 'a llama2.c .bin holds float32 only', o.type);
    const m = await loadModel(input);
    const tok = modelTokenizer(m, o.tokenizer);
    if (o.tokenizerOut !== undefined && !tok) throw new ConfigError('tokenizer-out', 'the input has no tokenizer to write (pass --tokenizer FILE)');
    // Everything is serialised (and so validated) before the first file is written.
    const bytes = to === 'gguf' ? checkpointToGguf(m.ckpt, { type: o.type as GgufFloatType, tokenizer: tok, name: o.name }) : serializeCheckpoint(m.ckpt);
    const tokBytes = o.tokenizerOut !== undefined ? serializeTokenizerBin(tok!) : undefined;
    const out = resolve(o.out);
    await writeFileAtomic(out, bytes);
    if (tokBytes) await writeFileAtomic(resolve(o.tokenizerOut!), tokBytes);
    const d = m.ckpt.dims;
    const result = {
      input, from: m.format, out, to, type: to === 'gguf' ? o.type : 'f32', bytes: bytes.length,
      dims: d, tokenizer: tok ? { tokens: tok.size, embedded: to === 'gguf', ...(o.tokenizerOut && { out: resolve(o.tokenizerOut) }) } : null,
    };
    emit(o, result, () =>
      [`${input} (${m.format}) -> ${out} (${to}${to === 'gguf' ? `, ${o.type}` : ''}, ${bytes.length} B)`,
        `dim=${d.dim} layers=${d.nLayers} heads=${d.nHeads}/${d.nKvHeads} hidden=${d.hiddenDim} vocab=${d.vocabSize} seq_len=${d.seqLen}`,
        tok ? `tokenizer: ${tok.size} tokens${to === 'gguf' ? ' embedded' : ''}${o.tokenizerOut ? `, written to ${o.tokenizerOut}` : ''}` : 'tokenizer: none'].join('\n'),
    );
  });
}
