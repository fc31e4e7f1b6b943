/**
 * Cycle model of prefill (docs/llm-engine.md#prefill-cycle-model). Nothing here is simulated: the per-token vector /
 * attention op costs are the decode engine's RTL op lengths (the table in docs/llm-engine.md, checked against the
 * engine's perf counters by `bench llm`), the array's are from its geometry (row blocks x column steps x tokens).
 *
 * Schedule: the prompt is cut into groups of `block` tokens; two groups (A, B) are in flight. Per layer each group
 * passes four GEMV phases through the array (G1 = wq wk wv, G2 = wo, G3 = w1 w3, G4 = w2) and four vector phases
 * through the vector / attention units (V1 = KV write + attention + quant, V2 = resid + norm + quant, V3 = SiLU +
 * quant, V4 = resid + next norm + quant), token by token in position order. The array runs A.G1, B.G1, A.G2, B.G2,
 * ...; the vector unit A.V1, B.V1, ...; a phase starts when its unit is free and the phase before it (same group) is
 * done, and B's attention after A's (its KV entries). So the array rarely waits: the vector work of one group hides
 * behind the other group's GEMV.
 */
import { ceilDiv, matDims, type LlmEngineConfig } from '../engine/hw-config';
import { isEpilogue, stepPhases } from '../engine/pack-groups';
import { LINEAR_MATS, linearDims, matrixBits } from '../model-spec';
import type { PrefillConfig } from './config';

/** Decode-engine op lengths per token (cycles), the RTL's (docs/llm-engine.md "Controller and schedule"). */
export function tokenOpCycles(cfg: LlmEngineConfig) {
  const m = cfg.engine.model;
  const P = cfg.P;
  const gph = cfg.engine.kvGroupsPerHead;
  const hd = m.headDim;
  const norm = 1 + cfg.depth.x;
  const quantDim = 1 + cfg.depth.x;
  const quantHid = 1 + cfg.depth.h;
  return {
    embed: 1 + cfg.depth.x,
    norm,
    quantDim,
    quantHid,
    resid: cfg.depth.x,
    silu: cfg.depth.h,
    kvw: m.nKvHeads * gph * ((2 * cfg.engine.kvGroup) / P + 1),
    attn: m.nHeads * ((3 * hd) / P + 2 + cfg.slotRows * 2 * gph + cfg.expPassCycles),
  };
}

/**
 * Cycles of one row block of a pass: column steps x tokens (token pairs on the DSP array); its n accumulators leave
 * from one bank while the next row block fills the other (prefill/gemm.ts), so they cost time only when a row block
 * is shorter than n + 1 cycles (the bank changes hands one cycle after the last output beat).
 */
export const rowBlockCycles = {
  lut: (steps: number, n: number): number => Math.max(steps * n, n + 1),
  dsp: (steps: number, n: number): number => Math.max(steps * ceilDiv(n, 2), n + 1),
};

/**
 * The engine RTL's prefill GEMV time for a block of n tokens (one block at a time, docs/llm-engine.md#prefill-in-the-engine-rtl):
 * the engine's GEMV unit holds each word for ceil(n / K) steps of K tokens (K = 1 on the LUT array, 3 with the DSP
 * half); at a row end a step's K results leave y one per cycle while the pipeline pauses (n - ceil(n / K) cycles per
 * row block); each pass adds the same fill and writer drain as gemmPassCycles; the last token's classifier is a
 * decode pass. Checked against the engine's perf_gemv counter by `bench llm` (engineRtlPrefill); n = 1 is a decode step
 * (`bench llm-mixed` compares it with W2, mixed and W4 decode).
 */
export function engineGemvBlockCycles(cfg: LlmEngineConfig, n: number): number {
  const m = cfg.engine.model;
  const g = cfg.gemv;
  const steps = (cols: number) => ceilDiv(cols, cfg.engine.wGroup) * g.stepsPerGroup;
  const pass = (rows: number, cols: number) => engineGemvPassCycles(cfg, rows, cols, n);
  // a 4-bit matrix (w4Matrices / wBits 4, decode only) is two passes, one per 2-bit digit plane
  let linear = 0;
  for (let l = 0; l < m.nLayers; l++) for (const mt of LINEAR_MATS) linear += (matrixBits(cfg.engine, l, mt) / 2) * pass(...linearDims(m, mt));
  return linear + cfg.clsPasses * ceilDiv(m.vocabSize, g.lanes) * steps(m.dim);
}

/** One weight pass of a rows x cols matrix for a block of n tokens (n = 1: decode) in engineGemvBlockCycles' model. */
export function engineGemvPassCycles(cfg: LlmEngineConfig, rows: number, cols: number, n: number): number {
  const g = cfg.gemv;
  const K = g.tokensPerStep;
  const steps = ceilDiv(cols, cfg.engine.wGroup) * g.stepsPerGroup;
  const rowBlock = Math.max(steps * ceilDiv(n, K) + n - ceilDiv(n, K), n + 1);
  return ceilDiv(rows, g.lanes) * rowBlock + 16 + ceilDiv(n * g.lanes, cfg.P);
}

/** The decode engine's vector and attention op cycles per token (tokenOpCycles over the layers; not overlapped with GEMV). */
export function vectorCyclesPerToken(cfg: LlmEngineConfig): number {
  const op = tokenOpCycles(cfg);
  return op.embed + cfg.engine.model.nLayers * (2 * op.norm + 3 * op.quantDim + op.kvw + op.attn + 2 * op.resid + op.silu + op.quantHid);
}

/** Cycles of one weight pass of a rows x cols matrix for `tokens` tokens, rows split between the LUT and DSP arrays. */
export function gemmPassCycles(pc: PrefillConfig, cfg: LlmEngineConfig, rows: number, cols: number, tokens: number, bytesPerCycle: number): { cycles: number; compute: number; memory: number; lutRows: number } {
  const lutSteps = ceilDiv(cols, pc.lut.cols);
  const dspSteps = pc.dsp.lanes ? ceilDiv(cols, pc.dsp.cols) : 0;
  // x comes from the group's code buffer, which QUANT fills during the vector phases (no load phase)
  const lutBlock = rowBlockCycles.lut(lutSteps, tokens);
  const dspBlock = rowBlockCycles.dsp(dspSteps, tokens);
  let best = { compute: Infinity, lutRows: 0 };
  for (let a = 0; a <= ceilDiv(rows, pc.lut.lanes); a++) {
    const lutRows = Math.min(rows, a * pc.lut.lanes);
    const rest = rows - lutRows;
    if (rest && !pc.dsp.lanes) continue;
    const compute = Math.max(a * lutBlock, ceilDiv(rest, pc.dsp.lanes || 1) * dspBlock);
    if (compute < best.compute) best = { compute, lutRows };
  }
  const keptCols = pc.sparse ? cols / 2 : cols;
  const e = cfg.engine;
  const bytes = (rows * keptCols * (pc.sparse ? 3.5 : 2)) / 8 + (rows * ceilDiv(cols, e.wGroup) * e.scaleBits) / 8;
  const memory = Math.ceil(bytes / bytesPerCycle);
  // pipeline fill and the writer's drain of the last row block (block x lanes outputs at vpar per cycle)
  const drain = 16 + ceilDiv(tokens * Math.max(pc.lut.lanes, pc.dsp.lanes), cfg.P);
  return { cycles: Math.max(best.compute, memory) + drain, compute: best.compute, memory, lutRows: best.lutRows };
}

export interface PrefillEstimate {
  tokens: number;
  block: number;
  groups: number;
  /** Cycles from the first prompt token to the last token's logits (the time to first token). */
  cycles: number;
  /** Cycles the array is busy with linear-layer passes. */
  arrayBusy: number;
  /** Cycles the array waits for the vector unit (or for the memory) inside the layers. */
  arrayWait: number;
  /** The last token's final norm + quant + classifier (decode path). */
  tailCycles: number;
  /** Useful products (kept weights x tokens) of the linear layers, and products / (peak x cycles). */
  products: number;
  macUtilisation: number;
  /** Products / (peak x array-busy cycles): how full the array is while it runs. */
  arrayUtilisation: number;
  tokPerS: number;
}

/**
 * Prefill of `tokens` prompt tokens in groups of `block`; `clsCycles` is the classifier's decode-path time for the
 * last token (the caller's model of it), `clockHz` converts to tokens per second.
 */
export function prefillCycles(pc: PrefillConfig, cfg: LlmEngineConfig, tokens: number, opts: { bytesPerCycle: number; clsCycles: number; clockHz: number }): PrefillEstimate {
  const m = cfg.engine.model;
  const op = tokenOpCycles(cfg);
  const block = pc.params.block;
  const sizes: number[] = [];
  for (let t = 0; t < tokens; t += block) sizes.push(Math.min(block, tokens - t));
  const pass = (rows: number, cols: number, n: number) => gemmPassCycles(pc, cfg, rows, cols, n, opts.bytesPerCycle).cycles;
  const G = (n: number) => [
    2 * pass(m.dim, m.dim, n) + 2 * pass(m.kvDim, m.dim, n) - pass(m.dim, m.dim, n), // wq + wk + wv
    pass(m.dim, m.dim, n),
    2 * pass(m.hiddenDim, m.dim, n),
    pass(m.dim, m.hiddenDim, n),
  ];
  const V = (n: number, last: boolean) => [
    n * (op.kvw + op.attn + op.quantDim),
    n * (op.resid + op.norm + op.quantDim),
    n * (op.silu + op.quantHid),
    n * (op.resid + (last ? 0 : op.norm + op.quantDim)),
  ];
  let array = 0; // when the array is free
  let vec = 0; // when the vector unit is free
  let busy = 0;
  let prevAttn = 0; // end of the previous group's attention in the same layer (KV order)
  // groups go through in pairs: A.G1, B.G1, A.G2, B.G2, ... per layer
  for (let g = 0; g < sizes.length; g += 2) {
    const pair = sizes.slice(g, g + 2);
    const ready = pair.map((n) => (vec += n * (op.embed + op.norm + op.quantDim))); // prologue: embed, norm, quant
    for (let l = 0; l < m.nLayers; l++) {
      const last = l === m.nLayers - 1;
      for (let ph = 0; ph < 4; ph++)
        pair.forEach((n, i) => {
          const start = Math.max(array, ready[i]!);
          const d = G(n)[ph]!;
          array = start + d;
          busy += d;
          const vStart = Math.max(vec, array, ph === 0 ? prevAttn : 0);
          vec = vStart + V(n, last)[ph]!;
          if (ph === 0) prevAttn = vec;
          ready[i] = vec;
        });
    }
  }
  const tail = op.norm + op.quantDim + opts.clsCycles;
  const cycles = vec + tail;
  const layerProducts = (2 * m.dim * m.dim + 2 * m.kvDim * m.dim + 3 * m.hiddenDim * m.dim) * (pc.sparse ? 0.5 : 1);
  const products = tokens * m.nLayers * layerProducts;
  return {
    tokens,
    block,
    groups: sizes.length,
    cycles,
    arrayBusy: busy,
    arrayWait: vec - busy,
    tailCycles: tail,
    products,
    macUtilisation: products / (pc.peakProducts * cycles),
    arrayUtilisation: products / (pc.peakProducts * busy),
    tokPerS: tokens / (cycles / opts.clockHz),
  };
}

/**
 * The engine RTL's block time with two groups in flight (hw prefillGroups 2, engine/control-groups.ts): an event
 * model of its two queues. The vector queue runs each vector phase for A, then B (a phase of a group starts when the
 * GEMV phase before it, of that group, is done); the GEMV queue each GEMV phase for A, then B (when the vector phase
 * before it is done); the classifier for the last group only, and END after it. A vector phase costs its ops'
 * per-token lengths (tokenOpCycles) times the group's tokens, plus 2 cycles at its end; a GEMV op costs its pass
 * (engineGemvPassCycles; the unit reads x in place, so there is no x load) and 2 cycles for its constant and job,
 * or the pass's bytes at `bytesPerCycle` if slower. Returns the block's cycles and the GEMV queue's busy cycles.
 */
export function engineGroupsBlockCycles(cfg: LlmEngineConfig, n: number, bytesPerCycle = Infinity): { cycles: number; gemvBusy: number } {
  const m = cfg.engine.model;
  const g = cfg.gemv;
  const T = cfg.hw.prefillBlock;
  const op = tokenOpCycles(cfg);
  const sizes = n > T ? [T, n - T] : [n];
  const { vector, gemv } = stepPhases(cfg);
  const opLen = (o: (typeof vector)[number][number]): number =>
    ({ EMBED: op.embed, NORM: op.norm, QUANT: o.src === 'H1' ? op.quantHid : op.quantDim, KVW: op.kvw, ATTN: op.attn, RESID: op.resid, SILU: op.silu, END: 1 })[o.op as string] ?? 1;
  const vLen = (p: number, gi: number): number => {
    const last = gi === sizes.length - 1;
    let c = 2;
    for (const o of vector[p]!) if (!isEpilogue(o)) c += opLen(o) * sizes[gi]!; else if (last) c += opLen(o);
    return c;
  };
  const steps = (cols: number) => ceilDiv(cols, cfg.engine.wGroup) * g.stepsPerGroup;
  const wordBytes = (g.weightPortBits + g.scalePortBits / g.stepsPerGroup) / 8;
  const gLen = (p: number, k: number): number => {
    let c = 1;
    for (const o of gemv[p]!) {
      const [rows, cols] = matDims(m, o.mat!);
      const compute = engineGemvPassCycles(cfg, rows, cols, k);
      const memory = (ceilDiv(rows, g.lanes) * steps(cols) * wordBytes) / bytesPerCycle;
      c += Math.max(compute, memory) + 2;
    }
    return c;
  };
  let vq = 0;
  let gq = 0;
  let busy = 0;
  const gEnd: number[][] = sizes.map(() => []);
  for (let p = 0; p < vector.length; p++) {
    const vEnd: number[] = [];
    const lastPhase = p === vector.length - 1;
    sizes.forEach((_, gi) => {
      if (lastPhase && gi < sizes.length - 1) return;
      const start = Math.max(vq, p > 0 ? (lastPhase ? gq : gEnd[gi]![p - 1]!) : 0);
      vq = vEnd[gi] = start + vLen(p, gi);
    });
    if (p >= gemv.length) break;
    const cls = p === gemv.length - 1;
    sizes.forEach((size, gi) => {
      if (cls && gi < sizes.length - 1) return;
      const k = cls ? 1 : size;
      const len = gLen(p, k);
      gq = gEnd[gi]![p] = Math.max(gq, vEnd[gi]!) + len;
      busy += len;
    });
  }
  return { cycles: vq, gemvBusy: busy };
}
