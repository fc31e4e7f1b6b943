/**
 * The QAT student: the quantised engine's forward pass in tfjs over whole teacher-forced sequences. Linear weights
 * are fake-quantised from trainable latents and scale codes; activations (A8 per token), queries (A8 per head) and
 * K/V (KV4 per token and group) are fake-quantised exactly as the golden decoder rounds (ties aside); attention uses
 * the Λ mask (sinks + window). Embedding/classifier codes stay fixed (8 bits); RMSNorm gains are trainable floats.
 */
import * as tf from '@tensorflow/tfjs';
import type { LlamaCheckpoint } from '../checkpoint';
import { layerSlice } from '../checkpoint';
import { LINEAR_MATS, matrixBits, type EngineConfig, type LinearMat } from '../model-spec';
import type { QuantModel } from '../quant/model';
import { dequant, type QMatrix } from '../quant/weights';
import { roundSte, fakeQuantDynamic, fakeQuantGroups, fakeQuantWeight, rsqrtTable, siluTable } from './fake-quant';

export const MATS = LINEAR_MATS;
export type MatName = LinearMat;

export interface MatParams {
  /** Latent weights in units of the matrix step [rows, cols]. */
  u: tf.Variable;
  /** Continuous scale codes [rows, groups]. */
  sc: tf.Variable;
  /** Code width (matrixBits: 4 for the w4Matrices of a mixed W2 model, else wBits). */
  bits: number;
  step: number;
  mul: number;
  exp: number;
}

export interface StudentLayer {
  attnNorm: tf.Variable;
  ffnNorm: tf.Variable;
  mats: Record<MatName, MatParams>;
}

export interface Student {
  cfg: EngineConfig;
  layers: StudentLayer[];
  finalNorm: tf.Variable;
  /** Dequantised (fixed) classifier and embedding [vocab][dim]. */
  cls: tf.Tensor2D;
  emb: tf.Tensor2D;
}

function dequantAll(m: QMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) out[r * m.cols + c] = dequant(m, r, c);
  return out;
}

function matParams(m: QMatrix, bits: number, what: string): MatParams {
  if (m.bits !== bits) throw new Error(`QAT student: ${what} has W${m.bits} codes, the engine config says W${bits}`);
  const step = m.mul * 2 ** -m.exp;
  const ng = m.scales.length / m.rows;
  const u = dequantAll(m).map((v) => v / step);
  return {
    u: tf.variable(tf.tensor2d(u, [m.rows, m.cols]), true),
    sc: tf.variable(tf.tensor2d(Float32Array.from(m.scales), [m.rows, ng]), true),
    bits: m.bits,
    step,
    mul: m.mul,
    exp: m.exp,
  };
}

/** Student initialised from a quantised model (e.g. the GPTQ result) and the float checkpoint's RMSNorm gains. */
export function initStudent(ckpt: LlamaCheckpoint, qm: QuantModel): Student {
  const d = ckpt.dims;
  const w = ckpt.weights;
  const layers = qm.layers.map((L, l) => ({
    attnNorm: tf.variable(tf.tensor1d(layerSlice(w.rmsAtt, l, d.dim)), true),
    ffnNorm: tf.variable(tf.tensor1d(layerSlice(w.rmsFfn, l, d.dim)), true),
    mats: Object.fromEntries(MATS.map((n) => [n, matParams(L[n], matrixBits(qm.cfg, l, n), `layer ${l} ${n}`)])) as Record<MatName, MatParams>,
  }));
  const cls = tf.tensor2d(dequantAll(qm.cls), [d.vocabSize, d.dim]);
  const emb = qm.emb === qm.cls ? cls : tf.tensor2d(dequantAll(qm.emb), [d.vocabSize, d.dim]);
  return { cfg: qm.cfg, layers, finalNorm: tf.variable(tf.tensor1d(w.rmsFinal), true), cls, emb };
}

export function studentVariables(s: Student): tf.Variable[] {
  return [...s.layers.flatMap((L) => [L.attnNorm, L.ffnNorm, ...MATS.flatMap((n) => [L.mats[n].u, L.mats[n].sc])]), s.finalNorm];
}

export function disposeStudent(s: Student): void {
  for (const v of studentVariables(s)) v.dispose();
  if (s.emb !== s.cls) s.emb.dispose();
  s.cls.dispose();
}

/** Additive Λ mask [T, T]: query i sees j <= i with j < sinks or j > i - window. */
export function lambdaMask(T: number, sinks: number, window: number): tf.Tensor2D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) m[i * T + j] = j <= i && (j < sinks || j > i - window) ? 0 : -1e9;
  return tf.tensor2d(m, [T, T]);
}

/** cos/sin [1, T, 1, headDim] of the adjacent-pair rotation at positions 0..T-1 (each pair's value twice). */
function ropeTables(T: number, hd: number, theta: number): [tf.Tensor, tf.Tensor] {
  const c = new Float32Array(T * hd);
  const s = new Float32Array(T * hd);
  for (let p = 0; p < T; p++)
    for (let j = 0; j < hd / 2; j++) {
      const a = p * theta ** (-(2 * j) / hd);
      c[p * hd + 2 * j] = c[p * hd + 2 * j + 1] = Math.cos(a);
      s[p * hd + 2 * j] = -Math.sin(a);
      s[p * hd + 2 * j + 1] = Math.sin(a);
    }
  return [tf.tensor(c, [1, T, 1, hd]), tf.tensor(s, [1, T, 1, hd])];
}

export interface ForwardContext {
  mask: tf.Tensor2D;
  cos: tf.Tensor;
  sin: tf.Tensor;
  T: number;
}

export function forwardContext(s: Student, T: number): ForwardContext {
  const m = s.cfg.model;
  const [cos, sin] = ropeTables(T, m.headDim, m.ropeTheta ?? 10000);
  return { mask: lambdaMask(T, s.cfg.sinks, s.cfg.window), cos, sin, T };
}

export function disposeContext(c: ForwardContext): void {
  c.mask.dispose();
  c.cos.dispose();
  c.sin.dispose();
}

/**
 * RMSNorm as the golden decoder computes it: in its sum-of-squares units (x scaled by 2^(resFrac - sqShift), eps·dim
 * added) through the rsqrt table; the units cancel in the product.
 */
function rmsnorm(s: Student, x: tf.Tensor, g: tf.Tensor): tf.Tensor {
  const c = s.cfg;
  const k = 2 ** (c.resFrac - c.sqShift);
  const ss = roundSte(x.mul(k)).square().sum(-1, true).add(c.epsSs);
  return x.mul(k).mul(rsqrtTable(ss, c.rsqrtIndexBits)).mul(g.mul(Math.sqrt(c.model.dim)));
}

function linear(s: Student, x: tf.Tensor, p: MatParams): tf.Tensor {
  const c = s.cfg;
  const w = fakeQuantWeight(p.u as tf.Tensor2D, p.sc as tf.Tensor2D, p.bits, c.wGroup, c.scaleBits);
  return tf.matMul(x as tf.Tensor2D, w, false, true).mul(p.step);
}

/** v [B, T, heads, hd] rotated by position: (v0, v1) -> (v0 c - v1 s, v1 c + v0 s), i.e. v·cos + swap(v)·(∓sin). */
function rope(v: tf.Tensor, ctx: ForwardContext): tf.Tensor {
  const shape = v.shape;
  const swapped = tf.reverse(v.reshape([...shape.slice(0, 3), shape[3]! / 2, 2]), 4).reshape(shape);
  return v.mul(ctx.cos).add(swapped.mul(ctx.sin));
}

/** Logits [B*T, vocab] for teacher-forced token ids [B][T]; `hidden` collects the residual after each layer [B*T, dim]. */
export function studentForward(s: Student, tokens: tf.Tensor2D, ctx: ForwardContext, hidden?: tf.Tensor[]): tf.Tensor2D {
  const c = s.cfg;
  const m = c.model;
  const [B, T] = tokens.shape;
  const N = B * T;
  const hd = m.headDim;
  const kvMul = m.nHeads / m.nKvHeads;
  const act = (y: tf.Tensor) => fakeQuantDynamic(y, c.aBits, c.actMantBits);
  let x: tf.Tensor = tf.gather(s.emb, tokens.reshape([N]));
  for (const L of s.layers) {
    const h = act(rmsnorm(s, x, L.attnNorm));
    const q = rope(linear(s, h, L.mats.wq).reshape([B, T, m.nHeads, hd]), ctx);
    const k = rope(linear(s, h, L.mats.wk).reshape([B, T, m.nKvHeads, hd]), ctx);
    const v = linear(s, h, L.mats.wv).reshape([B, T, m.nKvHeads, hd]);
    const qq = fakeQuantGroups(q, hd, c.aBits, c.actMantBits);
    const kq = fakeQuantGroups(k, c.kvGroup, c.kvBits, c.kvMantBits);
    const vq = fakeQuantGroups(v, c.kvGroup, c.kvBits, c.kvMantBits);
    // Heads h = kh * kvMul + j share kv head kh: batch over (B, kh), rows over (j, t).
    const qh = qq.reshape([B, T, m.nKvHeads, kvMul, hd]).transpose([0, 2, 3, 1, 4]).reshape([B * m.nKvHeads, kvMul * T, hd]);
    const kh = kq.transpose([0, 2, 1, 3]).reshape([B * m.nKvHeads, T, hd]);
    const vh = vq.transpose([0, 2, 1, 3]).reshape([B * m.nKvHeads, T, hd]);
    const scores = tf.matMul(qh, kh, false, true).mul(1 / Math.sqrt(hd)).reshape([B * m.nKvHeads * kvMul, T, T]).add(ctx.mask);
    const p = tf.softmax(scores).reshape([B * m.nKvHeads, kvMul * T, T]);
    const att = tf.matMul(p, vh).reshape([B, m.nKvHeads, kvMul, T, hd]).transpose([0, 3, 1, 2, 4]).reshape([N, m.dim]);
    x = x.add(linear(s, act(att), L.mats.wo));
    const h2 = act(rmsnorm(s, x, L.ffnNorm));
    const h1 = linear(s, h2, L.mats.w1);
    const g = siluTable(h1, c.sigStepFrac, c.sigRangeLog2).mul(linear(s, h2, L.mats.w3));
    x = x.add(linear(s, act(g), L.mats.w2));
    hidden?.push(x);
  }
  const xf = act(rmsnorm(s, x, s.finalNorm));
  return tf.matMul(xf as tf.Tensor2D, s.cls, false, true);
}
