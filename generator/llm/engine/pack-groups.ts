/**
 * Streams of a block on an engine with two prefill groups in flight (control-groups.ts). Each queue reads its own
 * streams in its own order, so both orders are fixed however the queues interleave in time:
 *  - w / s (GEMV queue): every GEMV phase of the decode step (a maximal run of GEMV ops) once for group A and once
 *    for group B (the classifier's phase once, for the block's last group); each GEMV's s words are preceded by its
 *    32-bit constant (multiplier | exponent << 16), which the one-queue engine reads from aux;
 *  - aux (vector queue): every vector phase for A then for B: each EMBED's rows of the group's tokens, each NORM's
 *    weights once per group (the epilogue's final norm once).
 */
import { InputError } from '../../util/errors';
import { groupsOf } from '../gemv/golden';
import type { QuantModel } from '../quant/model';
import { ceilDiv, matDims, type LlmEngineConfig } from './hw-config';
import { gemvConstant, matrixOf, normAux, packEmbedding, type TokenImage } from './pack';
import { unrolled, type Instr } from './schedule';

type Op = Instr & { layer: number };

/** The decode step's ops as alternating runs: vector phase 0, GEMV phase 0, vector phase 1, …, the last vector phase (END). */
export function stepPhases(cfg: LlmEngineConfig): { vector: Op[][]; gemv: Op[][] } {
  const vector: Op[][] = [[]];
  const gemv: Op[][] = [];
  let inGemv = false;
  for (const op of unrolled(cfg)) {
    const g = op.op === 'GEMV';
    if (g && !inGemv) gemv.push([]);
    if (!g && inGemv) vector.push([]);
    (g ? gemv[gemv.length - 1]! : vector[vector.length - 1]!).push(op);
    inGemv = g;
  }
  return { vector, gemv };
}

/** The groups (0 = A, 1 = B) of a block of n tokens and each group's tokens. */
export function blockGroups(cfg: LlmEngineConfig, n: number): number[][] {
  const T = cfg.hw.prefillBlock;
  const idx = Array.from({ length: n }, (_, j) => j);
  return n > T ? [idx.slice(0, T), idx.slice(T)] : [idx];
}

/** The w, s and aux words of one block of `tokens` on a two-group engine. */
export function packGroupBlock(cfg: LlmEngineConfig, qm: QuantModel, image: TokenImage, tokens: readonly number[]): { w: Uint32Array; s: Uint32Array; aux: Uint32Array } {
  if (cfg.hw.prefillGroups < 2) throw new InputError('packGroupBlock is for engines with prefillGroups 2');
  if (tokens.length < 1 || tokens.length > cfg.blockTokens)
    throw new InputError(`a block of ${tokens.length} tokens: the engine takes 1 to ${cfg.blockTokens} (prefillBlock ${cfg.hw.prefillBlock} x 2 groups)`);
  const md = cfg.engine.model;
  const gc = cfg.gemv;
  const wPer = Math.ceil(cfg.wPortBits / 32);
  const sPer = Math.ceil(cfg.sPortBits / 32);
  const groups = blockGroups(cfg, tokens.length);
  const { vector, gemv } = stepPhases(cfg);

  // where each GEMV op's words sit in the decode image (decode order)
  const spans = new Map<Op, { w: [number, number]; s: [number, number] }>();
  let wo = 0;
  let so = 0;
  for (const ph of gemv)
    for (const op of ph) {
      const [rows, cols] = matDims(md, op.mat!);
      const nrb = ceilDiv(rows, gc.lanes);
      const ng = groupsOf(cols, cfg.engine.wGroup);
      const nw = nrb * ng * gc.stepsPerGroup;
      const ns = nrb * ng;
      spans.set(op, { w: [wo, wo + nw], s: [so, so + ns] });
      wo += nw;
      so += ns;
    }
  if (wo !== image.wWords || so !== image.sWords) throw new InputError('the decode image does not match the engine schedule (pack it for this config)');

  const w: Uint32Array[] = [];
  const s: Uint32Array[] = [];
  gemv.forEach((ph, p) => {
    const passes = p === gemv.length - 1 ? 1 : groups.length;
    for (let r = 0; r < passes; r++)
      for (const op of ph) {
        const sp = spans.get(op)!;
        w.push(image.w.subarray(sp.w[0] * wPer, sp.w[1] * wPer));
        const c = new Uint32Array(sPer);
        c[0] = gemvConstant(matrixOf(qm, op.mat!, op.layer));
        s.push(c, image.s.subarray(sp.s[0] * sPer, sp.s[1] * sPer));
      }
  });

  const aux: ArrayLike<number>[] = [];
  for (const ph of vector)
    groups.forEach((grp, gi) => {
      // the epilogue (final norm, its QUANT, END) is the block's last group's only
      const ops = gi < groups.length - 1 ? ph.filter((o) => !isEpilogue(o)) : ph;
      for (const op of ops) {
        if (op.op === 'EMBED') for (const t of grp) aux.push(packEmbedding(cfg, qm, tokens[t]!));
        if (op.op === 'NORM') {
          const L = qm.layers[op.layer]!;
          aux.push(normAux(cfg, op.norm === 'attn' ? L.attnNorm : op.norm === 'ffn' ? L.ffnNorm : qm.finalNorm, `${op.norm} norm (layer ${op.layer})`));
        }
      }
    });
  return { w: concat(w), s: concat(s), aux: concat(aux) };
}

/** An op of the epilogue (final norm, its QUANT, END): the block's last token's only. */
export const isEpilogue = (o: Op): boolean => o.norm === 'final' || (o.op === 'QUANT' && o.mat === 'cls') || o.op === 'END';

function concat(parts: ArrayLike<number>[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}
