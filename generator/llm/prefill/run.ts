import { ConfigError, InputError } from '../../util/errors';
import type { GoldenDecoder } from '../golden/decoder';

/**
 * Feeds a prompt from position 0 in blocks of `block` tokens (the last block may be shorter) and returns the last
 * token's logits; the decoder then continues in decode mode at position prompt.length.
 */
export function prefillPrompt(dec: GoldenDecoder, prompt: readonly number[], block: number): Float64Array {
  if (!Number.isInteger(block) || block < 1) throw new ConfigError('block', 'prefill block size must be a positive integer', block);
  if (!prompt.length) throw new InputError('prefill: the prompt is empty');
  const ctx = dec.cfg.model.seqLen;
  if (prompt.length > ctx) throw new InputError(`prompt of ${prompt.length} tokens: ${prompt.length} positions exceed the model's context of ${ctx} (shorten the prompt)`);
  dec.reset();
  let logits: Float64Array = new Float64Array();
  for (let i = 0; i < prompt.length; i += block) logits = dec.prefill(prompt.slice(i, i + block));
  return logits;
}
