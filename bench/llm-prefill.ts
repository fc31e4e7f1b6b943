/**
 * Prefill on the Llama-2-7B projection (docs/llm-engine.md#prefill): time to first token for a 1,000-token prompt,
 * token by token against prefill (dense and 2:4), prefill tokens per second and the array's MAC utilisation, from
 * the prefill cycle model (generator/llm/prefill/cycles.ts) of the U280 configuration (LUT array + DSP48E2 array).
 * Token-by-token dense uses the decode engine's simulated token cycles when the caller has them (bench llm's 7B
 * layer run), otherwise the memory bound; token-by-token 2:4 uses the memory bound of the 2:4 bytes (both are the
 * fastest token-by-token can be, so the speedups are not inflated by a slow baseline).
 */
import { llmPresetConfig, LLM_PRESETS, type LlmEngineConfig } from '../generator/llm/engine/hw-config';
import type { ModelShape } from '../generator/llm/model-spec';
import { prefillConfig, U280_PREFILL, type PrefillParams } from '../generator/llm/prefill/config';
import { engineGemvBlockCycles, engineGroupsBlockCycles, prefillCycles, tokenOpCycles, vectorCyclesPerToken } from '../generator/llm/prefill/cycles';
import { engineBudget, type EngineBudget, type SavedEngineSynth } from '../generator/llm/prefill/resources';
import { engineTopDspCensus } from '../generator/llm/engine/synth';
import { existsSync, readFileSync } from 'node:fs';

export const LLAMA7B: ModelShape = { dim: 4096, hiddenDim: 11008, nLayers: 32, nHeads: 32, nKvHeads: 32, headDim: 128, kvDim: 4096, vocabSize: 32000, seqLen: 4096 };
const ENGINE_7B = { kvGroup: 128, sinks: 4, window: 124 } as const;

/**
 * The engine RTL as built on the 7B shape: u280 preset, 2:4 `area`, prefill blocks of `block` tokens per group, the
 * DSP half on or off, two groups in flight unless `hw.prefillGroups` says 1.
 */
export const asBuiltConfig = (block: number, prefillDsp = true, hw: { slotPar?: number; prefillGroups?: number; vpar?: number } = {}): LlmEngineConfig =>
  llmPresetConfig('u280', LLAMA7B, { engine: { ...ENGINE_7B, wSparsity: '2:4' }, hw: { prefillBlock: block, prefillDsp, prefillGroups: 2, ...hw } });

/**
 * Per-group block of the as-built engine in the 7B projection and its XCU280 synthesis (33 = 11 steps of the DSP
 * half's 3 tokens per held word).
 */
export const AS_BUILT_SYNTH_BLOCK = 33;
/** Where bench/llm-synth7b.ts saves its per-unit synthesis of asBuiltConfig(AS_BUILT_SYNTH_BLOCK). */
export const AS_BUILT_SYNTH_FILE = new URL('./results/llm-synth7b.json', import.meta.url).pathname;

/** The saved synthesis of the as-built 7B engine, or null when none has been run. */
export function loadAsBuiltSynth(file = AS_BUILT_SYNTH_FILE): SavedEngineSynth | null {
  if (!existsSync(file)) return null;
  const s = JSON.parse(readFileSync(file, 'utf8')) as SavedEngineSynth;
  if (s.version !== 1) throw new Error(`${file}: unknown version ${String(s.version)}`);
  return s;
}

/** XCU280 budget of the saved as-built synthesis (null when none, or an error message when incomplete or stale). */
export function asBuiltBudget(file = AS_BUILT_SYNTH_FILE): EngineBudget | { missing: string } {
  const saved = loadAsBuiltSynth(file);
  if (!saved) return { missing: `no saved synthesis (${file}): run \`npm run bench -- llm-synth7b --run\`` };
  const cfg = asBuiltConfig(AS_BUILT_SYNTH_BLOCK);
  const label = `Llama-2-7B shape, block ${AS_BUILT_SYNTH_BLOCK}`;
  try {
    return engineBudget(saved, cfg, label);
  } catch (e) {
    // without the top the GEMV unit, on-chip bits and shell still bound the total from below
    if (/no engine top|two slotPar/.test((e as Error).message)) {
      try {
        return engineBudget(saved, cfg, label, { withoutTop: true, topDspCensus: engineTopDspCensus(cfg).dsp });
      } catch {
        // fall through to the message
      }
    }
    return { missing: `${(e as Error).message} (\`npm run bench -- llm-synth7b --run\`)` };
  }
}

/**
 * Cycles of one GEMV job whose x is already loaded: the weight words, or the bytes of its w + s words at the
 * memory's rate when that is slower, plus a fixed per-job overhead.
 */
export const gemvJobCycles = (cfg: LlmEngineConfig, rows: number, cols: number, bytesPerCycle: number, overhead: number) => {
  const { words, bytes } = gemvJobBytes(cfg, rows, cols);
  return Math.max(words, bytes / bytesPerCycle) + overhead;
};

/** Weight words of one 2-bit GEMV job (rows x cols) and the bytes of its w + s words. */
export function gemvJobBytes(cfg: LlmEngineConfig, rows: number, cols: number): { words: number; bytes: number } {
  const words = Math.ceil(rows / cfg.gemv.lanes) * Math.ceil(cols / cfg.engine.wGroup) * cfg.gemv.stepsPerGroup;
  return { words, bytes: (words * cfg.wPortBits + (words / cfg.gemv.stepsPerGroup) * cfg.sPortBits) / 8 };
}

/** Bytes of w + s a decode step streams (all-W2 layers + classifier planes). */
export function tokenBytes(cfg: LlmEngineConfig): number {
  const m = cfg.engine.model;
  let words = 0;
  const job = (rows: number, cols: number) => gemvJobBytes(cfg, rows, cols).words;
  words += m.nLayers * (2 * job(m.dim, m.dim) + 2 * job(m.kvDim, m.dim) + 2 * job(m.hiddenDim, m.dim) + job(m.dim, m.hiddenDim));
  words += cfg.clsPasses * job(m.vocabSize, m.dim);
  return (words * cfg.wPortBits + (words / cfg.gemv.stepsPerGroup) * cfg.sPortBits) / 8;
}

export interface PrefillProjection {
  promptTokens: number;
  clockMHz: number;
  params: PrefillParams;
  dense: Record<string, number | string>;
  sparse: Record<string, number | string>;
  /**
   * TTFT token-by-token dense / TTFT prefill + 2:4 on the engine RTL as built: two groups in flight, the DSP half,
   * block `engineBlock` per group (engineAsBuilt's best row; the RTL is bit-exact in Verilator and its block time is
   * engineGroupsBlockCycles, checked against the RTL by engineRtlPrefill).
   */
  prefillSpeedup: number;
  /** The same pair of figures for the modelled design (a separate DSP GEMM array splitting rows; not built). */
  modelledArray: { prefillSpeedup: number; prefillMacUtilisation: number };
  /** TTFT token-by-token 2:4 / TTFT prefill + 2:4. */
  prefillSpeedupVsSparseDecode: number;
  prefillMacUtilisation: number;
  prefillTokPerS: number;
  opCycles: ReturnType<typeof tokenOpCycles>;
  /** The engine RTL as built (one block at a time, LUT array + DSP half, vector work not overlapped), same prompt. */
  engineAsBuilt: ReturnType<typeof engineAsBuiltProjection>;
}

/** Useful 2:4 products of an n-token 7B prompt (half of every linear layer's MACs). */
export const promptProducts = (n: number): number => {
  const m = LLAMA7B;
  return n * m.nLayers * (2 * m.dim * m.dim + 2 * m.kvDim * m.dim + 3 * m.hiddenDim * m.dim) * 0.5;
};

/**
 * Cycles of an n-token prompt on the engine RTL as built, block by block: two groups in flight by the two queues'
 * event model (engineGroupsBlockCycles); one group as its GEMVs (or the weight pass's memory time) and then every
 * token's vector work in series.
 */
export function promptCycles(cfg: LlmEngineConfig, n: number): number {
  const bpc = LLM_PRESETS.u280.memory.bytesPerCycle!;
  const perBlock = (k: number) =>
    cfg.hw.prefillGroups > 1 ? engineGroupsBlockCycles(cfg, k, bpc).cycles : Math.max(engineGemvBlockCycles(cfg, k), tokenBytes(cfg) / bpc) + k * vectorCyclesPerToken(cfg);
  let cycles = 0;
  for (let t = 0; t < n; t += cfg.blockTokens) cycles += perBlock(Math.min(cfg.blockTokens, n - t));
  return cycles;
}

/**
 * TTFT of the engine RTL as built (docs/llm-engine.md#the-dsp-half-in-the-engine) on the 7B shape: blocks of `block`
 * tokens one at a time, each block's GEMV time from engineGemvBlockCycles (checked against the RTL's perf counter by
 * engineRtlPrefill) or the weight pass's memory time if longer, plus every token's vector and attention ops in series.
 */
export function engineAsBuiltProjection(n: number, block: number, clockHz: number, tokenByTokenCycles: number) {
  const products = promptProducts(n);
  const rows = ([1, 2] as const).flatMap((groups) => ([false, true] as const).map((dsp) => {
    const cfg = asBuiltConfig(block, dsp, { prefillGroups: groups });
    const cycles = promptCycles(cfg, n);
    const kept = cfg.gemv.lanes * cfg.gemv.macsPerLane;
    const peakProducts = kept * cfg.gemv.tokensPerStep;
    return {
      prefillGroups: groups, prefillDsp: dsp, block, cycles, ttftS: cycles / clockHz, speedupVsTokenByToken: (n * tokenByTokenCycles) / cycles,
      dsps: dsp ? kept : 0, peakProducts, macUtilisation: products / (peakProducts * cycles), prefillTokPerS: n / (cycles / clockHz),
      onChipMbit: cfg.onChipBits / 2 ** 20, onChipBudgetMbit: cfg.hw.onChipBudgetBits / 2 ** 20,
    };
  }));
  return rows;
}

export function prefillProjection(opts: { promptTokens?: number; clockMHz: number; measuredDenseTokenCycles?: number; params?: Partial<PrefillParams>; engineBlock?: number }): PrefillProjection {
  const n = opts.promptTokens ?? 1000;
  const bpc = LLM_PRESETS.u280.memory.bytesPerCycle!;
  const clockHz = opts.clockMHz * 1e6;
  const row = (sparse: boolean) => {
    const cfg = llmPresetConfig('u280', LLAMA7B, { engine: { ...ENGINE_7B, ...(sparse && { wSparsity: '2:4' as const }) } });
    const pc = prefillConfig(cfg, opts.params);
    const clsCycles = cfg.clsPasses * gemvJobCycles(cfg, LLAMA7B.vocabSize, LLAMA7B.dim, bpc, 12);
    const est = prefillCycles(pc, cfg, n, { bytesPerCycle: bpc, clsCycles, clockHz });
    const bound = tokenBytes(cfg) / bpc;
    const measured = !sparse && opts.measuredDenseTokenCycles ? opts.measuredDenseTokenCycles : undefined;
    const tbtToken = measured ?? bound;
    return {
      decodeTokenCycles: tbtToken,
      decodeTokenSource: measured ? 'Verilator 7B layer x 32 + classifier model (bench llm)' : 'memory bound (bytes / 2,044 B per cycle)',
      ttftTokenByTokenS: (n * tbtToken) / clockHz,
      ttftPrefillS: est.cycles / clockHz,
      prefillCycles: est.cycles,
      arrayBusyCycles: est.arrayBusy,
      arrayWaitCycles: est.arrayWait,
      lastTokenTailCycles: est.tailCycles,
      prefillTokPerS: est.tokPerS,
      macUtilisation: est.macUtilisation,
      arrayUtilisation: est.arrayUtilisation,
      peakProductsPerCycle: pc.peakProducts,
      lutProducts: pc.lut.products,
      dspProducts: pc.dsp.products,
      dsps: pc.dsp.dsps,
      storageMbit: pc.storageBits / 2 ** 20,
      storageBudgetMbit: pc.storageBudgetBits / 2 ** 20,
      speedupVsTokenByToken: (n * tbtToken) / est.cycles,
    };
  };
  const dense = row(false);
  const sparse = row(true);
  const cfg = llmPresetConfig('u280', LLAMA7B, { engine: ENGINE_7B });
  const engineAsBuilt = engineAsBuiltProjection(n, opts.engineBlock ?? AS_BUILT_SYNTH_BLOCK, clockHz, dense.decodeTokenCycles);
  const best = engineAsBuilt.find((r) => r.prefillGroups === 2 && r.prefillDsp)!;
  return {
    promptTokens: n,
    clockMHz: opts.clockMHz,
    params: { ...U280_PREFILL, ...opts.params },
    dense,
    sparse,
    prefillSpeedup: (n * dense.decodeTokenCycles) / best.cycles,
    modelledArray: { prefillSpeedup: dense.ttftTokenByTokenS / sparse.ttftPrefillS, prefillMacUtilisation: sparse.macUtilisation },
    prefillSpeedupVsSparseDecode: (n * sparse.decodeTokenCycles) / best.cycles,
    prefillMacUtilisation: best.macUtilisation,
    prefillTokPerS: best.prefillTokPerS,
    opCycles: tokenOpCycles(cfg),
    engineAsBuilt,
  };
}

/**
 * Resources of the 2:4 configuration behind prefillSpeedup: the LUT GEMV array (the decode unit, 2:4 'area') and the
 * prefill GEMM on the DSP array (datapath + controller + per-token accumulators) synthesised at two lane counts each
 * and extrapolated per lane; the LUT array's prefill accumulators estimated; the engine top as last synthesised
 * (docs/llm-engine.md#synthesis: the stories260K-shaped top, 1,491 s of Yosys, not repeated here); the shell's 10%.
 */
export async function prefillResources(): Promise<Record<string, unknown>> {
  const { synthesize } = await import('../generator/flow/synth');
  const { printDesign } = await import('../generator/hdl');
  const { gemvModule } = await import('../generator/llm/gemv/rtl');
  const { gemvConfig } = await import('../generator/llm/gemv/config');
  const { prefillGemmModule } = await import('../generator/llm/prefill/gemm');
  const { budget, extrapolate } = await import('../generator/llm/prefill/resources');
  const cfg = llmPresetConfig('u280', LLAMA7B, { engine: { ...ENGINE_7B, wSparsity: '2:4' } });
  const pc = prefillConfig(cfg);
  const t0 = performance.now();
  const slice = async (mod: Parameters<typeof printDesign>[0], lanes: number) => {
    const d = printDesign(mod);
    const r = await synthesize(d.files, d.top, 'xcup');
    return { lanes, r: { luts: r.luts, ffs: r.ffs, dsp: r.dsp } };
  };
  const lutAt = [2, 4].map((l) => gemvModule(gemvConfig({ ...cfg.gemv, lanes: l }), 'gemv_slice'));
  // the GEMM unit (datapath, controller, per-token accumulators); its x buffer is sized for one group of columns here
  // (the real one, 2 x block x hidden int8, is in the on-chip storage count)
  const gemmAt = (lanes: number) =>
    prefillGemmModule({ lanes, dspPerLane: pc.params.dspPerLane, sparse: true, tokens: pc.params.block, group: cfg.engine.wGroup, scaleBits: cfg.engine.scaleBits, accBits: 32, maxCols: cfg.engine.wGroup, maxRows: LLAMA7B.hiddenDim }, 'gemm_slice');
  const dspAt = [gemmAt(2), gemmAt(4)];
  const lut = [await slice(lutAt[0]!, 2), await slice(lutAt[1]!, 4)] as const;
  const dsp = [await slice(dspAt[0]!, 2), await slice(dspAt[1]!, 4)] as const;
  const parts = {
    'LUT GEMV array (2:4 area, 128 lanes; synthesised 2 + 4 lanes, extrapolated)': extrapolate(lut[0], lut[1], pc.lut.lanes),
    [`DSP array GEMM (${pc.dsp.lanes} lanes x ${pc.params.dspPerLane}, block ${pc.params.block}; synthesised 2 + 4 lanes, extrapolated)`]: extrapolate(dsp[0], dsp[1], pc.dsp.lanes),
    // not built: the LUT array's per-token accumulators in prefill (lanes x block x 32 bits as LUTRAM, 64 bits per LUT)
    'LUT array per-token accumulators (not built; estimated as LUTRAM)': { luts: Math.ceil((pc.lut.lanes * pc.params.block * 32) / 64), ffs: 0, dsp: 0 },
    // LUTs / FFs: the stories260K-shaped top stands in (a lower bound); DSPs: the census of the 7B top's multipliers
    'engine top: LUT / FF of the stories260K-shaped top (docs/llm-engine.md#synthesis, not re-run; a lower bound), DSP the census of the 7B top': { luts: 99_273, ffs: 6_639, dsp: engineTopDspCensus(cfg).dsp },
  };
  const b = budget(parts);
  return { ...b, slices: { lut, dsp }, onChipMbit: { prefillStorage: pc.storageBits / 2 ** 20, leftAfterDecodeEngine: pc.storageBudgetBits / 2 ** 20 }, synthSeconds: (performance.now() - t0) / 1000 };
}

/**
 * The cycle model's DSP row-block length against the GEMM RTL in Verilator: a 4-lane x dspPerLane slice, one block
 * of tokens, `steps` column steps, 6 row blocks, no stalls; the steady-state spacing of the row blocks' last
 * outputs (steps 1: a row block shorter than its output phase).
 */
export async function gemmCycleCheck(steps = 8): Promise<{ measured: number; model: number; tokens: number; colSteps: number }> {
  const { printDesign } = await import('../generator/hdl');
  const { buildSim } = await import('../sim');
  const { prefillGemmModule, prefillGemmGeometry } = await import('../generator/llm/prefill/gemm');
  const { rowBlockCycles } = await import('../generator/llm/prefill/cycles');
  const p = U280_PREFILL;
  const c = { lanes: 4, dspPerLane: p.dspPerLane, sparse: true, tokens: p.block, group: 64, scaleBits: 8, accBits: 32, maxCols: 64 * Math.max(8, steps), maxRows: 64 };
  const g = prefillGemmGeometry(c);
  const mod = prefillGemmModule(c);
  const d = printDesign(mod);
  const sim = await buildSim({ iface: mod.interface(), files: d.files });
  const rbs = 6;
  // all-zero codes with a valid pattern (0) and zero x: the timing does not depend on values
  const r = await sim.run({
    inputs: { job: [BigInt(steps) | (BigInt(rbs) << BigInt(g.colStepBits))], x: new Array(steps * g.pairs).fill(0n), w: new Array(steps * rbs).fill(0n), s: new Array(rbs * (steps / g.stepsPerGroup)).fill(0n) },
    outputs: { y: rbs * c.tokens },
  });
  const ends = Array.from({ length: rbs }, (_, k) => r.outputs.y!.cycles[(k + 1) * c.tokens - 1]!);
  const measured = (ends[rbs - 1]! - ends[1]!) / (rbs - 2);
  return { measured, model: rowBlockCycles.dsp(steps, c.tokens), tokens: c.tokens, colSteps: steps };
}
