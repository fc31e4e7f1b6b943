/**
 * The engine RTL as built, on the Llama-2-7B shape, inside the XCU280 (docs/llm-engine.md#resources-the-engine-as-built-on-the-xcu280):
 * u280 preset, 2:4 `area`, prefill blocks of 33 tokens with the DSP half — the configuration whose TTFT `bench llm`
 * projects as `prefill.engineAsBuilt`. Yosys `synth_xilinx -family xcup`, per unit (generator/llm/engine/synth.ts):
 * the engine top with the GEMV unit and the prefetch FIFOs black-boxed and its memories of >= 256 Kbit boxed (their
 * logic synthesised, their bits counted as on-chip storage), the GEMV unit with the DSP half at 2 and 4 lanes
 * extrapolated to 128. Budget: LUT (cells + LUTRAM/SRL sites) / FF / DSP / on-chip Mbit, plus the shell's 10%.
 * The top at the preset's slotPar 16 took Yosys/WebAssembly past its 2 GB heap (the runtime then fails: "Start offset
 * ... is outside the bounds of the buffer"), and at slotPar 2 (units top@slotPar2, top@slotPar4: extrapolated per
 * slot) out of its 4 GB (bad_alloc) (docs/llm-engine.md#synthesis); without a top the bench prints the lower bound
 * (GEMV unit + on-chip bits + shell). A saved full `top`, or two `topAt` runs, are used when present.
 *
 *   npm run bench -- llm-synth7b [--json]                 the saved report (bench/results/llm-synth7b.json)
 *   npm run bench -- llm-synth7b --run [--fresh] [--units=top@slotPar2,top@slotPar4,gemv2,gemv4]
 *       synthesises the units missing from the saved report (all with --fresh), one Yosys at a time, saving the
 *       report atomically after each; the top takes tens of minutes.
 */
import { engineTopDspCensus, synthEngineTop, synthGemvSlice, memoriesToBox } from '../generator/llm/engine/synth';
import type { ResourceReport } from '../generator/flow/synth';
import { llmEngineModule } from '../generator/llm/engine/rtl';
import { extrapolate, lutSites, synthConfigKey, SHELL_SHARE, U280_PART, type EngineBudget, type SavedEngineSynth } from '../generator/llm/prefill/resources';
import { writeFileAtomic } from '../generator/util/files';
import { AS_BUILT_SYNTH_BLOCK, AS_BUILT_SYNTH_FILE, asBuiltBudget, asBuiltConfig, loadAsBuiltSynth, promptCycles, promptProducts, tokenBytes } from './llm-prefill';
import { LLM_PRESETS } from '../generator/llm/engine/hw-config';
import { fmt, report, table } from './table';

/** Memories of the top at least this large are boxed: far beyond LUTRAM, they are BRAM / URAM on the part. */
export const BOX_MEMORY_BITS = 256 * 1024;
const GEMV_LANES = [2, 4] as const;

function option(argv: string[], name: string): string | undefined {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

async function run(argv: string[]): Promise<void> {
  const cfg = asBuiltConfig(AS_BUILT_SYNTH_BLOCK);
  const key = synthConfigKey(cfg);
  const prev = argv.includes('--fresh') ? null : loadAsBuiltSynth();
  const saved: SavedEngineSynth =
    prev && prev.configKey === key && prev.boxMemoryBits === BOX_MEMORY_BITS && prev.carryChainAdders === true
      ? prev
      : { version: 1, configKey: key, description: `u280, Llama-2-7B shape, 2:4 area, prefillBlock ${AS_BUILT_SYNTH_BLOCK}, prefillDsp, prefillGroups ${cfg.hw.prefillGroups}`, target: 'xcup', boxMemoryBits: BOX_MEMORY_BITS, carryChainAdders: true, gemvAt: [] };
  const units = (option(argv, 'units') ?? 'top@slotPar2,top@slotPar4,gemv2,gemv4').split(',');
  for (const u of units) if (!/^(top|top@slotPar\d+|gemv\d+)$/.test(u)) throw new Error(`--units: unknown unit '${u}' (top, top@slotPar<n>, gemv<lanes>)`);
  const save = () => writeFileAtomic(AS_BUILT_SYNTH_FILE, JSON.stringify(saved, null, 1) + '\n');
  const say = (s: string) => process.stderr.write(`[llm-synth7b ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  for (const u of units) {
    const t0 = performance.now();
    if (u === 'top') {
      if (saved.top) continue;
      const boxed = memoriesToBox(llmEngineModule(cfg), BOX_MEMORY_BITS);
      say(`engine top: Yosys with ${boxed.length} memories boxed (${fmt(boxed.reduce((s, m) => s + m.bits, 0) / 2 ** 20)} Mbit); tens of minutes`);
      // each part is saved as it finishes, so a run that is stopped resumes where it was
      const onPart = async (name: string, report: ResourceReport) => {
        saved.topParts = { ...saved.topParts, [name]: report };
        say(`engine top: part ${name} done (${fmt(report.luts)} LUT, ${fmt(report.seconds)} s of Yosys)`);
        await save();
      };
      const r = await synthEngineTop(cfg, 'xcup', { boxMemoryBits: BOX_MEMORY_BITS, boxRoms: true, splitCones: true, carryChainAdders: true, partCache: saved.topParts, onPart });
      saved.top = { ...r, wallSeconds: (performance.now() - t0) / 1000 };
      delete saved.topParts;
    } else if (u.startsWith('top@slotPar')) {
      // the top at a smaller attention parallelism (the 7B top at slotPar 16 is beyond Yosys/WebAssembly's 2 GB)
      const slotPar = Number(u.slice('top@slotPar'.length));
      saved.topAt ??= [];
      if (saved.topAt.some((x) => x.slotPar === slotPar)) continue;
      const small = asBuiltConfig(AS_BUILT_SYNTH_BLOCK, true, { slotPar });
      say(`engine top at slotPar ${slotPar}: Yosys`);
      const r = await synthEngineTop(small, 'xcup', { boxMemoryBits: BOX_MEMORY_BITS, boxRoms: true, splitCones: true, carryChainAdders: true });
      saved.topAt.push({ slotPar, ...r, wallSeconds: (performance.now() - t0) / 1000 });
    } else {
      const lanes = Number(u.slice(4));
      if (saved.gemvAt.some((g) => g.lanes === lanes)) continue;
      say(`GEMV unit with the DSP half at ${lanes} lanes: Yosys`);
      const report = await synthGemvSlice(cfg, lanes, 'xcup', { carryChainAdders: true });
      saved.gemvAt.push({ lanes, report, wallSeconds: (performance.now() - t0) / 1000 });
    }
    await save();
    say(`${u} done in ${fmt((performance.now() - t0) / 1000)} s, saved to ${AS_BUILT_SYNTH_FILE}`);
  }
}

/** What a report without its top already says: the GEMV slices and their extrapolation. */
function partialTable(saved: SavedEngineSynth, lanes: number): string {
  const rows = [...saved.gemvAt].sort((a, b) => a.lanes - b.lanes).map((g) => [`GEMV unit + DSP half, ${g.lanes} lanes`, lutSites(g.report).total, g.report.ffs, g.report.dsp, g.report.seconds] as Array<string | number>);
  for (const t of saved.topAt ?? []) rows.push([`engine top at slotPar ${t.slotPar}`, lutSites(t.report).total, t.report.ffs, t.report.dsp, t.report.seconds]);
  for (const [name, r] of Object.entries(saved.topParts ?? {})) rows.push([`engine top part ${name} (of an unfinished split run)`, lutSites(r).total, r.ffs, r.dsp, r.seconds]);
  if (saved.gemvAt.length >= 2) {
    const [a, b] = [...saved.gemvAt].sort((x, y) => x.lanes - y.lanes);
    const c = (r: (typeof saved.gemvAt)[0]) => ({ lanes: r.lanes, r: { luts: lutSites(r.report).total, ffs: r.report.ffs, dsp: r.report.dsp } });
    const e = extrapolate(c(a!), c(b!), lanes);
    rows.push([`  extrapolated to ${lanes} lanes (fraction of the XCU280)`, `${fmt(e.luts)} (${fmt(e.luts / U280_PART.luts)})`, `${fmt(e.ffs)} (${fmt(e.ffs / U280_PART.ffs)})`, `${fmt(e.dsp)} (${fmt(e.dsp / U280_PART.dsp)})`, '']);
  }
  return table(['unit', 'LUT', 'FF', 'DSP', 'Yosys s'], rows);
}

/**
 * Which attention / vector parallelism fits the XCU280's DSP48E2s beside the GEMV unit, and what it gives: per
 * (vpar, slotPar), the engine top's DSPs by census, plus the GEMV unit's (the saved slices' extrapolation) and the
 * shell's 10%; the 1,000-token TTFT speedup from the two-group cycle model against token-by-token decode at the
 * memory bound (the fastest decode any of them can have), and the MAC utilisation. LUTs are not in it: the top is
 * not synthesised.
 */
export function dspFrontier(gemvDsp: number, n = 1000, vpars = [32, 64], slotPars = [2, 4, 8, 16]) {
  const part = U280_PART.dsp;
  const shell = Math.round(part * SHELL_SHARE);
  const rows = [];
  for (const vpar of vpars)
    for (const slotPar of slotPars) {
      const cfg = asBuiltConfig(AS_BUILT_SYNTH_BLOCK, true, { vpar, slotPar });
      const topDsp = engineTopDspCensus(cfg).dsp;
      const cycles = promptCycles(cfg, n);
      const tokenByToken = tokenBytes(cfg) / LLM_PRESETS.u280.memory.bytesPerCycle!;
      const peak = cfg.gemv.lanes * cfg.gemv.macsPerLane * cfg.gemv.tokensPerStep;
      const total = topDsp + gemvDsp + shell;
      rows.push({ vpar, slotPar, topDsp, totalDsp: total, dspFraction: total / part, fitsDsp: total <= part, speedup: (n * tokenByToken) / cycles, macUtilisation: promptProducts(n) / (peak * cycles) });
    }
  return rows;
}

export function frontierTable(rows: ReturnType<typeof dspFrontier>): string {
  return table(
    ['vpar', 'slotPar', 'top DSP (census)', 'DSP with GEMV + shell', 'of the part', 'fits the DSPs', 'TTFT speedup (vs memory-bound decode)', 'MAC utilisation'],
    rows.map((r) => [r.vpar, r.slotPar, r.topDsp, r.totalDsp, r.dspFraction, String(r.fitsDsp), r.speedup, r.macUtilisation]),
  );
}

export function budgetTable(b: EngineBudget): string {
  const mbit = (bits: number) => fmt(bits / 2 ** 20);
  return table(
    ['part', 'LUT (of which LUTRAM/SRL sites)', 'FF', 'DSP', 'on-chip Mbit'],
    [
      ...Object.entries(b.parts).map(([k, c]) => [k, `${fmt(c.luts)} (${fmt(b.lutSplit[k]!.lutram)})`, c.ffs, c.dsp, ''] as Array<string | number>),
      ['on-chip memory (hw-config total: vector regions x 33 tokens, KV cache, FIFOs, GEMV x buffer and accumulators, tables)', '', '', '', mbit(b.onChip.bits)],
      ...(b.complete ? [[`  of which boxed in the top's synthesis (${b.boxed.length} memories)`, '', '', '', mbit(b.boxedBits)]] : []),
      ['shell share (10% of the part, UG1393)', b.shell.luts, b.shell.ffs, b.shell.dsp, mbit(b.onChip.shellBits)],
      ['total', b.total.luts, b.total.ffs, b.total.dsp, mbit(b.onChip.totalBits)],
      ['fraction of the XCU280', b.fraction.luts, b.fraction.ffs, b.fraction.dsp, b.onChip.fraction],
      [`block memories placed (URAM288 / BRAM36 of the ${fmt(b.blocks.available.uram)} / ${fmt(b.blocks.available.bram)} the shell leaves): boxed memories + prefetch FIFOs`, '', '', '', `${fmt(b.blocks.uram)} / ${fmt(b.blocks.bram)}${b.blocks.fits ? '' : ' (no placement found)'}`],
      ['fits', b.complete ? String(b.fits) : b.fits ? 'unknown (lower bound without the engine top)' : 'false (already without the engine top)', '', '', ''],
    ],
  );
}

export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--run')) await run(argv);
  const b = asBuiltBudget();
  const cfg = asBuiltConfig(AS_BUILT_SYNTH_BLOCK);
  const saved = loadAsBuiltSynth();
  const gemvDsp = 'missing' in b ? undefined : Object.entries(b.parts).find(([k]) => k.startsWith('GEMV'))?.[1].dsp;
  const frontier = gemvDsp === undefined ? null : dspFrontier(gemvDsp);
  const json = {
    bench: 'llm-synth7b',
    config: saved?.description ?? null,
    file: AS_BUILT_SYNTH_FILE,
    gemvLanes: cfg.gemv.lanes,
    ...('missing' in b ? { missing: b.missing, partial: saved } : b),
    dspFrontier: frontier,
  };
  const frontierText = frontier ? [`DSP48E2 frontier: the engine top's attention (slotPar) and vector (vpar) parallelism against the part's ${fmt(U280_PART.dsp)} DSPs, beside the GEMV unit's ${fmt(gemvDsp!)}`, frontierTable(frontier)] : [];
  report(argv, json, () => {
    if ('missing' in b) return [`as-built 7B engine on the XCU280: ${b.missing}`, ...(saved ? [partialTable(saved, cfg.gemv.lanes)] : [])].join('\n');
    if (!b.complete) return [`The engine RTL as built on the XCU280: ${saved!.description}: the engine top is not synthesised yet; a lower bound`, budgetTable(b), partialTable(saved!, cfg.gemv.lanes), ...frontierText].join('\n');
    return [
      ...frontierText,
      `The engine RTL as built on the XCU280: ${saved!.description} (Yosys synth_xilinx -family xcup, per unit)`,
      budgetTable(b),
      table(
        ['unit', 'LUT (+ LUTRAM/SRL sites)', 'FF', 'DSP', 'Yosys s', 'wall s'],
        [
          ...b.topAt.map((t) => [`engine top at slotPar ${t.slotPar} (boxed GEMV, FIFOs, memories >= 256 Kbit)`, t.luts, t.ffs, t.dsp, t.yosysSeconds, t.wallSeconds]),
          ...b.gemvAt.map((g) => [`GEMV unit + DSP half, ${g.lanes} lanes`, g.luts, g.ffs, g.dsp, g.yosysSeconds, g.wallSeconds]),
          ['total', '', '', '', b.yosysSeconds.total, b.wallSeconds.total],
        ],
      ),
      `boxed memories and FIFOs as placed: ${b.blocks.placements.map((p) => `${p.name} ${p.width}x${p.depth} ${p.kind} ${p.uram}U/${p.bram}B`).join(', ')}`,
    ].join('\n');
  });
}
