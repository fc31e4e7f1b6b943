/**
 * Mixed-precision sensitivity search (`llm mixed-search`, docs/llm-fidelity.md "Mixed precision"): which linear
 * matrices of a W2 model are worth 4 bits. Measured, not guessed: on the GPTQ + calibration W2 model of the rotated
 * checkpoint (the QAT starting point, qatInit), each candidate set of matrices is swapped for its GPTQ W4 version and
 * the golden decoder's KL to the float reference is measured on a few evaluation sequences. A 4-bit matrix runs as two
 * 2-bit planes, so it costs its W2 bytes (codes + scales) and its W2 GEMV pass again; candidates are ranked by KL
 * removed per extra byte, and sets under byte budgets are assembled greedily and measured as a whole.
 */
import type { LlamaCheckpoint } from '../checkpoint';
import { evalSequences, referenceProbs, scoreQuantModel } from '../eval';
import { engineConfig, expandW4Spec, LINEAR_MATS, linearDims, shapeOf, type EngineConfig, type EngineParams, type LinearMat } from '../model-spec';
import { rotateCheckpoint, type Rotation } from '../rotate';
import { calibrate } from './calibrate';
import { quantizeModel, type QuantModel } from './model';

/** Bytes of one matrix at `bits` (codes + group scale codes), as the engine stores it. */
export function matrixBytes(c: Pick<EngineConfig, 'model' | 'wGroup' | 'scaleBits'>, mat: LinearMat, bits: number): number {
  const [rows, cols] = linearDims(c.model, mat);
  return (rows * cols * bits + rows * Math.ceil(cols / c.wGroup) * c.scaleBits) / 8;
}

/** Linear-layer weight bytes of the all-W2 model, and the extra bytes of a set of 4-bit matrices (each: its W2 bytes again). */
export function w4Cost(c: Pick<EngineConfig, 'model' | 'wGroup' | 'scaleBits' | 'wBits'>, set: readonly string[]): { baseBytes: number; extraBytes: number } {
  const baseBytes = c.model.nLayers * LINEAR_MATS.reduce((a, m) => a + matrixBytes(c, m, c.wBits), 0);
  const extraBytes = set.reduce((a, n) => a + matrixBytes(c, n.split('.')[1] as LinearMat, c.wBits), 0);
  return { baseBytes, extraBytes };
}

export interface MixedSearchOptions {
  /** Evaluation sequences (llm eval's seeds: seed, seed+1, ...) and their length. */
  seed: number;
  sequences: number;
  length: number;
  /** The QAT starting point: rotation and calibration (qatInit's). */
  rotate?: Rotation;
  calibSeed: number;
  calibSequences: number;
  calibLength: number;
  /** Also measure every single matrix (nLayers x 7 more evaluations); the budget sets are then built from them too. */
  singles: boolean;
  /** Extra linear-layer weight bytes allowed, as fractions of the all-W2 bytes (e.g. 0.25, 0.5). */
  budgets: number[];
  sinks: number;
  window: number;
  onProgress?: (done: number, total: number) => void;
}

export interface MixedCandidate {
  /** `*.wq`, `0.*`, `2.w1`, or a budget set's spec. */
  spec: string;
  kind: 'base' | 'all' | 'matrix type' | 'layer' | 'single' | 'budget';
  w4Matrices: string[];
  extraBytes: number;
  /** extraBytes / all-W2 linear bytes. */
  extraFrac: number;
  meanKl: number;
  top1: number;
  /** KL removed against the all-W2 model (nats), and per extra KiB. */
  klGain: number;
  gainPerKiB: number;
}

export interface MixedSearchResult {
  config: string;
  baseBytes: number;
  positions: number;
  candidates: MixedCandidate[];
  /** Per budget: the best measured set whose extra bytes fit. */
  picks: { budget: number; best: MixedCandidate }[];
}

/** The model with the matrices of `set` taken from the all-W4 model (both GPTQ on the same calibration). */
export function composeMixed(w2: QuantModel, w4: QuantModel, set: readonly string[], params: Partial<EngineParams>): QuantModel {
  const cfg = engineConfig(w2.cfg.model, { ...params, w4Matrices: set });
  const inSet = new Set(set);
  const layers = w2.layers.map((L, l) => ({ ...L, ...Object.fromEntries(LINEAR_MATS.filter((m) => inSet.has(`${l}.${m}`)).map((m) => [m, w4.layers[l]![m]])) }));
  return { ...w2, cfg, layers };
}

export function mixedSearch(ckpt: LlamaCheckpoint, o: MixedSearchOptions): MixedSearchResult {
  const shape = shapeOf(ckpt.dims);
  const L = shape.nLayers;
  const base: Partial<EngineParams> = { wBits: 2, sinks: o.sinks, window: o.window };
  const cfg2 = engineConfig(shape, base);
  const all = expandW4Spec('*.*', L);
  const ck = o.rotate ? rotateCheckpoint(ckpt, o.rotate) : ckpt;
  const calib = calibrate(ck, o.calibSeed, o.calibSequences, Math.min(o.calibLength, ck.dims.seqLen));
  const w2 = quantizeModel(ck, cfg2, { search: 'gptq', calib });
  // GPTQ quantises each matrix on its own (calibration from the float activations), so an all-W4 model holds every
  // matrix's W4 version and any mix is a swap.
  const w4 = quantizeModel(ck, engineConfig(shape, { ...base, w4Matrices: all }), { search: 'gptq', calib });

  const seqs = evalSequences(ckpt, o);
  const refProbs = referenceProbs(ckpt, seqs);
  const positions = o.sequences * o.length;
  const sets: { spec: string; kind: MixedCandidate['kind']; set: string[] }[] = [
    { spec: 'none', kind: 'base', set: [] },
    { spec: '*.*', kind: 'all', set: all },
    ...LINEAR_MATS.map((m) => ({ spec: `*.${m}`, kind: 'matrix type' as const, set: expandW4Spec(`*.${m}`, L) })),
    ...Array.from({ length: L }, (_, l) => ({ spec: `${l}.*`, kind: 'layer' as const, set: expandW4Spec(`${l}.*`, L) })),
    ...(o.singles ? all.map((n) => ({ spec: n, kind: 'single' as const, set: [n] })) : []),
  ];
  const total = (sets.length + 2 * o.budgets.length) * positions;
  let done = 0;
  const measure = (set: readonly string[]) =>
    scoreQuantModel(set.length ? composeMixed(w2, w4, set, base) : w2, seqs, refProbs, () => o.onProgress?.(++done, total));
  const { baseBytes } = w4Cost(cfg2, []);
  let baseKl = NaN;
  const candidate = (spec: string, kind: MixedCandidate['kind'], set: string[]): MixedCandidate => {
    const { meanKl, top1 } = measure(set);
    if (kind === 'base') baseKl = meanKl;
    const { extraBytes } = w4Cost(cfg2, set);
    const klGain = baseKl - meanKl;
    return { spec, kind, w4Matrices: set, extraBytes, extraFrac: extraBytes / baseBytes, meanKl, top1, klGain, gainPerKiB: extraBytes ? klGain / (extraBytes / 1024) : 0 };
  };
  const candidates = sets.map((s) => candidate(s.spec, s.kind, s.set));

  // Budget sets, greedily by measured KL gain per byte (assuming gains add): from the single matrices, and from the
  // matrix-type / layer groups (a group adds the matrices it does not already hold); each set is measured whole.
  const picks = o.budgets.map((budget) => {
    const limit = budget * baseBytes;
    const options: MixedCandidate[] = [];
    for (const pool of [candidates.filter((c) => c.kind === 'single'), candidates.filter((c) => c.kind === 'matrix type' || c.kind === 'layer')]) {
      if (!pool.length) {
        o.onProgress?.((done += positions), total);
        continue;
      }
      const chosen = new Set<string>();
      for (const c of [...pool].filter((c) => c.klGain > 0).sort((a, b) => b.gainPerKiB - a.gainPerKiB)) {
        const next = [...new Set([...chosen, ...c.w4Matrices])];
        if (w4Cost(cfg2, next).extraBytes <= limit) next.forEach((n) => chosen.add(n));
      }
      const set = expandW4Spec([...chosen].join(','), L);
      const known = [...candidates, ...options].find((c) => c.w4Matrices.join(',') === set.join(','));
      if (known) {
        o.onProgress?.((done += positions), total);
        options.push(known);
      } else options.push(candidate(compactSpec(set, L), 'budget', set));
    }
    const best = options.reduce((a, b) => (b.meanKl < a.meanKl ? b : a));
    return { budget, options, best };
  });
  for (const p of picks) for (const c of p.options) if (!candidates.includes(c)) candidates.push(c);
  return { config: `W2A8KV4 G=${cfg2.wGroup} S=${o.sinks} W=${o.window}, GPTQ + calib${o.rotate ? ', rotated' : ''}`, baseBytes, positions, candidates, picks: picks.map(({ budget, best }) => ({ budget, best })) };
}

/** A short spec for a set: whole layers as `L.*`, whole matrix types as `*.m`, the rest as `L.m`. */
export function compactSpec(set: readonly string[], nLayers: number): string {
  if (!set.length) return '';
  const has = new Set(set);
  const parts: string[] = [];
  const covered = new Set<string>();
  for (const m of LINEAR_MATS)
    if (Array.from({ length: nLayers }, (_, l) => `${l}.${m}`).every((n) => has.has(n))) {
      parts.push(`*.${m}`);
      for (let l = 0; l < nLayers; l++) covered.add(`${l}.${m}`);
    }
  for (let l = 0; l < nLayers; l++)
    if (LINEAR_MATS.every((m) => has.has(`${l}.${m}`)) && LINEAR_MATS.some((m) => !covered.has(`${l}.${m}`))) {
      parts.push(`${l}.*`);
      for (const m of LINEAR_MATS) covered.add(`${l}.${m}`);
    }
  for (const n of set) if (!covered.has(n)) parts.push(n);
  return parts.join(',');
}
