/**
 * The engine's view of external memory: the weight (w), scale (s) and aux streams of one decode step, laid out by
 * walking the same schedule the controller executes (schedule.ts). Words are packed straight into 32-bit limbs
 * (the simulator's wire format) because a 7B-shaped layer has ~25K words of 14 Kbit each.
 * Formats: docs/llm-engine.md#interface. w/s follow the GEMV packing (docs/formats.md#gemv).
 */
import { InputError } from '../../util/errors';
import { groupsOf } from '../gemv/golden';
import { sparseStep } from '../gemv/pack';
import { checkSparse24, QUAD_FIELD_BITS } from '../gemv/sparse';
import type { QNorm, QuantModel } from '../quant/model';
import type { QMatrix } from '../quant/weights';
import { matrixBits, type LinearMat } from '../model-spec';
import { ceilDiv, type LlmEngineConfig, type MatName } from './hw-config';
import { blockOrder, unrolled, type Instr } from './schedule';

export interface TokenImage {
  /** Weight words as limbs (ceil(wPortBits/32) per word). */
  w: Uint32Array;
  s: Uint32Array;
  /** Aux beats after the embedding row (P limbs each). */
  auxTail: Uint32Array;
  wWords: number;
  sWords: number;
}

/** Growing limb buffer of fixed-width words. */
class Limbs {
  readonly perWord: number;
  buf: Uint32Array;
  words = 0;
  constructor(readonly width: number, capacityWords: number) {
    this.perWord = Math.ceil(width / 32);
    this.buf = new Uint32Array(Math.max(1, capacityWords) * this.perWord);
  }
  /** Start a new zeroed word; returns its limb offset. */
  add(): number {
    if ((this.words + 1) * this.perWord > this.buf.length) {
      const nb = new Uint32Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
    }
    return this.words++ * this.perWord;
  }
  /** OR value (< 2^32, bits wide, never straddling beyond 2 limbs) at bit position. */
  put(off: number, bit: number, value: number, bits: number): void {
    const li = off + (bit >>> 5);
    const sh = bit & 31;
    this.buf[li] = (this.buf[li]! | (value << sh)) >>> 0;
    if (sh + bits > 32) this.buf[li + 1] = (this.buf[li + 1]! | (value >>> (32 - sh))) >>> 0;
  }
  done(): Uint32Array {
    return this.buf.subarray(0, this.words * this.perWord);
  }
}

const u16 = (v: number) => v & 0xffff;

function checkRange(what: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw new InputError(`${what} = ${v} is outside the engine's supported range [${lo}, ${hi}] (raise the hw range in the preset)`);
}


/**
 * The matrix a 2:4 unit sees for one pass: a pruned linear layer as it is; the dense classifier's pass 2d+h as digit
 * plane d restricted to quad positions {2h, 2h+1} (the two halves sum to the dense plane).
 */
function sparseView(mq: QMatrix, pass: number, isCls: boolean): { m: QMatrix; digit: number } {
  if (!isCls) return { m: mq, digit: 0 };
  const half = pass & 1;
  const keep = new Uint8Array(mq.rows * mq.cols);
  for (let r = 0; r < mq.rows; r++) for (let c = 0; c < mq.cols; c++) keep[r * mq.cols + c] = ((c & 3) >> 1) === half ? 1 : 0;
  return { m: { ...mq, keep }, digit: pass >> 1 };
}

/** Lay out one matrix (one 2-bit digit plane of it, or one 2:4 pass) as GEMV w and s words. */
function packMatrix(cfg: LlmEngineConfig, mq: QMatrix, plane: number, w: Limbs, s: Limbs, isCls = false): void {
  const gc = cfg.gemv;
  if (gc.sparse) return packSparseMatrix(cfg, mq, plane, w, s, isCls);
  const { lanes, simd, group, scaleBits } = gc;
  const ng = groupsOf(mq.cols, mq.group);
  const colSteps = ng * gc.stepsPerGroup;
  const nrb = ceilDiv(mq.rows, lanes);
  const sh = 2 * plane;
  for (let rb = 0; rb < nrb; rb++)
    for (let st = 0; st < colSteps; st++) {
      const off = w.add();
      for (let l = 0; l < lanes; l++) {
        const r = rb * lanes + l;
        if (r >= mq.rows) break;
        const rowBase = r * mq.cols;
        for (let j = 0; j < simd; j++) {
          const col = st * simd + j;
          if (col >= mq.cols) break;
          const q = (mq.codes[rowBase + col]! >>> sh) & 3;
          if (q) w.put(off, 2 * (l * simd + j), q, 2);
        }
      }
      if ((st + 1) % gc.stepsPerGroup === 0) {
        const gi = (st + 1) / gc.stepsPerGroup - 1;
        const so = s.add();
        for (let l = 0; l < lanes; l++) {
          const r = rb * lanes + l;
          if (r >= mq.rows) break;
          s.put(so, scaleBits * l, mq.scales[r * ng + gi]!, scaleBits);
        }
      }
    }
  void group;
}

function packSparseMatrix(cfg: LlmEngineConfig, mq: QMatrix, pass: number, w: Limbs, s: Limbs, isCls: boolean): void {
  const gc = cfg.gemv;
  const { m, digit } = sparseView(mq, pass, isCls);
  const ng = groupsOf(mq.cols, mq.group);
  const colSteps = ng * gc.stepsPerGroup;
  const nrb = ceilDiv(mq.rows, gc.lanes);
  const fields: number[] = [];
  for (let rb = 0; rb < nrb; rb++)
    for (let st = 0; st < colSteps; st++) {
      const off = w.add();
      sparseStep(gc, m, rb, st, fields, digit);
      fields.forEach((f, i) => f && w.put(off, QUAD_FIELD_BITS * i, f, QUAD_FIELD_BITS));
      if ((st + 1) % gc.stepsPerGroup === 0) {
        const gi = (st + 1) / gc.stepsPerGroup - 1;
        const so = s.add();
        for (let l = 0; l < gc.lanes; l++) {
          const r = rb * gc.lanes + l;
          if (r >= mq.rows) break;
          s.put(so, gc.scaleBits * l, mq.scales[r * ng + gi]!, gc.scaleBits);
        }
      }
    }
}

/** The token-independent streams of one decode step (all weights, scales and aux after the embedding row). */
export function packModel(cfg: LlmEngineConfig, qm: QuantModel): TokenImage {
  const e = cfg.engine;
  const md = e.model;
  const P = cfg.P;
  const hw = cfg.hw;
  if (qm.cfg.model.dim !== md.dim || qm.layers.length !== md.nLayers || qm.cls.rows !== md.vocabSize)
    throw new InputError('quantised model does not match the engine config shape');
  if (qm.cls.bits !== e.clsBits) throw new InputError(`classifier has ${qm.cls.bits}-bit codes, the engine expects clsBits=${e.clsBits}`);
  let wCap = 0;
  let sCap = 0;
  const prog = unrolled(cfg);
  for (const ins of prog)
    if (ins.op === 'GEMV') {
      const mq = matrixOf(qm, ins.mat!, ins.layer);
      const ng = groupsOf(mq.cols, mq.group);
      const nrb = ceilDiv(mq.rows, cfg.gemv.lanes);
      wCap += nrb * ng * cfg.gemv.stepsPerGroup;
      sCap += nrb * ng;
    }
  const w = new Limbs(cfg.wPortBits, wCap);
  const s = new Limbs(cfg.sPortBits, sCap);
  const aux: number[] = [];
  const beat = (lanes: number[]) => {
    for (let q = 0; q < P; q++) aux.push((lanes[q] ?? 0) >>> 0);
  };
  const normBeats = (n: QNorm, what: string) => aux.push(...normAux(cfg, n, what));
  for (const ins of prog) {
    const L = qm.layers[ins.layer]!;
    if (ins.op === 'NORM') normBeats(ins.norm === 'attn' ? L.attnNorm : ins.norm === 'ffn' ? L.ffnNorm : qm.finalNorm, `${ins.norm} norm (layer ${ins.layer})`);
    else if (ins.op === 'GEMV') {
      const mq = matrixOf(qm, ins.mat!, ins.layer);
      if (mq.group !== e.wGroup) throw new InputError(`${ins.mat} was quantised with group ${mq.group}, the engine has wGroup ${e.wGroup}`);
      checkRange(`${ins.mat} (layer ${ins.layer}) exponent`, mq.exp, hw.wExpMin, hw.wExpMax);
      checkRange(`${ins.mat} multiplier`, mq.mul, 0, 0xffff);
      if (ins.mat !== 'cls' && Boolean(mq.keep) !== cfg.gemv.sparse)
        throw new InputError(
          `${ins.mat} (layer ${ins.layer}) is ${mq.keep ? '2:4 sparse' : 'dense'} but the engine was built for ${cfg.gemv.sparse ? '2:4 sparse' : 'dense'} weights ` +
            `(quantise and build with the same --sparsity)`,
        );
      if (ins.mat !== 'cls' && mq.keep) checkSparse24(mq);
      const bits = ins.mat === 'cls' ? e.clsBits : matrixBits(e, ins.layer, ins.mat as LinearMat);
      if (mq.bits !== bits)
        throw new InputError(
          `${ins.mat} (layer ${ins.layer}) has ${mq.bits}-bit codes but the engine was built for ${bits}-bit ` +
            `(wBits ${e.wBits}, w4Matrices ${e.w4Matrices.join(',') || 'none'}): quantise and build with the same mixed-precision spec`,
        );
      beat([gemvConstant(mq)]);
      packMatrix(cfg, mq, ins.plane ?? 0, w, s, ins.mat === 'cls');
    }
  }
  return { w: w.done(), s: s.done(), auxTail: Uint32Array.from(aux), wWords: w.words, sWords: s.words };
}

/** The aux beats of a NORM: the exponent, then dim/P beats of weight mantissas (P lanes each). */
export function normAux(cfg: LlmEngineConfig, n: QNorm, what: string): number[] {
  const e = cfg.engine;
  const P = cfg.P;
  checkRange(`${what} exponent`, n.exp, cfg.hw.normExpMin, cfg.hw.normExpMax);
  const out = new Array<number>(P * (1 + e.model.dim / P)).fill(0);
  out[0] = u16(n.exp);
  for (let i = 0; i < e.model.dim; i++) out[P + i] = (n.mant[i]! & ((1 << e.normWBits) - 1)) >>> 0;
  return out;
}

/** A GEMV's 32-bit constant (the weights' multiplier and exponent): lane 0 of its aux beat, or its s word with two groups. */
export const gemvConstant = (mq: QMatrix): number => (u16(mq.mul) | (u16(mq.exp) << 16)) >>> 0;

/** The QMatrix a GEMV op of `layer` reads. */
export function matrixOf(qm: QuantModel, mat: MatName, layer: number): QMatrix {
  return mat === 'cls' ? qm.cls : qm.layers[layer]![mat];
}

/** The aux beats of the embedding row of `token` (constant beat, then dim/P beats of code | scale << 8). */
export function packEmbedding(cfg: LlmEngineConfig, qm: QuantModel, token: number): Uint32Array {
  const e = qm.emb;
  const md = cfg.engine.model;
  const P = cfg.P;
  if (!Number.isInteger(token) || token < 0 || token >= md.vocabSize) throw new InputError(`token ${token} is outside [0, ${md.vocabSize})`);
  checkRange('embedding exponent', e.exp, cfg.hw.wExpMin, cfg.hw.wExpMax);
  const out = new Uint32Array(P * (1 + md.dim / P));
  out[0] = (u16(e.mul) | (u16(e.exp) << 16)) >>> 0;
  const ng = groupsOf(e.cols, e.group);
  for (let i = 0; i < md.dim; i++) {
    const sc = e.scales[token * ng + Math.floor(i / e.group)]!;
    out[P + i] = (e.codes[token * e.cols + i]! | (sc << 8)) >>> 0;
  }
  return out;
}

/** Unpack logits beats (P signed 32-bit lanes each) into vocab values. */
export function unpackLogits(cfg: LlmEngineConfig, beats: readonly bigint[]): number[] {
  const out: number[] = [];
  const V = cfg.engine.model.vocabSize;
  for (const b of beats)
    for (let q = 0; q < cfg.P && out.length < V; q++) out.push(Number(BigInt.asIntN(32, b >> BigInt(32 * q))));
  return out;
}

/** Beats of the logits stream per decode step. */
export const logitBeats = (cfg: LlmEngineConfig): number => ceilDiv(cfg.engine.model.vocabSize, cfg.P);

/**
 * The aux beats of a block of `tokens` (a prefill block, or one decode step): every token's embedding row, then the
 * step's aux tail. The w / s words are the decode step's unchanged; both facts are checked against the controller's
 * block order (schedule.ts blockOrder) rather than assumed.
 */
export function packBlockAux(cfg: LlmEngineConfig, qm: QuantModel, image: TokenImage, tokens: readonly number[]): Uint32Array {
  if (tokens.length < 1 || tokens.length > cfg.hw.prefillBlock)
    throw new InputError(`a block of ${tokens.length} tokens: the engine takes 1 to ${cfg.hw.prefillBlock} (its prefillBlock)`);
  checkBlockStreams(cfg, tokens.length);
  const rows = tokens.map((t) => packEmbedding(cfg, qm, t));
  const out = new Uint32Array(rows.reduce((a, r) => a + r.length, 0) + image.auxTail.length);
  let o = 0;
  for (const r of rows) (out.set(r, o), (o += r.length));
  out.set(image.auxTail, o);
  return out;
}

const checked = new WeakMap<LlmEngineConfig, Set<number>>();

/** A block reads w / s in the decode step's order, and aux as `tokens` embedding rows then the decode tail. */
export function checkBlockStreams(cfg: LlmEngineConfig, tokens: number): void {
  const done = checked.get(cfg) ?? new Set<number>();
  if (done.has(tokens)) return;
  const key = (i: Instr & { layer: number }) => `${i.op}:${i.mat ?? ''}:${i.plane ?? 0}:${i.norm ?? ''}:${i.layer}`;
  const block = blockOrder(cfg, tokens);
  const dec = unrolled(cfg);
  const gemvs = (xs: Array<Instr & { layer: number }>) => xs.filter((i) => i.op === 'GEMV').map(key);
  // aux readers: every EMBED, a NORM's first token (the others reuse its weights), every GEMV's constant beat
  const first = (i: (typeof block)[number]) => i.op !== 'NORM' || i.token === 0 || i.layer === cfg.engine.model.nLayers - 1 && i.norm === 'final';
  const auxOf = (xs: Array<Instr & { layer: number }>) => xs.filter((i) => ['EMBED', 'NORM', 'GEMV'].includes(i.op)).map(key);
  const bAux = auxOf(block.filter(first));
  const want = [...Array<string>(tokens - 1).fill(key({ op: 'EMBED', layer: 0 })), ...auxOf(dec)];
  if (gemvs(block).join() !== gemvs(dec).join() || bAux.join() !== want.join())
    throw new InputError(`the controller's ${tokens}-token block does not read the decode step's stream order`);
  done.add(tokens);
  checked.set(cfg, done);
}
