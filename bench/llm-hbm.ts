/**
 * The Llama-2-7B-shaped layer on the u280 AXI llmdev: 32 AXI4 read masters x 512 bits at 225 MHz, each on its own
 * HBM pseudo-channel model (sim/designs/hbm.ts: Shuhai-derived efficiency, page latency, PG276 refresh).
 * The channel models run timing-only (addresses wrap at a small depth, so the 7B image need not be loaded and the
 * logits are not meaningful); the engine's schedule, and so its cycle count, does not depend on the weight values.
 * Bit-exactness of the same readers and model is checked on stories260K (tests/host/llm-device-hbm.test.ts).
 */
import type { ModelShape } from '../generator/llm/model-spec';
import { llmPresetConfig, type LlmEngineConfig } from '../generator/llm/engine/hw-config';
import { llmDeviceConfig } from '../generator/llm/device/layout';
import { llmDeviceModule } from '../generator/llm/device/sequencer';
import { printDesign } from '../generator/hdl';
import { buildSim } from '../sim';
import { hbmSimTop } from '../sim/designs/llmdev-hbm';

export interface HbmLayerRun {
  masters: number;
  axiBits: number;
  stepCycles: number[];
  buildSeconds: number;
  pcBytes: number;
}

export async function runHbmLayer(cfg: LlmEngineConfig, steps = 2): Promise<HbmLayerRun> {
  const d = llmDeviceConfig(cfg, { latency: 1, mem: 'axi', hbm: { masters: 32, axiBits: 512 } });
  const top = hbmSimTop(d, llmDeviceModule(d), { timingOnlyDepth: 4096 });
  const t0 = performance.now();
  const sim = await buildSim({ iface: top.interface(), files: printDesign(top).files });
  const buildSeconds = (performance.now() - t0) / 1000;
  const run = await sim.start({ seed: 1, maxCycles: 1e10, idleCycles: 1e7 });
  const stepCycles: number[] = [];
  try {
    run.set('logits_en', 0);
    for (let p = 0; p < steps; p++) {
      await run.push('tok', [1n | (p === 0 ? 1n << BigInt(d.idBits) : 0n)]);
      await run.collect('next', 1);
      stepCycles.push(Number(await run.read('step_cycles')));
    }
  } finally {
    await run.finish();
  }
  return { masters: 32, axiBits: 512, stepCycles, buildSeconds, pcBytes: d.hbm!.pcBytes };
}

export const shape7bLayer = (vocab: number): ModelShape => ({ dim: 4096, hiddenDim: 11008, nLayers: 1, nHeads: 32, nKvHeads: 32, headDim: 128, kvDim: 4096, vocabSize: vocab, seqLen: 4096 });
export { llmPresetConfig };
