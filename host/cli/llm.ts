import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { LlamaCheckpoint } from '../../generator/llm/checkpoint';
import { loadModel, modelTokenizer } from '../../generator/llm/model-file';
import type { Tokenizer } from '../../generator/llm/tokenizer/tokenizer';
import { describeEngine, engineConfig, SCHEMES, shapeOf, type EngineConfig, type EngineParams, type SchemeName } from '../../generator/llm/model-spec';
import { defaultSettings, evalSequences, evaluate, EVAL_DEFAULTS, greedyLoopRate, qatComparison, settingLabel, sparsityComparison } from '../../generator/llm/eval';
import { quantFileInfo, shippedQuantModels } from '../../generator/llm/qat/shipped';
import { FloatModel, generateGreedy, type StepModel } from '../../generator/llm/float-model';
import { GoldenDecoder } from '../../generator/llm/golden/decoder';
import { calibrate } from '../../generator/llm/quant/calibrate';
import { quantizeModel, type QuantModel } from '../../generator/llm/quant/model';
import { loadQuantModelFor } from '../../generator/llm/quant/qmodel-file';
import type { ScaleSearch } from '../../generator/llm/quant/weights';
import { ConfigError } from '../../generator/util/errors';
import { emit, parseIntOpt, withJson } from './common';
import { DEVICE_RUN_DEFAULTS, runOnDevice } from '../llm/device-run';
import { generateWithPrefill } from '../../generator/llm/prefill/run';
import { MODEL_HELP, promptOf, registerConvert } from './llm-text';
import { registerQat } from './llm-qat';
import { registerMixedSearch } from './llm-mixed';
import { W4_HELP, w4ParamsOf } from './w4';

export interface EngineContext {
  ckpt: LlamaCheckpoint;
  /** Engine config for quantised engines (undefined for the float reference). */
  cfg?: EngineConfig;
  search: ScaleSearch;
  calibrated: boolean;
  /** A quantised model file (`llm qat --out`) to decode instead of quantising the checkpoint. */
  quant?: string;
}

/**
 * Engines `llm run` can drive. Issue 6 registers a hardware-backed engine (e.g. 'device') here, next to
 * 'float' and 'golden', without touching this file's commands.
 */
export const LLM_ENGINES = new Map<string, (ctx: EngineContext) => StepModel>([
  ['float', (ctx) => new FloatModel(ctx.ckpt)],
  ['golden', (ctx) => new GoldenDecoder(goldenQuantModel(ctx))],
]);

/** The quantised model the golden engine decodes (and `--device` streams to the device, so the two agree). */
export function goldenQuantModel(ctx: EngineContext): QuantModel {
  if (ctx.quant !== undefined) return loadQuantModelFor(ctx.quant, ctx.cfg!, ctx.ckpt);
  const calib = ctx.calibrated || ctx.search === 'gptq' ? calibrate(ctx.ckpt, EVAL_DEFAULTS.seed + 7919, EVAL_DEFAULTS.calibSequences, 128) : undefined;
  return quantizeModel(ctx.ckpt, ctx.cfg!, { search: ctx.search, calib });
}

interface RunOpts {
  model: string;
  promptIds?: string;
  prompt?: string;
  tokens: string;
  engine: string;
  scheme: string;
  wGroup?: string;
  sinks?: string;
  window?: string;
  search: string;
  calib: boolean;
  sparsity?: string;
  quant?: string;
  w4?: string;
  tokenizer?: string;
  device?: string;
  preset: string;
  latency?: string;
  memory?: string;
  masters?: string;
  logits?: boolean;
  /** Prefill block size (tokens per weight pass; default: golden 32, device its prefill_block), or false for token-by-token prompts. */
  prefill?: string | false;
  check: boolean;
  json?: boolean;
}

function memoryOf(m: string | undefined): 'bram' | 'hbm' {
  if (m === undefined || m === 'bram' || m === 'hbm') return m ?? 'bram';
  throw new ConfigError('memory', 'must be bram or hbm', m);
}

function schemeOf(name: string): SchemeName {
  if (!(name in SCHEMES)) throw new ConfigError('scheme', `must be one of ${Object.keys(SCHEMES).join(', ')}`, name);
  return name as SchemeName;
}

function searchOf(name: string): ScaleSearch {
  if (name !== 'mse' && name !== 'minmax' && name !== 'gptq') throw new ConfigError('search', "must be 'gptq', 'mse' or 'minmax'", name);
  return name;
}

/** Engine parameters from the command line: the golden engine and `--device` read the same ones. */
function engineParamsOf(o: RunOpts, nLayers: number): Partial<EngineParams> {
  return {
    ...SCHEMES[schemeOf(o.scheme)],
    ...w4ParamsOf(nLayers, o.w4, o.quant),
    ...(o.wGroup !== undefined && { wGroup: parseIntOpt('--w-group', o.wGroup) }),
    ...(o.sinks !== undefined && { sinks: parseIntOpt('--sinks', o.sinks) }),
    ...(o.window !== undefined && { window: parseIntOpt('--window', o.window) }),
    ...(o.sparsity !== undefined && { wSparsity: sparsityOf(o.sparsity) }),
  };
}

function sparsityOf(name: string): EngineParams['wSparsity'] {
  if (name !== 'dense' && name !== '2:4') throw new ConfigError('sparsity', "must be 'dense' or '2:4'", name);
  return name;
}

async function runDevice(o: RunOpts, ckpt: LlamaCheckpoint, prompt: number[], tok: Tokenizer | undefined): Promise<void> {
  const steps = parseIntOpt('--tokens', o.tokens);
  if (steps < 1) throw new ConfigError('tokens', 'must be >= 1', steps);
  const r = await runOnDevice({
    ckpt,
    device: o.device ?? 'sim',
    preset: o.preset,
    engine: engineParamsOf(o, ckpt.dims.nLayers),
    quantize: (cfg) => goldenQuantModel({ ckpt, cfg, search: searchOf(o.search), calibrated: o.calib, quant: o.quant }),
    prompt,
    steps,
    latency: o.latency !== undefined ? parseIntOpt('--latency', o.latency) : undefined,
    memory: memoryOf(o.memory),
    masters: o.masters !== undefined ? parseIntOpt('--masters', o.masters) : undefined,
    logits: !!o.logits,
    prefill: o.prefill === false ? 1 : o.prefill !== undefined ? parseIntOpt('--prefill', o.prefill) : undefined,
    check: o.check,
    progress: !o.json,
  });
  const text = tok?.decode(r.ids, prompt[0]);
  // The device takes the prompt in blocks of its prefill_block (one weight pass each), docs/llm-device.md#prefill-blocks.
  const pu = r.promptConsumed;
  const result = { engine: 'device', ...r, ...(text !== undefined && { text }), prefill: pu.block > 1 && pu.tokens > 1 ? { block: pu.block, blocks: pu.blocks } : false };
  emit(o, result, () =>
    [
      `engine: device ${r.device} (${r.design}, preset ${r.preset}, ${r.config})`,
      `weights: ${r.transfer.bytes} B written in ${r.transfer.seconds.toFixed(1)} s, verified by readback in ${r.transfer.verifySeconds.toFixed(1)} s`,
      `ids: ${r.ids.join(' ')}`,
      ...(text !== undefined ? [`text: ${text}`] : []),
      `prompt: ${pu.tokens} position(s) in ${pu.blocks} block(s) of up to ${pu.block}, ${pu.cycles} device cycles (${(pu.cycles / pu.tokens).toFixed(0)} per token)`,
      `device cycles/token after the prompt: ${r.cyclesPerToken.join(' ')} (mean over all positions ${r.meanCyclesPerToken.toFixed(0)})`,
      `${r.tokensPerSecond.toFixed(2)} tok/s over the link`,
      r.golden ? (r.golden.match ? `ids${r.golden.logitsMatch ? ' and logits' : ''} equal the golden decoder's` : `GOLDEN MISMATCH: golden ids ${r.golden.ids.join(' ')}`) : 'golden check skipped',
    ].join('\n'),
  );
  if (r.golden && !r.golden.match) process.exitCode = 1;
}

export function register(program: Command): void {
  const llm = program.command('llm').description('LLM model side: float reference, quantised golden decoder, fidelity');

  withJson(
    llm
      .command('run')
      .description('greedy-decode token ids with the float reference, the integer golden decoder, or on a device (--device)')
      .requiredOption('--model <file>', MODEL_HELP)
      .option('--prompt <text>', 'prompt text, encoded with the tokenizer (BOS first); the output is decoded as it streams')
      .option('--prompt-ids <ids>', 'comma-separated prompt token ids (default: BOS = 1)')
      .option('--tokens <n>', 'positions to run (tokens printed after the first prompt token)', '64')
      .option('--prefill <block>', "feed the prompt in blocks of this many tokens per weight pass (prefill mode; default: golden 32, device its prefill_block register)")
      .option('--no-prefill', 'feed the prompt token by token (decode mode only)')
      .option('--engine <name>', `engine: ${[...LLM_ENGINES.keys()].join('|')}|device`, 'float')
      .option('--scheme <name>', `golden quantisation scheme: ${Object.keys(SCHEMES).join('|')}`, 'W2A8KV4')
      .option('--w-group <g>', 'weights per scale along the input dimension')
      .option('--sinks <s>', 'Λ-attention sink positions')
      .option('--window <w>', 'Λ-attention recent-window positions')
      .option('--search <how>', 'weight quantisation: gptq|mse|minmax', 'gptq')
      .option('--no-calib', 'do not weight the quantisation error by calibration statistics')
      .option('--sparsity <s>', 'linear-layer weights: dense | 2:4 (SparseGPT with --search gptq, Wanda otherwise)')
      .option('--quant <file>', 'golden/device: decode this quantised model file (e.g. models/stories260K-W2A8KV4-qat.lfq from llm qat) instead of quantising --model; --scheme and --w-group must match it; its 4-bit matrices (mixed precision) are taken from the file')
      .option('--w4 <spec>', `${W4_HELP} (default: none, or the --quant file's)`)
      .option('-z, --tokenizer <file>', "llama2.c tokenizer.bin to encode --prompt and print text (default: the GGUF file's own tokenizer)")
      .option('--device <dev>', "decode on a device (implies --engine device): sim | serial:PATH[@baud] | tcp:HOST:PORT[@baud] | xdma:N[@DIR]")
      .option('--preset <name>', 'device hardware preset: sim-small | tiny | u280 (engine parameters follow --scheme/--w-group/--sinks/--window)', DEVICE_RUN_DEFAULTS.preset)
      .option('--latency <cycles>', 'device weight-memory read latency in cycles (default: the preset memory model)')
      .option('--memory <kind>', 'device weight memory: bram (on chip) | hbm (AXI4 masters, one per HBM pseudo-channel)', 'bram')
      .option('--masters <n>', 'device --memory hbm: AXI masters / pseudo-channels (power of two, 1..32; default 4, u280 32)')
      .option('--logits', 'device: also read back every logit and compare it with the golden decoder')
      .option('--no-check', 'device: skip the golden decoder comparison'),
  ).action(async (o: RunOpts) => {
    const loaded = await loadModel(o.model);
    const ckpt = loaded.ckpt;
    const tok = modelTokenizer(loaded, o.tokenizer);
    const prompt = promptOf(o, tok);
    if (o.device !== undefined || o.engine === 'device') return runDevice(o, ckpt, prompt, tok);
    const factory = LLM_ENGINES.get(o.engine);
    if (!factory) throw new ConfigError('engine', `must be one of ${[...LLM_ENGINES.keys(), 'device'].join(', ')}`, o.engine);
    const steps = parseIntOpt('--tokens', o.tokens);
    if (steps < 1) throw new ConfigError('tokens', 'must be >= 1', steps);
    if (o.engine === 'float' && steps > ckpt.dims.seqLen)
      throw new ConfigError('tokens', `the float reference runs at most seq_len=${ckpt.dims.seqLen} positions`, steps);
    const cfg = o.engine === 'float' ? undefined : engineConfig(shapeOf(ckpt.dims), engineParamsOf(o, ckpt.dims.nLayers));
    const model = factory({ ckpt, cfg, search: searchOf(o.search), calibrated: o.calib, quant: o.quant });
    const config = cfg ? describeEngine(cfg) : 'float32 reference';
    // Human output with a tokenizer streams the text as tokens arrive; --json prints one object at the end.
    const live = tok && !o.json ? tok.stream(prompt[0]) : undefined;
    if (live) process.stdout.write(`engine: ${o.engine} (${config})\ntext: `);
    const t0 = performance.now();
    const onTok = live && ((id: number) => void process.stdout.write(live.push(id)));
    const block = o.prefill === false ? 0 : parseIntOpt('--prefill', o.prefill ?? '32');
    const prefill = block > 0 && model instanceof GoldenDecoder && prompt.length > 1;
    const ids = prefill ? generateWithPrefill(model, prompt, steps, block, onTok) : generateGreedy(model, prompt, steps, onTok);
    const seconds = (performance.now() - t0) / 1000;
    if (live) process.stdout.write(live.flush() + '\n');
    const text = tok?.decode(ids, prompt[0]);
    const result = {
      engine: o.engine,
      config,
      prompt,
      ids,
      ...(text !== undefined && { text }),
      prefill: prefill ? { block, blocks: Math.ceil(Math.min(prompt.length, steps) / block) } : false,
      tokensPerSecond: steps / seconds,
    };
    emit(o, result, () =>
      [...(live ? [] : [`engine: ${result.engine} (${result.config})`]), `ids: ${ids.join(' ')}`, ...(prefill ? [`prompt prefilled in blocks of ${block}`] : []), `${result.tokensPerSecond.toFixed(1)} tok/s`].join('\n'),
    );
  });

  withJson(
    llm
      .command('eval')
      .description('fidelity of the golden decoder vs the float reference (top-1, KL, perplexity) on sampled sequences')
      .requiredOption('--model <file>', MODEL_HELP)
      .option('--seed <n>', 'sampling seed', String(EVAL_DEFAULTS.seed))
      .option('--sequences <n>', 'sequences sampled from the float model', String(EVAL_DEFAULTS.sequences))
      .option('--length <n>', 'tokens per sequence (<= seq_len)', String(EVAL_DEFAULTS.length))
      .option('--rows <set>', 'which rows: all | sparsity (dense against 2:4 only) | qat (W2/W4 and mixed W2+W4, GPTQ against QAT, full and S4+W60 attention)', 'all')
      .option('--qat <files>', 'comma-separated QAT quantised model files for the qat rows (default: the shipped models/*.lfq made from this model)'),
  ).action(async (o: { model: string; seed: string; sequences: string; length: string; rows: string; qat?: string; json?: boolean }) => {
    const { ckpt } = await loadModel(o.model);
    const length = parseIntOpt('--length', o.length);
    const sequences = parseIntOpt('--sequences', o.sequences);
    if (length < 2 || length > ckpt.dims.seqLen) throw new ConfigError('length', `must be in [2, seq_len=${ckpt.dims.seqLen}]`, length);
    if (sequences < 1) throw new ConfigError('sequences', 'must be >= 1', sequences);
    if (o.rows !== 'all' && o.rows !== 'sparsity' && o.rows !== 'qat') throw new ConfigError('rows', "must be 'all', 'sparsity' or 'qat'", o.rows);
    const qatFiles = o.qat !== undefined ? o.qat.split(',').map((p) => quantFileInfo(p.trim())) : shippedQuantModels(ckpt);
    const qatRows = qatComparison(ckpt.dims.seqLen, length, qatFiles);
    // The default table plus the qat rows; a default row the qat set repeats gets its greedy-loop rate too.
    const qatLabels = new Set(qatRows.map(settingLabel));
    const defaults = defaultSettings(ckpt.dims.seqLen, length).map((s) => (qatLabels.has(settingLabel(s)) ? { ...s, loops: true } : s));
    const all = [...defaults, ...qatRows.filter((s) => !defaults.some((d) => settingLabel(d) === settingLabel(s)))];
    const settings = o.rows === 'all' ? all : o.rows === 'qat' ? qatRows : sparsityComparison(ckpt.dims.seqLen, length);
    const bar = o.json ? undefined : new cliProgress.SingleBar({ stream: process.stderr, format: 'eval [{bar}] {percentage}% {value}/{total} steps' }, cliProgress.Presets.shades_classic);
    bar?.start(1, 0);
    const rows = evaluate(ckpt, settings, {
      ...EVAL_DEFAULTS,
      seed: parseIntOpt('--seed', o.seed),
      sequences,
      length,
      onProgress: (d, t) => {
        if (bar && (d % 64 === 0 || d === t)) {
          bar.setTotal(t);
          bar.update(d);
        }
      },
    });
    const floatLoopRate = rows.some((r) => r.loopRate !== undefined) ? greedyLoopRate(() => new FloatModel(ckpt), evalSequences(ckpt, { seed: parseIntOpt('--seed', o.seed), sequences, length })) : undefined;
    bar?.stop();
    emit(o, { model: o.model, seed: Number(o.seed), sequences, length, rows, ...(floatLoopRate !== undefined && { floatLoopRate }) }, () => {
      const head = '| setting | top-1 | mean KL | ppl | ppl float | greedy loops |\n|---|---|---|---|---|---|';
      const pct = (v?: number) => (v === undefined ? '' : `${(100 * v).toFixed(0)}%`);
      const body = rows.map((r) => `| ${r.label} | ${(100 * r.top1).toFixed(1)}% | ${r.meanKl.toFixed(4)} | ${r.ppl.toFixed(3)} | ${r.pplFloat.toFixed(3)} | ${pct(r.loopRate)} |`);
      return [head, ...body, ...(floatLoopRate !== undefined ? [`float reference greedy-loop rate: ${pct(floatLoopRate)}`] : [])].join('\n');
    });
  });

  registerConvert(llm);
  registerQat(llm);
  registerMixedSearch(llm);
}
