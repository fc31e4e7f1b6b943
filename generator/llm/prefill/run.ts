import { ConfigError, InputError } from '../../util/errors';
import { argmax } from '../float-model';
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

/**
 * generateGreedy (float-model.ts) with the prompt prefilled in blocks: the same `steps` ids (forced prompt tokens,
 * then argmax), but the prompt costs ceil(n / block) block passes instead of n decode steps.
 */
export function generateWithPrefill(dec: GoldenDecoder, prompt: readonly number[], steps: number, block: number, onToken?: (id: number, pos: number) => void): number[] {
  const n = Math.min(prompt.length, steps);
  if (steps > dec.cfg.model.seqLen) throw new InputError(`${steps} positions exceed the model's context of ${dec.cfg.model.seqLen} (lower --tokens)`);
  let logits = prefillPrompt(dec, prompt.slice(0, n), block);
  const out: number[] = [];
  for (let pos = 0; pos < n - 1; pos++) (out.push(prompt[pos + 1]!), onToken?.(prompt[pos + 1]!, pos));
  for (let pos = n - 1; pos < steps; pos++) {
    const next = pos + 1 < prompt.length ? prompt[pos + 1]! : argmax(logits);
    out.push(next);
    onToken?.(next, pos);
    if (pos + 1 < steps) logits = dec.forward(next, pos + 1);
  }
  return out;
}
