import type * as tf from '@tensorflow/tfjs';
import type { QuantModel } from '../quant/model';
import { quantizeNorm } from '../quant/model';
import type { QMatrix } from '../quant/weights';
import { MATS, type MatParams, type Student } from './student';
import { weightCodes } from './fake-quant';

function matrixOf(s: Student, p: MatParams, like: QMatrix): QMatrix {
  const c = s.cfg;
  const { codes, scales } = weightCodes(p.u as unknown as tf.Tensor2D, p.sc as unknown as tf.Tensor2D, p.bits, c.wGroup, c.scaleBits);
  return { rows: like.rows, cols: like.cols, group: c.wGroup, bits: p.bits, codes, scales, mul: p.mul, exp: p.exp };
}

/**
 * The integer model the student's fake quantisation represents: codes and scale codes by the same tfjs ops as the
 * forward pass, RMSNorm gains re-quantised to normWBits, embedding/classifier as initialised (`init`).
 */
export function exportStudent(s: Student, init: QuantModel): QuantModel {
  const dim = s.cfg.model.dim;
  const norm = (v: { dataSync(): ArrayLike<number> }) => quantizeNorm(Float32Array.from(v.dataSync()), dim, s.cfg.normWBits);
  const layers = s.layers.map((L, l) => ({
    attnNorm: norm(L.attnNorm),
    ffnNorm: norm(L.ffnNorm),
    ...(Object.fromEntries(MATS.map((n) => [n, matrixOf(s, L.mats[n], init.layers[l]![n])])) as Record<(typeof MATS)[number], QMatrix>),
  }));
  return { cfg: s.cfg, layers, finalNorm: norm(s.finalNorm), cls: init.cls, emb: init.emb, search: init.search };
}
