import { expect } from 'vitest';
import type { LlmEngineConfig } from '../../../../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../../../../generator/llm/golden/decoder';
import type { QuantModel } from '../../../../generator/llm/quant/model';
import type { Sim } from '../../../../sim';
import { LlmSession, type SessionOptions, type StepResult } from '../../../../sim/designs/llm';
import { argmaxOf } from './helpers';

export interface PrefillRun {
  /** The engine's result of each prefill block, then of each generated token. */
  blocks: StepResult[];
  steps: StepResult[];
  generated: number[];
}

/**
 * The prompt through the engine in blocks of cfg.hw.prefillBlock (the last may be shorter), then `gen` decode steps
 * from the golden argmax. The reference is the golden decoder fed token by token: after every block, the logits of
 * the block's last token must equal its, and so must every generated token's, integer for integer.
 */
export async function prefillAndCompare(
  sim: Sim, cfg: LlmEngineConfig, qm: QuantModel, prompt: number[], gen: number, opts: SessionOptions = {},
): Promise<PrefillRun> {
  const gold = new GoldenDecoder(qm);
  const want = prompt.map((t, p) => Array.from(gold.forward(t, p)));
  const ses = await LlmSession.start(sim, cfg, qm, opts);
  const B = cfg.blockTokens;
  const out: PrefillRun = { blocks: [], steps: [], generated: [] };
  const same = (got: number[], g: number[], what: string) => {
    expect(got.length).toBe(g.length);
    const bad = g.findIndex((v, j) => v !== got[j]);
    expect(bad, `${what}: logit ${bad} golden ${g[bad]} engine ${got[bad]}`).toBe(-1);
  };
  try {
    for (let s = 0; s < prompt.length; s += B) {
      const blk = prompt.slice(s, s + B);
      const r = await ses.block(blk, s === 0);
      same(r.logits, want[s + blk.length - 1]!, `block at ${s} (${blk.length} tokens)`);
      out.blocks.push(r);
    }
    let last = want[prompt.length - 1]!;
    for (let i = 0; i < gen; i++) {
      const tok = argmaxOf(last);
      const pos = prompt.length + i;
      last = Array.from(gold.forward(tok, pos));
      const r = await ses.step(tok);
      same(r.logits, last, `generated token ${i} at ${pos}`);
      out.steps.push(r);
      out.generated.push(tok);
    }
    await ses.finish();
  } finally {
    ses.kill();
  }
  return out;
}
