/**
 * Mixed precision in the decode engine (docs/llm-engine.md#mixed-precision): stories260K on `sim-small` in Verilator,
 * greedy from BOS, every step checked bit for bit against the golden decoder, with
 *   (a) every linear matrix W2, (b) layer 0 and every wq 4-bit (two digit-plane passes each), (c) wBits 4 (every
 *   linear matrix two passes).
 * Prints cycles per token, the GEMV share (perf counter) beside the cycle model (prefill/cycles.ts
 * engineGemvBlockCycles with one token, which counts a pass per plane), and the w + s bytes per token.
 * Options: --tokens=N (default 6), --json.
 */
import { loadCheckpoint } from '../generator/llm/checkpoint';
import { expandW4Spec, shapeOf, type EngineParams } from '../generator/llm/model-spec';
import { llmPresetConfig, LLM_PRESETS } from '../generator/llm/engine/hw-config';
import { GoldenDecoder } from '../generator/llm/golden/decoder';
import { quantizeModel } from '../generator/llm/quant/model';
import { engineGemvBlockCycles } from '../generator/llm/prefill/cycles';
import { argmax } from '../generator/llm/float-model';
import { buildLlmSim, LlmSession, type StepResult } from '../sim/designs/llm';
import { report, table } from './table';

const MODEL = new URL('../../shared/models/stories260K.bin', import.meta.url).pathname;

export async function main(argv: string[]): Promise<void> {
  const steps = Number(argv.find((a) => a.startsWith('--tokens='))?.slice(9) ?? 6);
  const ckpt = loadCheckpoint(MODEL);
  const shape = shapeOf(ckpt.dims);
  const variants: Array<[string, Partial<EngineParams>]> = [
    ['W2 (all linear matrices 2-bit)', {}],
    ['mixed: 0.*,*.wq 4-bit', { w4Matrices: expandW4Spec('0.*,*.wq', shape.nLayers) }],
    ['W4 (wBits 4: all linear matrices 4-bit)', { wBits: 4 }],
  ];
  const memory = LLM_PRESETS['sim-small'].memory;
  const rows = [];
  for (const [name, engine] of variants) {
    const cfg = llmPresetConfig('sim-small', shape, { engine });
    const qm = quantizeModel(ckpt, cfg.engine, { search: 'mse' });
    const sim = await buildLlmSim(cfg);
    const ses = await LlmSession.start(sim, cfg, qm, { memory });
    const gold = new GoldenDecoder(qm);
    const res: StepResult[] = [];
    let exact = true;
    let tok = 1;
    for (let p = 0; p < steps; p++) {
      const r = await ses.step(tok, p === 0);
      const g = gold.forward(tok, p);
      if (r.logits.some((v, j) => v !== g[j])) exact = false;
      res.push(r);
      tok = argmax(g);
    }
    await ses.finish();
    ses.kill();
    const mean = (f: (r: StepResult) => number) => res.reduce((a, r) => a + f(r), 0) / res.length;
    const linPasses = cfg.engine.w4Matrices.length + (cfg.engine.wBits === 4 ? 7 * shape.nLayers : 0) + 7 * shape.nLayers;
    rows.push({
      variant: name,
      bitExact: exact,
      linearPasses: linPasses,
      cyclesPerToken: mean((r) => r.cycles),
      gemvCycles: mean((r) => r.perf.gemv),
      gemvModel: engineGemvBlockCycles(cfg, 1),
      attnCycles: mean((r) => r.perf.attn),
      otherCycles: mean((r) => r.perf.other),
      wsBytesPerToken: mean((r) => (r.wBeats * cfg.wPortBits + r.sBeats * cfg.sPortBits) / 8),
    });
  }
  const base = rows[0]!;
  const out = rows.map((r) => ({ ...r, cyclesVsW2: r.cyclesPerToken / base.cyclesPerToken, bytesVsW2: r.wsBytesPerToken / base.wsBytesPerToken }));
  report(argv, { bench: 'llm-mixed', preset: 'sim-small', steps, memory, rows: out }, () =>
    [
      `stories260K on sim-small (4 x 8 GEMV, memory latency ${memory.latency}, port-rate memory), ${steps} greedy steps from BOS, every logit checked against the golden decoder`,
      table(
        ['variant', 'bit-exact', 'linear passes', 'cycles/token', 'x W2', 'GEMV (perf)', 'GEMV model', 'attn+KV', 'other', 'w+s bytes/token', 'x W2'],
        out.map((r) => [r.variant, String(r.bitExact), r.linearPasses, r.cyclesPerToken, r.cyclesVsW2, r.gemvCycles, r.gemvModel, r.attnCycles, r.otherCycles, Math.round(r.wsBytesPerToken), r.bytesVsW2]),
      ),
    ].join('\n'),
  );
}
