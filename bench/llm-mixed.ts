/**
 * `npm run bench -- llm-mixed [--model FILE] [--sequences N] [--json]`: what mixed precision buys and costs
 * (docs/llm-fidelity.md "Mixed precision"). Fidelity: top-1 / KL / perplexity of the shipped QAT models (uniform W2,
 * mixed W2 + W4, uniform W4) on `llm eval`'s default sequences at full attention. Cost: a 4-bit matrix runs as two
 * 2-bit planes through the W2 GEMV (docs/llm-engine.md#mixed-precision), so it streams its W2 words again and takes
 * a second pass. Here that cost comes from the engine's cycle model (prefill/cycles.ts: GEMV passes from the array
 * geometry, vector/attention op lengths from the RTL table; per token the larger of GEMV cycles and the memory time
 * of the w + s bytes, plus the vector ops), for stories260K on each preset; `bench llm-mixed-rtl` measures the
 * two-plane engine in Verilator (sim-small: the model reads 2-3% above its perf counter). Uniform W4 is priced the
 * same way (every matrix twice).
 */
import { resolve } from 'node:path';
import { evaluate, EVAL_DEFAULTS, type EvalSetting } from '../generator/llm/eval';
import { llmPresetConfig, presetNamed, type LlmEngineConfig } from '../generator/llm/engine/hw-config';
import { loadModel } from '../generator/llm/model-file';
import { engineConfig, expandW4Spec, linearDims, shapeOf, type LinearMat } from '../generator/llm/model-spec';
import { engineGemvBlockCycles, engineGemvPassCycles, vectorCyclesPerToken } from '../generator/llm/prefill/cycles';
import { w4Cost } from '../generator/llm/quant/mixed-search';
import { shippedQuantModels } from '../generator/llm/qat/shipped';
import { gemvJobBytes, tokenBytes } from './llm-prefill';
import { report, table } from './table';

const arg = (argv: string[], name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

const PRESETS = ['sim-small', 'tiny', 'u280'] as const;
const CLOCK_MHZ = 225;

/** Decode cost of a W2 model with `w4` matrices as second 2-bit planes, on one preset (cycle model). */
export function mixedDecodeCost(preset: string, cfg: LlmEngineConfig, w4: readonly string[]) {
  const m = cfg.engine.model;
  const dims = (n: string) => linearDims(m, n.split('.')[1] as LinearMat);
  const extraGemv = w4.reduce((a, n) => a + engineGemvPassCycles(cfg, ...dims(n), 1), 0);
  const extraBytes = w4.reduce((a, n) => a + gemvJobBytes(cfg, ...dims(n)).bytes, 0);
  const bpc = presetNamed(preset).memory.bytesPerCycle;
  const gemv = engineGemvBlockCycles(cfg, 1) + extraGemv;
  const bytes = tokenBytes(cfg) + extraBytes;
  const cycles = Math.max(gemv, bpc ? bytes / bpc : 0) + vectorCyclesPerToken(cfg);
  return { gemvCycles: gemv, bytesPerToken: bytes, cyclesPerToken: cycles };
}

export async function main(argv: string[]): Promise<void> {
  const model = arg(argv, '--model') ?? resolve(process.cwd(), '../shared/models/stories260K.bin');
  const sequences = Number(arg(argv, '--sequences') ?? EVAL_DEFAULTS.sequences);
  const { ckpt } = await loadModel(model);
  const shape = shapeOf(ckpt.dims);
  const shipped = shippedQuantModels(ckpt);
  const w2 = shipped.find((f) => f.wBits === 2 && !f.w4Matrices.length);
  const w4 = shipped.find((f) => f.wBits === 4);
  const mixed = shipped.filter((f) => f.wBits === 2 && f.w4Matrices.length);
  if (!w2 || !w4 || !mixed.length) throw new Error(`bench llm-mixed needs the shipped W2, W4 and mixed QAT models of ${model} in models/`);
  const all = expandW4Spec('*.*', shape.nLayers);
  const models = [
    { name: 'W2 QAT', file: w2, w4: [] as readonly string[] },
    ...mixed.map((f) => ({ name: `W2 + W4[${f.w4Matrices.length}] QAT`, file: f, w4: f.w4Matrices })),
    { name: 'W4 QAT (as two W2 planes)', file: w4, w4: all },
  ];
  const length = EVAL_DEFAULTS.length;
  const full = length - 4;
  const settings: EvalSetting[] = models.map((x) => ({ scheme: x.file.wBits === 4 ? 'W4A8KV4' : 'W2A8KV4', group: x.file.wGroup, sinks: 4, window: full, search: 'gptq', calibrated: true, quant: x.file.path }));
  const t0 = performance.now();
  const rows = evaluate(ckpt, settings, { ...EVAL_DEFAULTS, sequences, length });
  const evalSeconds = (performance.now() - t0) / 1000;
  const cfgs = PRESETS.map((p) => ({ preset: p, cfg: llmPresetConfig(p, shape) }));
  const w2Bits = engineConfig(shape, { wBits: 2 });
  const out = models.map((x, i) => {
    const r = rows[i]!;
    const cost = cfgs.map((c) => ({ preset: c.preset, ...mixedDecodeCost(c.preset, c.cfg, x.w4) }));
    const base = cfgs.map((c) => mixedDecodeCost(c.preset, c.cfg, []));
    return {
      name: x.name,
      file: x.file.path,
      w4Matrices: x.w4,
      extraLinearBytesFrac: w4Cost(w2Bits, x.w4).extraBytes / w4Cost(w2Bits, []).baseBytes,
      top1: r.top1,
      meanKl: r.meanKl,
      ppl: r.ppl,
      perPreset: cost.map((c, k) => ({ ...c, bytesRatio: c.bytesPerToken / base[k]!.bytesPerToken, tokPerSRatio: base[k]!.cyclesPerToken / c.cyclesPerToken, ...(c.preset === 'u280' && { tokPerSAt225MHz: (CLOCK_MHZ * 1e6) / c.cyclesPerToken }) })),
    };
  });
  const w2Row = out[0]!;
  const result = { model, sequences, length, window: full, evalSeconds, costModel: 'cycle model (prefill/cycles.ts), each 4-bit matrix = a second W2 pass and its W2 words again', models: out.map((o) => ({ ...o, klRemoved: w2Row.meanKl - o.meanKl })) };
  report(argv, result, () => {
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    return (
      `fidelity: llm eval sequences (seed ${EVAL_DEFAULTS.seed}, ${sequences} x ${length}, S=4 W=${full}); cost: ${result.costModel}\n` +
      table(
        ['model', 'extra linear bytes', 'top-1', 'mean KL', 'KL removed', 'ppl', ...PRESETS.flatMap((p) => [`${p} cycles/tok`, `${p} tok/s ratio`]), 'u280 bytes/tok'],
        result.models.map((o) => [
          o.name,
          pct(o.extraLinearBytesFrac),
          pct(o.top1),
          o.meanKl.toFixed(3),
          o.klRemoved.toFixed(3),
          o.ppl.toFixed(1),
          ...o.perPreset.flatMap((c) => [String(Math.round(c.cyclesPerToken)), c.tokPerSRatio.toFixed(3)]),
          String(Math.round(o.perPreset[2]!.bytesPerToken)),
        ]),
      )
    );
  });
}
