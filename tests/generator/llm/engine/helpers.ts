import { expect } from 'vitest';
import type { LlmEngineConfig } from '../../../../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../../../../generator/llm/golden/decoder';
import type { QuantModel } from '../../../../generator/llm/quant/model';
import type { Sim } from '../../../../sim';
import { LlmSession, type SessionOptions } from '../../../../sim/designs/llm';

export const argmaxOf = (xs: ArrayLike<number>): number => {
  let a = 0;
  for (let j = 1; j < xs.length; j++) if (xs[j]! > xs[a]!) a = j;
  return a;
};

/**
 * Decode `steps` tokens in the engine and in the golden decoder side by side: the prompt ids first, then greedy
 * continuation from the golden argmax. Every step's logits must be equal integer for integer.
 */
export async function decodeAndCompare(
  sim: Sim, cfg: LlmEngineConfig, qm: QuantModel, prompt: number[], steps: number, opts: SessionOptions = {},
): Promise<{ tokens: number[]; cycles: number[] }> {
  const gold = new GoldenDecoder(qm);
  const ses = await LlmSession.start(sim, cfg, qm, opts);
  const tokens: number[] = [];
  const cycles: number[] = [];
  try {
    let tok = prompt[0]!;
    for (let p = 0; p < steps; p++) {
      const r = await ses.step(tok, p === 0);
      const g = Array.from(gold.forward(tok, p));
      expect(r.logits.length).toBe(g.length);
      const bad = g.findIndex((v, j) => v !== r.logits[j]);
      expect(bad, `position ${p} token ${tok}: logit ${bad} golden ${g[bad]} engine ${r.logits[bad]}`).toBe(-1);
      tokens.push(tok);
      cycles.push(r.cycles);
      tok = p + 1 < prompt.length ? prompt[p + 1]! : argmaxOf(g);
    }
    await ses.finish();
  } finally {
    ses.kill();
  }
  return { tokens, cycles };
}
