/**
 * llama2.c legacy .bin writer (the format checkpoint.ts reads): 7 int32 header fields (vocab_size negative when the
 * classifier is untied), the float32 tensors in run.c's order, the unused freq_cis_real/imag tables, then wcls when
 * untied. The format has no RoPE base or RMSNorm epsilon, so a model with other values than run.c's is refused.
 */
import type { LlamaCheckpoint } from '../checkpoint';
import { InputError } from '../../util/errors';

export function serializeCheckpoint(ckpt: LlamaCheckpoint): Uint8Array {
  const d = ckpt.dims;
  const w = ckpt.weights;
  if (d.ropeTheta !== undefined)
    throw new InputError(`${ckpt.source}: RoPE base ${d.ropeTheta} (llama.rope.freq_base) cannot be stored in a llama2.c .bin, which fixes 10000`);
  if (d.rmsEps !== undefined)
    throw new InputError(`${ckpt.source}: RMSNorm epsilon ${d.rmsEps} (llama.attention.layer_norm_rms_epsilon) cannot be stored in a llama2.c .bin, which fixes 1e-5`);
  const hs = d.headDim;
  const freqReal = new Float32Array(d.seqLen * (hs / 2));
  const freqImag = new Float32Array(d.seqLen * (hs / 2));
  for (let p = 0; p < d.seqLen; p++)
    for (let i = 0; i < hs / 2; i++) {
      const a = p * 10000 ** (-(2 * i) / hs);
      freqReal[p * (hs / 2) + i] = Math.cos(a);
      freqImag[p * (hs / 2) + i] = Math.sin(a);
    }
  const parts = [w.tokenEmbedding, w.rmsAtt, w.wq, w.wk, w.wv, w.wo, w.rmsFfn, w.w1, w.w2, w.w3, w.rmsFinal, freqReal, freqImag];
  if (!ckpt.sharedClassifier) parts.push(w.wcls);
  const floats = parts.reduce((a, t) => a + t.length, 0);
  const out = new Uint8Array(28 + 4 * floats);
  const dv = new DataView(out.buffer);
  const header = [d.dim, d.hiddenDim, d.nLayers, d.nHeads, d.nKvHeads, ckpt.sharedClassifier ? d.vocabSize : -d.vocabSize, d.seqLen];
  header.forEach((v, i) => dv.setInt32(4 * i, v, true));
  let off = 28;
  for (const t of parts) {
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), off);
    off += t.byteLength;
  }
  return out;
}
