/**
 * The W2A8KV4 decode engine (docs/llm-engine.md). One controller steps through the schedule ROM
 * (schedule.ts); exactly one op runs at a time and the ops share the loop counters below.
 *
 * Streams (valid/ready, docs/architecture.md#streams):
 *   tok     in   token id | restart << idBits            one beat per decode step (restart: position 0)
 *   aux     in   P x 32-bit lanes                        constants, embedding row, RMSNorm weights (schedule order)
 *   w, s    in   GEMV weight / scale words               every linear layer and classifier plane (schedule order)
 *   logits  out  P x 32-bit signed logits (logitFrac)    ceil(vocab/P) beats per step, last on the final beat
 * Perf counters (plain outputs): cycles spent in GEMV ops, attention ops, other ops, and waiting for a token.
 */
import type { Module } from '../../hdl';
import { attentionPath, kvWritePath } from './attention';
import type { LlmEngineConfig } from './hw-config';
import { engineControl } from './control';
import { engineControlGroups, gemvQueue } from './control-groups';
import { engineCore } from './core';
import { gemvPath, ropePath } from './gemv-path';
import { embedPath, normPath, quantPath, reductions, residSiluPath } from './vector';

/** The engine module: shared skeleton, then each unit's datapath, then the controller (this order fixes the names). */
export function llmEngineModule(cfg: LlmEngineConfig, name = 'llm_engine'): Module {
  const core = engineCore(cfg, name);
  const emb = embedPath(core);
  const norm = normPath(core);
  const quant = quantPath(core);
  // two groups in flight: the GEMV path runs on the GEMV queue's counters (control-groups.ts)
  const gq = core.Gp > 1 ? gemvQueue(core) : undefined;
  const gemv = gq ? gemvPath(gq.view, quant, gq.issue) : gemvPath(core, quant);
  const rope = ropePath(core, gemv.linLanes, gq?.issue.writerTok);
  const rs = residSiluPath(core);
  const red = reductions(core, emb.embLanes, rs.residLanes, norm.normLanes, rs.siluLanes);
  const kvw = kvWritePath(core);
  const attn = attentionPath(core, kvw, rope.kkW);
  const parts = { emb, norm, quant, gemv, rope, rs, red, kvw, attn };
  if (gq) engineControlGroups(core, parts, gq);
  else engineControl(core, parts);
  return core.m;
}
