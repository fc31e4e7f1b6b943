import type { LlamaCheckpoint } from './checkpoint';
import { engineConfig, SCHEMES, shapeOf, type EngineParams, type SchemeName } from './model-spec';
import { basename } from 'node:path';
import { argmax, FloatModel, generateGreedy, type StepModel } from './float-model';
import { GoldenDecoder } from './golden/decoder';
import { calibrate, type Calibration } from './quant/calibrate';
import { quantizeModel, type QuantModel } from './quant/model';
import { loadQuantModelFor, quantModelCodeParams } from './quant/qmodel-file';
import type { ScaleSearch } from './quant/weights';
import { sampleSequence, softmax64 } from './sample';
import { DEFAULT_ROTATION, rotateCheckpoint, rotationLabel, type Rotation } from './rotate';

export interface EvalSetting {
  scheme: SchemeName;
  group: number;
  sinks: number;
  window: number;
  search: ScaleSearch;
  /** Weight the quantisation error by calibration activation statistics. */
  calibrated: boolean;
  /** 2:4-pruned linear layers (SparseGPT with 'gptq', Wanda with the other searches); dense when absent. */
  sparsity?: '2:4';
  /** Decode this quantised model file (e.g. a `llm qat` result) instead of quantising. */
  quant?: string;
  /** Also measure the greedy-loop rate (see greedyLoopRate). */
  loops?: boolean;
  /** Quantise the rotated, gain-folded checkpoint (rotate.ts) instead of the checkpoint itself. */
  rotate?: Rotation;
  /** Mixed precision: these linear matrices at 4 bits (EngineParams.w4Matrices); a `quant` file brings its own. */
  w4Matrices?: readonly string[];
}

export interface EvalRow extends EvalSetting {
  label: string;
  /** Fraction of positions where the golden decoder's argmax equals the float reference's. */
  top1: number;
  /** Mean KL(P_float || P_golden) in nats. */
  meanKl: number;
  /** Perplexity of the golden decoder and of the float reference on the sampled sequences. */
  ppl: number;
  pplFloat: number;
  positions: number;
  /** Fraction of greedy continuations that end in a loop (rows with `loops`). */
  loopRate?: number;
}

export interface EvalOptions {
  seed: number;
  sequences: number;
  length: number;
  /** Calibration sequences are sampled with seed + 7919 so they never overlap the evaluation set. */
  calibSequences: number;
  onProgress?: (done: number, total: number) => void;
}

export const EVAL_DEFAULTS: Omit<EvalOptions, 'onProgress'> = { seed: 1234, sequences: 4, length: 256, calibSequences: 8 };

export function settingLabel(s: EvalSetting): string {
  const how = s.quant ? `qat (${basename(s.quant)})` : `${s.search}${s.calibrated ? '+calib' : ''}${s.rotate ? ` ${rotationLabel(s.rotate)}` : ''}`;
  const w4 = !s.quant && s.w4Matrices?.length ? ` +W4[${s.w4Matrices.join(',')}]` : '';
  return `${s.scheme}${w4}${s.sparsity ? ` ${s.sparsity}` : ''} G=${s.group} S=${s.sinks} W=${s.window} ${how}`;
}

/** A QAT model file for the qat rows (shipped.ts quantFileInfo gives these facts). */
export interface QatFile {
  path: string;
  wBits: number;
  wGroup: number;
  /** Its 4-bit matrices (a mixed-precision W2 file); empty for a uniform one. */
  w4Matrices: readonly string[];
}

/**
 * `llm eval --rows qat`: W2A8KV4 and W4A8KV4, GPTQ + calibration (also on the rotated checkpoint, full attention only)
 * against the QAT model files `quant` of each weight width (uniform and mixed-precision W2, the latter with its
 * rotated GPTQ starting point), at full attention and at sinks 4 + window 60, with greedy-loop rates.
 */
export function qatComparison(seqLen: number, length: number, quant: readonly QatFile[], rotate: Rotation = DEFAULT_ROTATION): EvalSetting[] {
  const full = Math.max(1, Math.min(seqLen, length) - 4);
  const out: EvalSetting[] = [];
  for (const [scheme, bits] of [['W2A8KV4', 2], ['W4A8KV4', 4]] as const)
    for (const [sinks, window] of [[4, full], [4, 60]] as const) {
      const base = { scheme, group: 32, sinks, window, search: 'gptq' as ScaleSearch, calibrated: true, loops: true };
      out.push(base);
      // GPTQ on the rotated checkpoint (the QAT starting point), at full attention.
      if (window === full) out.push({ ...base, rotate });
      const files = quant.filter((q) => q.wBits === bits).sort((a, b) => a.w4Matrices.length - b.w4Matrices.length);
      for (const q of files) {
        if (q.w4Matrices.length && window === full) out.push({ ...base, rotate, w4Matrices: q.w4Matrices });
        out.push({ ...base, group: q.wGroup, quant: q.path });
      }
    }
  return out;
}

/**
 * Greedy-loop rate: from the first 8 tokens of each evaluation sequence, continue greedily to the sequence length;
 * a continuation loops when its last 64 tokens repeat with a period of at most 32. Returns the looping fraction.
 */
export function greedyLoopRate(model: () => StepModel, seqs: number[][]): number {
  let loops = 0;
  for (const seq of seqs) {
    const out = generateGreedy(model(), seq.slice(0, 8), seq.length);
    const tail = out.slice(-64);
    let periodic = false;
    for (let p = 1; p <= 32 && !periodic; p++) periodic = tail.every((t, i) => i < p || t === tail[i - p]);
    if (periodic) loops++;
  }
  return loops / seqs.length;
}

/** The default table of `llm eval`: the three schemes, a few (S, W) and plain rounding for contrast. */
export function defaultSettings(seqLen: number, length: number): EvalSetting[] {
  const full = Math.max(1, Math.min(seqLen, length) - 4);
  const base = { group: 32, sinks: 4, window: full, search: 'gptq' as ScaleSearch, calibrated: true };
  const out: EvalSetting[] = [];
  for (const scheme of Object.keys(SCHEMES) as SchemeName[]) out.push({ ...base, scheme });
  out.push({ ...base, scheme: 'W2A8KV4', search: 'minmax', calibrated: false });
  out.push({ ...base, scheme: 'W2A8KV4', search: 'mse', calibrated: false });
  out.push({ ...base, scheme: 'W2A8KV4', search: 'mse' });
  out.push({ ...base, scheme: 'W2A8KV4', group: 16 });
  out.push({ ...base, scheme: 'W2A8KV4', group: 64 });
  for (const [S, W] of [[4, 60], [4, 28], [0, 64]] as const) out.push({ ...base, scheme: 'W2A8KV4', sinks: S, window: W });
  out.push({ ...base, scheme: 'W8A8KV8', sinks: 4, window: 60 });
  out.push(...sparsitySettings(base));
  return out;
}

/** `llm eval --rows sparsity`: the dense W2 reference row and the 2:4 rows, at the default table's settings. */
export function sparsityComparison(seqLen: number, length: number): EvalSetting[] {
  const full = Math.max(1, Math.min(seqLen, length) - 4);
  const base = { group: 32, sinks: 4, window: full, search: 'gptq' as ScaleSearch, calibrated: true };
  return [{ ...base, scheme: 'W2A8KV4' }, ...sparsitySettings(base)];
}

/** Dense against 2:4 (SparseGPT = gptq, Wanda = mse + calib) at the same settings. */
export function sparsitySettings(base: Omit<EvalSetting, 'scheme'>): EvalSetting[] {
  return [
    { ...base, scheme: 'W2A8KV4', search: 'gptq', calibrated: true, sparsity: '2:4' },
    { ...base, scheme: 'W2A8KV4', search: 'mse', calibrated: true, sparsity: '2:4' },
    { ...base, scheme: 'W8A8KV8', search: 'gptq', calibrated: true },
    { ...base, scheme: 'W8A8KV8', search: 'gptq', calibrated: true, sparsity: '2:4' },
  ];
}

/** The evaluation sequences of evaluate() (float reference samples, seeds seed..seed+sequences-1). */
export function evalSequences(ckpt: LlamaCheckpoint, o: Pick<EvalOptions, 'seed' | 'sequences' | 'length'>): number[][] {
  const ref = new FloatModel(ckpt);
  return Array.from({ length: o.sequences }, (_, i) => sampleSequence(ref, o.seed + i, o.length));
}

/** The float reference's next-token distributions at every position of `seqs` (teacher-forced). */
export function referenceProbs(ckpt: LlamaCheckpoint, seqs: number[][]): Float64Array[][] {
  const ref = new FloatModel(ckpt);
  return seqs.map((s) => s.map((t, p) => softmax64(ref.forward(t, p))));
}

/**
 * The golden decoder on a quantised model, teacher-forced through `seqs` against the reference's distributions:
 * argmax agreement, mean KL(P_float || P_golden), and both engines' perplexity on the sequences' next tokens.
 */
export function scoreQuantModel(qm: QuantModel, seqs: number[][], refProbs: Float64Array[][], onPosition?: () => void) {
  const g = new GoldenDecoder(qm);
  const scale = 2 ** -qm.cfg.logitFrac;
  let agree = 0, kl = 0, nll = 0, nllF = 0, n = 0, pred = 0;
  seqs.forEach((seq, si) => {
    for (let pos = 0; pos < seq.length; pos++) {
      const pg = softmax64(g.forward(seq[pos]!, pos), scale);
      const pf = refProbs[si]![pos]!;
      if (argmax(pg) === argmax(pf)) agree++;
      for (let i = 0; i < pf.length; i++) if (pf[i]! > 0) kl += pf[i]! * Math.log(pf[i]! / Math.max(pg[i]!, 1e-300));
      if (pos + 1 < seq.length) {
        nll -= Math.log(Math.max(pg[seq[pos + 1]!]!, 1e-300));
        nllF -= Math.log(pf[seq[pos + 1]!]!);
        pred++;
      }
      n++;
      onPosition?.();
    }
  });
  return { top1: agree / n, meanKl: kl / n, ppl: Math.exp(nll / pred), pplFloat: Math.exp(nllF / pred), positions: n };
}

export function evaluate(ckpt: LlamaCheckpoint, settings: EvalSetting[], o: EvalOptions): EvalRow[] {
  const seqs = evalSequences(ckpt, o);
  const refProbs = referenceProbs(ckpt, seqs);
  // The checkpoint each setting quantises (rotated or not) and its calibration, made once per distinct rotation.
  const sources = new Map<string, { ck: LlamaCheckpoint; calib?: Calibration }>();
  const sourceOf = (s: EvalSetting) => {
    const key = s.rotate ? rotationLabel(s.rotate) : '';
    let e = sources.get(key);
    if (!e) sources.set(key, (e = { ck: s.rotate ? rotateCheckpoint(ckpt, s.rotate) : ckpt }));
    if (s.calibrated && !e.calib) e.calib = calibrate(e.ck, o.seed + 7919, o.calibSequences, o.length);
    return e;
  };
  const total = settings.length * o.sequences * o.length;
  let done = 0;
  return settings.map((s) => {
    const w4 = s.quant ? quantModelCodeParams(s.quant).w4Matrices : s.w4Matrices;
    const params: Partial<EngineParams> = {
      ...SCHEMES[s.scheme],
      wGroup: s.group,
      sinks: s.sinks,
      window: s.window,
      ...(s.sparsity ? { wSparsity: s.sparsity } : {}),
      ...(w4?.length ? { w4Matrices: w4 } : {}),
    };
    const cfg = engineConfig(shapeOf(ckpt.dims), params);
    const src = s.quant ? undefined : sourceOf(s);
    const qm = s.quant ? loadQuantModelFor(s.quant, cfg, ckpt) : quantizeModel(src!.ck, cfg, { search: s.search, calib: s.calibrated ? src!.calib : undefined });
    const score = scoreQuantModel(qm, seqs, refProbs, () => o.onProgress?.(++done, total));
    const loopRate = s.loops ? greedyLoopRate(() => new GoldenDecoder(qm), seqs) : undefined;
    return { ...s, label: settingLabel(s), ...score, ...(loopRate !== undefined && { loopRate }) };
  });
}
