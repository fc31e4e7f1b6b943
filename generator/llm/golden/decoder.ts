import { InputError } from '../../util/errors';
import type { EngineConfig } from '../model-spec';
import { w2GemmAcc, w2GemvAcc } from '../gemv/golden';
import type { QuantModel } from '../quant/model';
import { levelOf, wnGemvAcc, type QMatrix } from '../quant/weights';
import { bitLength, sat, shr } from './fixed';
import { quantizeDynamic, requantGemv, rmsnormFixed, type QScale } from './ops';
import { buildTables, expNeg, recipLookup, ropeCosSin, ropePhase, sigmoidLookup, type EngineTables } from './tables';

/** One token's vectors while it moves through the layers (its position, last activation scale, buffers). */
interface TokenState {
  pos: number;
  a: QScale;
  x: Float64Array;
  y: Float64Array;
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  att: Float64Array;
  h1: Float64Array;
  h3: Float64Array;
  ax: Int8Array;
  ah: Int8Array;
}

/** Called for every GEMV with its int8 input codes and exact accumulators (tests compare them with the GEMV unit). */
export type GemvTap = (name: string, layer: number, m: QMatrix, x: Int8Array, acc: Float64Array) => void;

/**
 * The integer golden decoder: one decode step exactly as the engine computes it (integers, shifts, LUTs; see
 * docs/formats.md). Floats appear only in buildTables() and the quantizer, both at config time.
 * Λ-shaped KV cache: per layer and kv head, slots [0,S) hold positions 0..S-1 (pinned), slots [S,S+W) a ring of the
 * last W positions (slot S + (p-S) mod W). Keys are rotated with their absolute position before they are cached.
 */
export class GoldenDecoder {
  readonly cfg: EngineConfig;
  readonly tables: EngineTables;
  private readonly qm: QuantModel;
  private pos = 0;
  onGemv?: GemvTap;

  // KV cache: codes [layer][kvHead][slot][headDim], scales [layer][kvHead][slot][kvGroupsPerHead].
  private readonly kCodes: Int8Array;
  private readonly vCodes: Int8Array;
  private readonly kMant: Uint16Array;
  private readonly vMant: Uint16Array;
  private readonly kExp: Int16Array;
  private readonly vExp: Int16Array;

  /** The token being processed (its buffers); a block holds one per token. */
  private s: TokenState;
  private readonly states: TokenState[] = [];
  private readonly qc: Int8Array;
  private readonly scores: Float64Array;
  private readonly vfx: Float64Array;
  private readonly accDim: Float64Array;
  private readonly accHid: Float64Array;
  private readonly accKv: Float64Array;
  private readonly accVocab: Float64Array;
  /** Logits of the last step, logitFrac fraction bits. */
  readonly logits: Float64Array;

  constructor(qm: QuantModel, tables: EngineTables = buildTables(qm.cfg)) {
    this.qm = qm;
    this.cfg = qm.cfg;
    this.tables = tables;
    const m = this.cfg.model;
    const slots = m.nLayers * m.nKvHeads * this.cfg.cacheSlots;
    this.kCodes = new Int8Array(slots * m.headDim);
    this.vCodes = new Int8Array(slots * m.headDim);
    this.kMant = new Uint16Array(slots * this.cfg.kvGroupsPerHead);
    this.vMant = new Uint16Array(slots * this.cfg.kvGroupsPerHead);
    this.kExp = new Int16Array(slots * this.cfg.kvGroupsPerHead);
    this.vExp = new Int16Array(slots * this.cfg.kvGroupsPerHead);
    this.qc = new Int8Array(m.headDim);
    this.scores = new Float64Array(this.cfg.cacheSlots);
    this.vfx = new Float64Array(this.cfg.cacheSlots * m.headDim);
    this.accDim = new Float64Array(m.dim);
    this.accHid = new Float64Array(m.hiddenDim);
    this.accKv = new Float64Array(m.kvDim);
    this.accVocab = new Float64Array(m.vocabSize);
    this.logits = new Float64Array(m.vocabSize);
    this.s = this.tokenState(0, 0);
  }

  reset(): void {
    this.pos = 0;
  }

  get position(): number {
    return this.pos;
  }

  /** StepModel interface: positions must be fed in order 0, 1, 2, ... (pos 0 resets the cache). */
  forward(token: number, pos: number): Float64Array {
    if (pos === 0) this.reset();
    if (pos !== this.pos) throw new InputError(`golden decoder: position ${pos} fed out of order (expected ${this.pos})`);
    return this.step(token);
  }

  /** One decode step at the next position; returns the integer logits (logitFrac fraction bits). */
  step(token: number): Float64Array {
    return this.block([token]);
  }

  /**
   * Prefill: tokens.length prompt tokens in one pass (layer-major over the block, docs/llm-engine.md#prefill). Every
   * GEMV reads each weight once for the whole block (weights stationary, w2GemmAcc); norms, quantisation, KV writes
   * and attention run per token in position order, so token t attends to the cache as it stands after tokens < t of
   * the block were written (Λ eviction included). Returns the last token's logits, equal bit for bit to feeding the
   * tokens one by one with step().
   */
  prefill(tokens: readonly number[]): Float64Array {
    if (!tokens.length) throw new InputError('prefill: empty token block');
    return this.block(tokens);
  }

  private block(tokens: readonly number[]): Float64Array {
    const c = this.cfg;
    const m = c.model;
    for (const t of tokens)
      if (!Number.isInteger(t) || t < 0 || t >= m.vocabSize) throw new InputError(`token ${t} is outside the vocabulary [0, ${m.vocabSize})`);
    if (this.pos + tokens.length > m.seqLen)
      throw new InputError(`${this.pos + tokens.length} positions exceed the model's context of ${m.seqLen} (shorten the prompt)`);
    const ts = tokens.map((tok, i) => this.tokenState(i, this.pos + i));
    const each = (f: () => void) => ts.forEach((st) => ((this.s = st), f()));
    each(() => this.embed(tokens[ts.indexOf(this.s)]!));
    for (let l = 0; l < m.nLayers; l++) {
      const L = this.qm.layers[l]!;
      // Attention block.
      each(() => (rmsnormFixed(c, this.tables, this.s.x, L.attnNorm, this.s.y), (this.s.a = this.quantAct(this.s.y, c.normOutFrac, this.s.ax))));
      this.linear('wq', l, L.wq, ts, 'ax', 'q');
      this.linear('wk', l, L.wk, ts, 'ax', 'k');
      this.linear('wv', l, L.wv, ts, 'ax', 'v');
      each(() => {
        this.rope(this.s.q, this.s.pos);
        this.rope(this.s.k, this.s.pos);
        this.writeKv(l, this.s.pos);
        this.attention(l, this.s.pos);
        this.s.a = this.quantAct(this.s.att, c.linFrac, this.s.ax);
      });
      this.linear('wo', l, L.wo, ts, 'ax', 'y');
      each(() => this.residualAdd(this.s.y));
      // FFN block.
      each(() => (rmsnormFixed(c, this.tables, this.s.x, L.ffnNorm, this.s.y), (this.s.a = this.quantAct(this.s.y, c.normOutFrac, this.s.ax))));
      this.linear('w1', l, L.w1, ts, 'ax', 'h1');
      this.linear('w3', l, L.w3, ts, 'ax', 'h3');
      each(() => {
        for (let i = 0; i < m.hiddenDim; i++) {
          const h = this.s.h1[i]!;
          const silu = sat(shr(h * sigmoidLookup(c, this.tables, h), c.sigFrac), c.linBits);
          this.s.h1[i] = sat(shr(silu * this.s.h3[i]!, c.linFrac), c.linBits);
        }
        this.s.a = this.quantAct(this.s.h1, c.linFrac, this.s.ah);
      });
      this.linear('w2', l, L.w2, ts, 'ah', 'y');
      each(() => this.residualAdd(this.s.y));
    }
    // Only the block's last token produces logits.
    this.s = ts[ts.length - 1]!;
    rmsnormFixed(c, this.tables, this.s.x, this.qm.finalNorm, this.s.y);
    const a = this.quantAct(this.s.y, c.normOutFrac, this.s.ax);
    // a 2-bit classifier's accumulator is w2GemvAcc's own array, not accVocab: use the returned one
    const clsAcc = this.gemv('cls', 0, this.qm.cls, this.s.ax, this.accVocab);
    requantGemv(clsAcc, this.qm.cls, a, c.logitFrac, c.logitBits, this.logits);
    this.pos += tokens.length;
    return this.logits;
  }

  /** Per-token buffers: slot i of the block (reused across blocks), at position pos. */
  private tokenState(i: number, pos: number): TokenState {
    const m = this.cfg.model;
    while (this.states.length <= i) {
      const f = (n: number) => new Float64Array(n);
      this.states.push({ pos: 0, a: { mant: 0, exp: 0 }, x: f(m.dim), y: f(m.dim), q: f(m.dim), k: f(m.kvDim), v: f(m.kvDim), att: f(m.dim), h1: f(m.hiddenDim), h3: f(m.hiddenDim), ax: new Int8Array(m.dim), ah: new Int8Array(m.hiddenDim) });
    }
    const st = this.states[i]!;
    st.pos = pos;
    return st;
  }

  /** x = embedding row: shr(scale * level * mul, exp - resFrac), saturated to resBits. */
  private embed(token: number): void {
    const e = this.qm.emb;
    const c = this.cfg;
    const ng = Math.ceil(e.cols / e.group);
    for (let i = 0; i < e.cols; i++) {
      const s = e.scales[token * ng + Math.floor(i / e.group)]!;
      this.s.x[i] = sat(shr(s * levelOf(e.codes[token * e.cols + i]!, e.bits) * e.mul, e.exp - c.resFrac), c.resBits);
    }
  }

  private quantAct(y: Float64Array, frac: number, codes: Int8Array): QScale {
    return quantizeDynamic(this.cfg, this.tables, y, 0, y.length, frac, this.cfg.aBits, this.cfg.actMantBits, codes, 0);
  }

  private gemv(name: string, layer: number, w: QMatrix, x: Int8Array, acc: Float64Array): Float64Array {
    const xs = x.length === w.cols ? x : x.subarray(0, w.cols);
    const out = w.bits === 2 ? w2GemvAcc(w, xs) : wnGemvAcc(w, xs, acc);
    this.onGemv?.(name, layer, w, xs, out);
    return out;
  }

  /** One linear layer for every token of the block: a GEMV for one token, else one weights-stationary pass. */
  private linear(name: string, layer: number, w: QMatrix, ts: TokenState[], xs: 'ax' | 'ah', out: 'q' | 'k' | 'v' | 'y' | 'h1' | 'h3'): void {
    const acc = w.rows === this.cfg.model.dim ? this.accDim : w.rows === this.cfg.model.kvDim ? this.accKv : this.accHid;
    if (ts.length === 1 || w.bits !== 2) {
      for (const st of ts) requantGemv(this.gemv(name, layer, w, st[xs], acc), w, st.a, this.cfg.linFrac, this.cfg.linBits, st[out]);
      return;
    }
    const x = ts.map((st) => (st[xs].length === w.cols ? st[xs] : st[xs].subarray(0, w.cols)));
    const r = w2GemmAcc(w, x);
    ts.forEach((st, t) => {
      this.onGemv?.(name, layer, w, x[t]!, r[t]!);
      requantGemv(r[t]!, w, st.a, this.cfg.linFrac, this.cfg.linBits, st[out]);
    });
  }


  private residualAdd(o: Float64Array): void {
    const c = this.cfg;
    for (let i = 0; i < this.s.x.length; i++) this.s.x[i] = sat(this.s.x[i]! + shr(o[i]!, c.linFrac - c.resFrac), c.resBits);
  }

  /** Adjacent-pair rotation: (v0, v1) -> shr(v0 cos - v1 sin, ropeFrac), shr(v0 sin + v1 cos, ropeFrac). */
  private rope(vec: Float64Array, pos: number): void {
    const c = this.cfg;
    const hd = c.model.headDim;
    for (let j = 0; j < hd / 2; j++) {
      const [co, si] = ropeCosSin(c, this.tables, ropePhase(this.tables, pos, j));
      for (let b = 2 * j; b < vec.length; b += hd) {
        const v0 = vec[b]!;
        const v1 = vec[b + 1]!;
        vec[b] = sat(shr(v0 * co - v1 * si, c.ropeFrac), c.linBits);
        vec[b + 1] = sat(shr(v0 * si + v1 * co, c.ropeFrac), c.linBits);
      }
    }
  }

  private slotOf(pos: number): number {
    const c = this.cfg;
    return pos < c.sinks ? pos : c.sinks + ((pos - c.sinks) % c.window);
  }

  /** Quantise this position's k and v per kv head and group, and store them in the position's slot. */
  private writeKv(l: number, pos: number): void {
    const c = this.cfg;
    const m = c.model;
    const slot = this.slotOf(pos);
    for (let h = 0; h < m.nKvHeads; h++) {
      const entry = (l * m.nKvHeads + h) * c.cacheSlots + slot;
      for (let g = 0; g < c.kvGroupsPerHead; g++) {
        const off = h * m.headDim + g * c.kvGroup;
        const codeOff = entry * m.headDim + g * c.kvGroup;
        const si = entry * c.kvGroupsPerHead + g;
        const ks = quantizeDynamic(c, this.tables, this.s.k, off, c.kvGroup, c.linFrac, c.kvBits, c.kvMantBits, this.kCodes, codeOff);
        const vs = quantizeDynamic(c, this.tables, this.s.v, off, c.kvGroup, c.linFrac, c.kvBits, c.kvMantBits, this.vCodes, codeOff);
        this.kMant[si] = ks.mant;
        this.kExp[si] = ks.exp;
        this.vMant[si] = vs.mant;
        this.vExp[si] = vs.exp;
      }
    }
  }

  /** Positions visible from query position pos under the Λ mask, ascending. */
  visiblePositions(pos: number): number[] {
    const c = this.cfg;
    const out: number[] = [];
    for (let p = 0; p < Math.min(c.sinks, pos + 1); p++) out.push(p);
    for (let p = Math.max(c.sinks, pos - c.window + 1); p <= pos; p++) out.push(p);
    return out;
  }

  private attention(l: number, pos: number): void {
    const c = this.cfg;
    const tb = this.tables;
    const m = c.model;
    const hd = m.headDim;
    const kvMul = m.nHeads / m.nKvHeads;
    const vis = this.visiblePositions(pos);
    const n = vis.length;
    for (let h = 0; h < m.nHeads; h++) {
      const kh = Math.floor(h / kvMul);
      const qs = quantizeDynamic(c, tb, this.s.q, h * hd, hd, c.linFrac, c.aBits, c.actMantBits, this.qc, 0);
      const qmInv = qs.mant * tb.invSqrtHead;
      // Scores: per group, dot(qcode, kcode) * kmant * (qmant * invSqrt), shifted to scoreFrac.
      let max = -Infinity;
      for (let t = 0; t < n; t++) {
        const entry = (l * m.nKvHeads + kh) * c.cacheSlots + this.slotOf(vis[t]!);
        let s = 0;
        for (let g = 0; g < c.kvGroupsPerHead; g++) {
          const si = entry * c.kvGroupsPerHead + g;
          const base = entry * hd + g * c.kvGroup;
          let dot = 0;
          for (let i = 0; i < c.kvGroup; i++) dot += this.qc[g * c.kvGroup + i]! * this.kCodes[base + i]!;
          s += shr(dot * this.kMant[si]! * qmInv, c.invSqrtFrac - this.kExp[si]! - qs.exp - c.scoreFrac);
        }
        s = sat(s, 32);
        this.scores[t] = s;
        if (s > max) max = s;
        // Dequantised V for this position (vFrac, saturated to vBits).
        for (let g = 0; g < c.kvGroupsPerHead; g++) {
          const si = entry * c.kvGroupsPerHead + g;
          const base = entry * hd + g * c.kvGroup;
          const vm = this.vMant[si]!;
          const sh = -(this.vExp[si]! + c.vFrac);
          for (let i = 0; i < c.kvGroup; i++) this.vfx[t * hd + g * c.kvGroup + i] = sat(shr(this.vCodes[base + i]! * vm, sh), c.vBits);
        }
      }
      // Softmax: e = exp(score - max) from the 2^-f table, normalised by the reciprocal of the sum.
      let sum = 0;
      for (let t = 0; t < n; t++) sum += this.scores[t] = expNeg(c, tb, max - this.scores[t]!);
      const sh = bitLength(sum) - c.recipBits;
      const ms = shr(sum, sh);
      const r = recipLookup(c, tb, ms);
      const ps = c.recipFrac + sh - c.probFrac;
      for (let i = 0; i < hd; i++) this.s.att[h * hd + i] = 0;
      for (let t = 0; t < n; t++) {
        const p = shr(this.scores[t]! * r, ps);
        for (let i = 0; i < hd; i++) this.s.att[h * hd + i]! += p * this.vfx[t * hd + i]!;
      }
      for (let i = 0; i < hd; i++) this.s.att[h * hd + i] = sat(shr(this.s.att[h * hd + i]!, c.probFrac + c.vFrac - c.linFrac), c.linBits);
    }
  }
}
