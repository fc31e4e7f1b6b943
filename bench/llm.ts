/**
 * Decode-engine benchmark (docs/llm-engine.md#measured).
 *  1. stories260K on each preset in Verilator: cycles per token, where they go (GEMV / attention+KV write / other ops,
 *     from the engine's perf counters), weight-port utilisation during the linear layers and over the whole token.
 *     Every step is checked bit for bit against the golden decoder.
 *  2. A Llama-2-7B-shaped decoder layer (dim 4096, hidden 11008, 32 heads, S+W = 128) with random weights on the u280
 *     preset, simulated and checked bit for bit, then scaled to 32 layers + the 32000 x 4096 classifier at 225 MHz.
 *  3. The same layer through the AXI llmdev: 32 AXI4 readers, each on an HBM channel model (bench/llm-hbm.ts), giving
 *     `hbmTokPerS` and its ratios to the 460 GB/s (~250 tok/s) and Shuhai 425 GB/s (~231 tok/s) bounds (--no-hbm skips).
 * The memory model of each preset (latency, bytes per cycle for w + s) is applied by the driver (sim/designs/llm.ts).
 * Options: --tokens=N (stories steps per preset, default 6), --presets=a,b, --no7b, --vpar7b=N, --slotpar7b=N,
 * --group7b=N, --fifo7b=N, --prefill-block=N, --no-synth (skip the prefill resource slices), --json.
 *  4. Prefill on the 7B projection (bench/llm-prefill.ts): TTFT token by token vs prefill (dense, 2:4), prefill tok/s,
 *     MAC utilisation (cycle model), and the U280 resources of the 2:4 configuration (Yosys slices) and of the engine
 *     RTL as built (block 33 + DSP half; read from bench llm-synth7b's saved synthesis, not re-run).
 *  5. Prefill measured in the engine RTL (bench/llm-prefill-rtl.ts): stories260K on sim-small in Verilator, cycles per
 *     prompt token token by token vs prefill blocks 4 and 8 (LUT array alone and with the DSP half), at full memory rate
 *     and at 2 B/cycle (--no-rtl-prefill skips).
 */
import { loadCheckpoint } from '../generator/llm/checkpoint';
import { shapeOf, type ModelShape } from '../generator/llm/model-spec';
import { llmPresetConfig, LLM_PRESETS, type LlmEngineConfig } from '../generator/llm/engine/hw-config';
import { randomQuantModel } from '../generator/llm/engine/random';
import { GoldenDecoder } from '../generator/llm/golden/decoder';
import { quantizeModel, type QuantModel } from '../generator/llm/quant/model';
import { buildLlmSim, LlmSession, type StepResult } from '../sim/designs/llm';
import { bars, beside, writePlot } from '../host/plot';
import { fmt, plotPath, report, table } from './table';
import { argmax } from '../generator/llm/float-model';
import { runHbmLayer } from './llm-hbm';
import { asBuiltBudget, gemmCycleCheck, gemvJobCycles, prefillProjection, prefillResources } from './llm-prefill';
import { budgetTable } from './llm-synth7b';
import { engineRtlPrefill } from './llm-prefill-rtl';
import { tokenOpCycles } from '../generator/llm/prefill/cycles';

/** Shuhai's measured U280 HBM throughput (FCCM 2020) and its tok/s bound for Llama-2-7B at W2 (reference.md 5). */
const SHUHAI_GBPS = 425;
const SHUHAI_TOKS = 231;
/** Practical PCIe Gen3 x16 DMA throughput (~12 GB/s of the 15.75 GB/s raw). */
const PCIE_GEN3X16_BPS = 12e9;

const MODEL = new URL('../../shared/models/stories260K.bin', import.meta.url).pathname;
const CLOCK_MHZ = 225;
const HBM_GBPS = 460;
const CEILING_TOKS = 250;

interface Row {
  preset: string;
  tokens: number;
  bitExact: boolean;
  cyclesPerToken: number;
  gemvCycles: number;
  attnCycles: number;
  /** The prefill cycle model's attention + KV-write length per token (tokenOpCycles x layers), beside the measured. */
  attnCyclesModel: number;
  otherCycles: number;
  weightUtilLinear: number;
  weightUtilToken: number;
  /** Bytes of w + s moved / (cycles x the memory's bytes per cycle): 1.0 = the memory never idles. */
  memUtilToken: number;
  bytesPerToken: number;
  buildSeconds: number;
  simCyclesPerSecond: number;
}


async function decode(cfg: LlmEngineConfig, qm: QuantModel, steps: number, preset: string): Promise<{ rows: StepResult[]; exact: boolean; build: number; rate: number }> {
  const t0 = performance.now();
  const memory = LLM_PRESETS[preset as keyof typeof LLM_PRESETS]?.memory;
  const sim = await buildLlmSim(cfg, { bytesPerCycle: memory?.bytesPerCycle });
  const build = (performance.now() - t0) / 1000;
  const gold = new GoldenDecoder(qm);
  const ses = await LlmSession.start(sim, cfg, qm, { memory });
  const rows: StepResult[] = [];
  let exact = true;
  let tok = 1;
  const t1 = performance.now();
  let simCycles = 0;
  for (let p = 0; p < steps; p++) {
    const r = await ses.step(tok, p === 0);
    const g = gold.forward(tok, p);
    if (r.logits.some((v, j) => v !== g[j])) exact = false;
    rows.push(r);
    simCycles += r.cycles;
    tok = argmax(g);
  }
  const rate = simCycles / ((performance.now() - t1) / 1000);
  await ses.finish();
  return { rows, exact, build, rate };
}

function summarise(preset: string, cfg: LlmEngineConfig, d: Awaited<ReturnType<typeof decode>>): Row {
  const n = d.rows.length;
  const mean = (f: (r: StepResult) => number) => d.rows.reduce((a, r) => a + f(r), 0) / n;
  const w = mean((r) => r.wBeats);
  const s = mean((r) => r.sBeats);
  const aux = mean((r) => r.auxBeats);
  return {
    preset,
    tokens: n,
    bitExact: d.exact,
    cyclesPerToken: mean((r) => r.cycles),
    gemvCycles: mean((r) => r.perf.gemv),
    attnCycles: mean((r) => r.perf.attn),
    attnCyclesModel: cfg.engine.model.nLayers * (tokenOpCycles(cfg).kvw + tokenOpCycles(cfg).attn),
    otherCycles: mean((r) => r.perf.other),
    weightUtilLinear: w / mean((r) => r.perf.gemv),
    weightUtilToken: w / mean((r) => r.cycles),
    memUtilToken: (w * cfg.wPortBits + s * cfg.sPortBits) / 8 / (mean((r) => r.cycles) * memBytesPerCycle(preset.split(' ')[0]!, cfg)),
    bytesPerToken: (w * cfg.wPortBits + s * cfg.sPortBits + aux * cfg.auxBits) / 8,
    buildSeconds: d.build,
    simCyclesPerSecond: d.rate,
  };
}

/** Bytes per cycle of the preset's memory model for w + s (the port width when the model sets none). */
function memBytesPerCycle(preset: string, cfg: LlmEngineConfig): number {
  return LLM_PRESETS[preset as keyof typeof LLM_PRESETS]?.memory.bytesPerCycle ?? (cfg.wPortBits + cfg.sPortBits / cfg.gemv.stepsPerGroup) / 8;
}

export async function main(argv: string[]): Promise<void> {
  const opt = (k: string) => argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  const steps = Number(opt('tokens') ?? 6);
  const presets = (opt('presets') ?? 'sim-small,tiny,u280').split(',');
  const ckpt = loadCheckpoint(MODEL);
  const rows: Row[] = [];
  for (const preset of presets) {
    const cfg = llmPresetConfig(preset, shapeOf(ckpt.dims));
    const qm = quantizeModel(ckpt, cfg.engine, { search: 'mse' });
    rows.push(summarise(preset, cfg, await decode(cfg, qm, steps, preset)));
  }

  // ---- Llama-2-7B-shaped layer on u280 ------------------------------------------------------------------
  let proj: Record<string, unknown> | undefined;
  if (!argv.includes('--no7b')) {
    const p7 = LLM_PRESETS.u280;
    const vpar = Number(opt('vpar7b') ?? p7.hw.vpar);
    const slotPar = Number(opt('slotpar7b') ?? p7.hw.slotPar);
    const wGroup = Number(opt('group7b') ?? p7.engine.wGroup);
    const wFifo = Number(opt('fifo7b') ?? p7.hw.wFifo);
    const vocabSim = 512;
    const shape7b: ModelShape = { dim: 4096, hiddenDim: 11008, nLayers: 1, nHeads: 32, nKvHeads: 32, headDim: 128, kvDim: 4096, vocabSize: vocabSim, seqLen: 4096 };
    const over = { hw: { vpar, slotPar, wFifo }, engine: { wGroup, kvGroup: 128, sinks: 4, window: 124 } };
    const cfg = llmPresetConfig('u280', shape7b, over);
    const bpc = memBytesPerCycle('u280', cfg);
    const t0 = performance.now();
    const qm = randomQuantModel(shape7b, cfg.engine, 7);
    const genSeconds = (performance.now() - t0) / 1000;
    const d = await decode(cfg, qm, 2, 'u280');
    const r = summarise('u280 (7B layer)', cfg, d);
    const last = d.rows[d.rows.length - 1]!;
    // Cycles of the classifier GEMVs in this run (all planes) from the GEMV job model, and at the real vocab.
    const ovh = 12;
    const clsSim = cfg.clsPlanes * gemvJobCycles(cfg, vocabSim, 4096, bpc, ovh);
    const clsReal = cfg.clsPlanes * gemvJobCycles(cfg, 32000, 4096, bpc, ovh);
    // One step = prologue + 1 layer + epilogue; the epilogue's non-GEMV part is one NORM + one QUANT.
    const layerAndEnds = last.cycles;
    const layerCycles = layerAndEnds - clsSim; // prologue/epilogue nonlinear (~2 dim passes) counted in the layer: conservative
    const tokenCycles = 32 * layerCycles + clsReal;
    const tokPerS = (CLOCK_MHZ * 1e6) / tokenCycles;
    // Bytes per token at the real shape: 32 layers of W2 codes + scales, 8-bit classifier codes + 4 planes of scales.
    const layerWeights = 4 * 4096 * 4096 + 3 * 4096 * 11008;
    const bytes = 32 * (layerWeights / 4 + (layerWeights / cfg.engine.wGroup) * (cfg.engine.scaleBits / 8)) + 32000 * 4096 + cfg.clsPlanes * (32000 * 4096 / cfg.engine.wGroup);
    const bwCeiling = (HBM_GBPS * 1e9) / bytes;
    // The same layer through the real AXI readers and the HBM channel models (32 x 512 bits, bench/llm-hbm.ts).
    let hbm: Record<string, unknown> | null = null;
    if (!argv.includes('--no-hbm')) {
      const h = await runHbmLayer(cfg, 2);
      const step = h.stepCycles[h.stepCycles.length - 1]!;
      const hbmBpc = (SHUHAI_GBPS * 1e9) / (CLOCK_MHZ * 1e6);
      const hClsSim = cfg.clsPlanes * gemvJobCycles(cfg, vocabSim, 4096, hbmBpc, ovh);
      const hClsReal = cfg.clsPlanes * gemvJobCycles(cfg, 32000, 4096, hbmBpc, ovh);
      const hLayer = step - hClsSim;
      const hToken = 32 * hLayer + hClsReal;
      const hbmTokPerS = (CLOCK_MHZ * 1e6) / hToken;
      hbm = {
        masters: h.masters,
        axiBits: h.axiBits,
        simulatedStepCycles: step,
        layerCycles: hLayer,
        tokenCycles: hToken,
        hbmTokPerS,
        ratioTo460: hbmTokPerS / CEILING_TOKS,
        ratioToShuhai425: hbmTokPerS / SHUHAI_TOKS,
        layerSlowdownVsIdeal: hLayer / layerCycles,
        buildSeconds: h.buildSeconds,
      };
    }
    proj = {
      hbm,
      hbmTokPerS: hbm?.hbmTokPerS ?? null,
      vpar,
      slotPar,
      wFifo,
      wGroup,
      lanes: cfg.gemv.lanes,
      simd: cfg.gemv.simd,
      memBytesPerCycle: bpc,
      clockMHz: CLOCK_MHZ,
      hbmGBps: HBM_GBPS,
      bitExact: d.exact,
      simulatedStepCycles: layerAndEnds,
      perf: last.perf,
      wBeats: last.wBeats,
      layerCycles,
      classifierCycles: clsReal,
      tokenCycles,
      tokPerS,
      portBytesPerCycle: (cfg.wPortBits + cfg.sPortBits) / 8,
      bytesPerToken: bytes,
      // The 7B image is about the bytes read per token (every weight once); h2c write + c2h readback at ~12 GB/s.
      weightLoadSecondsGen3x16: (2 * bytes) / PCIE_GEN3X16_BPS,
      bandwidthCeilingTokPerS: bwCeiling,
      referenceCeilingTokPerS: CEILING_TOKS,
      fractionOfCeiling: tokPerS / CEILING_TOKS,
      fractionOfFormatCeiling: tokPerS / bwCeiling,
      accllm: 164,
      flightllm: 55,
      weightUtilLinear: r.weightUtilLinear,
      weightUtilToken: r.weightUtilToken,
      memUtilToken: r.memUtilToken,
      modelGenSeconds: genSeconds,
      buildSeconds: r.buildSeconds,
      simCyclesPerSecond: r.simCyclesPerSecond,
    };
  }
  // ---- prefill on the 7B projection (cycle model; token-by-token dense from the simulated step when run) ----
  const prefill = prefillProjection({ clockMHz: CLOCK_MHZ, measuredDenseTokenCycles: proj ? Number(proj.tokenCycles) : undefined, ...(opt('prefill-block') && { params: { block: Number(opt('prefill-block')) } }) });
  const prefillRes = argv.includes('--no-synth') ? null : await prefillResources();
  // the engine RTL as built (block 33 + DSP half) on the 7B shape, from bench llm-synth7b's saved synthesis
  const asBuiltRes = asBuiltBudget();
  const gemmCheck = await gemmCycleCheck(8);
  const gemmCheckShort = await gemmCycleCheck(1);
  const rtlPrefill = argv.includes('--no-rtl-prefill') ? [] : await engineRtlPrefill(shapeOf(ckpt.dims), quantizeModel(ckpt, llmPresetConfig('sim-small', shapeOf(ckpt.dims)).engine, { search: 'mse' }));
  const plot = plotPath(argv);
  if (plot) {
    // tok/s against the ceilings, and where each preset's cycles go.
    const toks = proj
      ? [
          { label: 'this engine (7B projection)', value: Number(proj.tokPerS) },
          { label: '2-bit bandwidth ceiling', value: Number(proj.referenceCeilingTokPerS) },
          { label: 'AccLLM', value: Number(proj.accllm) },
          { label: 'FlightLLM', value: Number(proj.flightllm) },
        ]
      : [];
    const cycles = rows.flatMap((r) => [
      { label: `${r.preset} GEMV`, value: r.gemvCycles },
      { label: `${r.preset} attn+KV`, value: r.attnCycles },
      { label: `${r.preset} other`, value: r.otherCycles },
    ]);
    await writePlot(plot, beside(...(toks.length ? [bars('Llama-2-7B tok/s on U280 (225 MHz, 460 GB/s)', toks, 'tok/s')] : []), bars('stories260K cycles per token', cycles, 'cycles')));
  }
  const json = {
    bench: 'llm',
    stepsPerPreset: steps,
    presets: rows,
    llama7b: proj,
    prefill: { ...prefill, resources: prefillRes, asBuiltResources: asBuiltRes },
    prefillGemmCycleCheck: [gemmCheck, gemmCheckShort],
    // the modelled separate-array design's budget (prefill.resources); the headline's is asBuiltFits
    prefillFits: prefillRes ? (prefillRes.fits as boolean) : null,
    // the built engine behind prefillSpeedup: null while the budget is a lower bound that fits (it proves nothing)
    asBuiltFits: 'missing' in asBuiltRes || (!asBuiltRes.complete && asBuiltRes.fits) ? null : asBuiltRes.fits,
    prefillSpeedup: prefill.prefillSpeedup,
    prefillMacUtilisation: prefill.prefillMacUtilisation,
    engineRtlPrefill: rtlPrefill,
    plot: plot ?? null,
  };
  report(argv, json, () => {
    const out = [
      `stories260K, ${steps} greedy steps from BOS per preset (bit-exact vs the golden decoder checked at every step)`,
      table(
        ['preset', 'bit-exact', 'cycles/token', 'GEMV', 'attn+KV', 'attn+KV model', 'other', 'w-port util (linear)', 'w-port util (token)', 'mem util (token)', 'bytes/token', 'build s', 'sim cyc/s'],
        rows.map((r) => [r.preset, String(r.bitExact), r.cyclesPerToken, r.gemvCycles, r.attnCycles, r.attnCyclesModel, r.otherCycles, r.weightUtilLinear, r.weightUtilToken, r.memUtilToken, Math.round(r.bytesPerToken), r.buildSeconds, Math.round(r.simCyclesPerSecond)]),
      ),
    ];
    if (proj) {
      const p = proj as Record<string, number | boolean | object>;
      out.push(
        `Llama-2-7B-shaped layer on u280 (lanes ${p.lanes} x simd ${p.simd}, group ${p.wGroup}, vpar ${p.vpar}, slotPar ${p.slotPar}, prefetch FIFO ${p.wFifo}, memory ${fmt(p.memBytesPerCycle as number)} B/cycle), random weights, bit-exact: ${p.bitExact}`,
        table(
          ['quantity', 'value'],
          [
            ['simulated step (1 layer + embed/final norm + 512-row classifier)', p.simulatedStepCycles as number],
            ['  of which GEMV / attn+KV / other', JSON.stringify(p.perf)],
            ['layer cycles', p.layerCycles as number],
            ['classifier cycles (32000 x 4096, 4 planes)', p.classifierCycles as number],
            ['token cycles (32 layers + classifier)', p.tokenCycles as number],
            [`tok/s at ${CLOCK_MHZ} MHz (ideal flat memory, 2,044 B/cycle, fixed latency)`, p.tokPerS as number],
            ...(p.hbm
              ? ([
                  ['HBM: simulated step through 32 AXI4 readers + HBM channel models', (p.hbm as Record<string, number>).simulatedStepCycles!],
                  ['HBM: layer cycles (vs ideal memory)', `${(p.hbm as Record<string, number>).layerCycles} (x${fmt((p.hbm as Record<string, number>).layerSlowdownVsIdeal!)})`],
                  [`HBM: tok/s at ${CLOCK_MHZ} MHz`, (p.hbm as Record<string, number>).hbmTokPerS!],
                  ['HBM: ratio to the 460 GB/s ceiling (~250 tok/s)', (p.hbm as Record<string, number>).ratioTo460!],
                  ["HBM: ratio to Shuhai's 425 GB/s (~231 tok/s, the achievable bound)", (p.hbm as Record<string, number>).ratioToShuhai425!],
                ] as Array<[string, number | string]>)
              : []),
            ['weight-port util (linear / token)', `${fmt(p.weightUtilLinear as number)} / ${fmt(p.weightUtilToken as number)}`],
            ['memory-bandwidth util (simulated step)', p.memUtilToken as number],
            [`bandwidth ceiling at ${HBM_GBPS} GB/s (this format)`, p.bandwidthCeilingTokPerS as number],
            ['fraction of the ~250 tok/s ceiling', p.fractionOfCeiling as number],
            ['fraction of this format\'s own ceiling', p.fractionOfFormatCeiling as number],
            ['AccLLM / FlightLLM (U280, paper)', '164 / 55'],
            ['7B weight image load + verify at PCIe Gen3 x16 (~12 GB/s), s', p.weightLoadSecondsGen3x16 as number],
          ],
        ),
      );
    }
    const pr = (k: 'dense' | 'sparse') => prefill[k];
    const eb = prefill.engineAsBuilt;
    out.push(
      `Prefill, Llama-2-7B projection on u280, the engine RTL as built (2:4 area, block ${eb[0]!.block} per group; the block time from cycles.ts, checked against the RTL on sim-small below), ${prefill.promptTokens}-token prompt, ${CLOCK_MHZ} MHz`,
      table(
        ['groups in flight', 'array', 'TTFT, s', 'speedup vs token by token dense', 'prefill tok/s', 'peak products / cycle', 'MAC utilisation', 'on-chip Mbit / budget'],
        eb.map((e) => [e.prefillGroups, e.prefillDsp ? `LUT + DSP half (${e.dsps} DSPs)` : 'LUT', e.ttftS, e.speedupVsTokenByToken, e.prefillTokPerS, e.peakProducts, e.macUtilisation, `${fmt(e.onChipMbit)} / ${fmt(e.onChipBudgetMbit)}`]),
      ),
      `prefillSpeedup ${fmt(prefill.prefillSpeedup)} (2 groups + DSP half), prefillMacUtilisation ${fmt(prefill.prefillMacUtilisation)}; the modelled separate DSP array below: ${fmt(prefill.modelledArray.prefillSpeedup)} / ${fmt(prefill.modelledArray.prefillMacUtilisation)}`,
    );
    out.push(
      `Prefill, Llama-2-7B projection on u280, the modelled design (a separate DSP GEMM array splitting rows with the LUT array; cycle model, not built): ${prefill.promptTokens}-token prompt, block ${prefill.params.block}, LUT array + ${pr('sparse').dsps} DSP48E2 (2 tokens each), ${CLOCK_MHZ} MHz`,
      table(
        ['quantity', 'dense', '2:4'],
        [
          ['token-by-token cycles per prompt token', pr('dense').decodeTokenCycles as number, pr('sparse').decodeTokenCycles as number],
          ['  source', pr('dense').decodeTokenSource as string, pr('sparse').decodeTokenSource as string],
          ['TTFT token by token, s', pr('dense').ttftTokenByTokenS as number, pr('sparse').ttftTokenByTokenS as number],
          ['TTFT prefill, s', pr('dense').ttftPrefillS as number, pr('sparse').ttftPrefillS as number],
          ['prefill tok/s', pr('dense').prefillTokPerS as number, pr('sparse').prefillTokPerS as number],
          ['peak products per cycle (LUT + DSP)', `${pr('dense').lutProducts} + ${pr('dense').dspProducts}`, `${pr('sparse').lutProducts} + ${pr('sparse').dspProducts}`],
          ['MAC utilisation (products / peak x TTFT cycles)', pr('dense').macUtilisation as number, pr('sparse').macUtilisation as number],
          ['on-chip activation storage / left, Mbit', `${fmt(pr('dense').storageMbit as number)} / ${fmt(pr('dense').storageBudgetMbit as number)}`, `${fmt(pr('sparse').storageMbit as number)} / ${fmt(pr('sparse').storageBudgetMbit as number)}`],
          ['speedup vs token by token (same weights)', pr('dense').speedupVsTokenByToken as number, pr('sparse').speedupVsTokenByToken as number],
          ['speedup, token-by-token dense / this design 2:4', '', prefill.modelledArray.prefillSpeedup],
          ...[gemmCheck, gemmCheckShort].map((g) => [`GEMM RTL row block (${g.colSteps} steps x ${g.tokens} tokens): Verilator / model cycles`, '', `${g.measured} / ${g.model}`]),
        ],
      ),
    );
    if (prefillRes) {
      const b = prefillRes as { parts: Record<string, { luts: number; ffs: number; dsp: number }>; shell: { luts: number; ffs: number; dsp: number }; total: { luts: number; ffs: number; dsp: number }; fraction: { luts: number; ffs: number; dsp: number }; fits: boolean };
      out.push(
        'Resources of the 2:4 decode + prefill configuration on the XCU280 (Yosys synth_xilinx -family xcup)',
        table(
          ['part', 'LUT', 'FF', 'DSP'],
          [
            ...Object.entries(b.parts).map(([k, c]) => [k, c.luts, c.ffs, c.dsp] as Array<string | number>),
            ['shell share (10% of the part, UG1393)', b.shell.luts, b.shell.ffs, b.shell.dsp],
            ['total', b.total.luts, b.total.ffs, b.total.dsp],
            ['fraction of the XCU280', b.fraction.luts, b.fraction.ffs, b.fraction.dsp],
            ['fits', String(b.fits), '', ''],
          ],
        ),
      );
    }
    out.push(
      'missing' in asBuiltRes
        ? `Resources of the engine RTL as built (7B shape, two groups of 33 + DSP half): ${asBuiltRes.missing}`
        : `Resources of the engine RTL as built on the XCU280 (7B shape, 2:4 area, two groups of 33 + DSP half; bench llm-synth7b's saved Yosys run, ${fmt(asBuiltRes.yosysSeconds.total)} s)\n${budgetTable(asBuiltRes)}`,
    );
    if (rtlPrefill.length)
      out.push(
        `Prefill measured in the engine RTL (LUT GEMV array, alone and with the DSP half): stories260K, sim-small, ${rtlPrefill[0]!.promptTokens}-token prompt (S + W = 12), memory latency ${rtlPrefill[0]!.memLatency}, Verilator, every block's logits checked against the golden decoder`,
        table(
          ['block', 'groups in flight', 'array', 'memory B/cycle (w + s)', 'cycles / prompt token, token by token', 'cycles / prompt token, prefill', '  of which GEMV / attn+KV / other', 'GEMV model (cycles.ts)', 'block model (cycles.ts)', 'speedup', 'bit-exact'],
          rtlPrefill.map((r) => [r.block, r.prefillGroups, r.prefillDsp ? 'LUT + DSP half' : 'LUT', r.memBytesPerCycle ?? 'full (one word per port per cycle)', r.tokenByTokenCyclesPerToken, r.cyclesPerPromptToken, `${fmt(r.prefillPerf.gemv)} / ${fmt(r.prefillPerf.attn)} / ${fmt(r.prefillPerf.other)}`, r.gemvModelCyclesPerPromptToken ?? '', r.blockModelCyclesPerPromptToken ?? '', r.speedup, String(r.bitExact)]),
        ),
      );
    return out.join('\n');
  });
  void fmt;
}
