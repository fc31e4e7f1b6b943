/**
 * The host side of the device memory: lays out a quantised model as the four regions of layout.ts, using the
 * engine's packer (packModel / packEmbedding) for every word, so the sequencer replays exactly what the engine
 * expects. Also the inverse view the tests use: the aux stream the sequencer must produce for a token.
 */
import { InputError } from '../../util/errors';
import { packEmbedding, packModel, type TokenImage } from '../engine/pack';
import type { QuantModel } from '../quant/model';
import { REGIONS, type LlmDeviceConfig, type RegionName } from './layout';

export interface RegionImage {
  /** A region (w, s, a, e) or, for the HBM image, a pseudo-channel (pc0, pc1, ...). */
  name: RegionName | `pc${number}`;
  /** First host word address. */
  base: number;
  /** Words to write there (wide words at `stride` limbs each, padding limbs zero). */
  words: Uint32Array;
}

export interface DeviceImage {
  regions: RegionImage[];
  /** Total bytes written (and read back). */
  bytes: number;
}

/** Copies `n` wide words of `limbs` limbs each into a stride-spaced buffer. */
function spaced(src: Uint32Array, n: number, limbs: number, stride: number): Uint32Array {
  if (stride === limbs) return src.slice(0, n * limbs);
  const out = new Uint32Array(n * stride);
  for (let i = 0; i < n; i++) out.set(src.subarray(i * limbs, (i + 1) * limbs), i * stride);
  return out;
}

export function deviceImage(d: LlmDeviceConfig, qm: QuantModel, tokenImage?: TokenImage): DeviceImage {
  const cfg = d.engine;
  const P = cfg.P;
  const img = tokenImage ?? packModel(cfg, qm);
  const R = d.regions;
  if (img.wWords !== d.wWords || img.sWords !== d.sWords || img.auxTail.length !== d.tailBeats * P)
    throw new InputError(
      `packed model has ${img.wWords} w / ${img.sWords} s words and ${img.auxTail.length / P} aux beats; the device was generated for ` +
        `${d.wWords} / ${d.sWords} / ${d.tailBeats} (different model shape or engine parameters)`,
    );
  const w = spaced(img.w, d.wWords, R.w.limbs, R.w.stride);
  const s = spaced(img.s, d.sWords, R.s.limbs, R.s.stride);
  // a: the embedding's constant beat (the same for every token), then the aux tail.
  const c0 = packEmbedding(cfg, qm, 0).subarray(0, P);
  const aBeats = new Uint32Array((1 + d.tailBeats) * P);
  aBeats.set(c0, 0);
  aBeats.set(img.auxTail, P);
  const a = spaced(aBeats, 1 + d.tailBeats, R.a.limbs, R.a.stride);
  // e: every embedding row, lanes packed at embLaneBits.
  const V = cfg.engine.model.vocabSize;
  const eb = d.embLaneBits;
  const perLimb = 32 / eb;
  const e = new Uint32Array(V * d.rowBeats * R.e.stride);
  const max = eb === 32 ? 0xffffffff : 2 ** eb - 1;
  for (let t = 0; t < V; t++) {
    const row = packEmbedding(cfg, qm, t);
    for (let q = 0; q < P; q++)
      if (row[q] !== c0[q]) throw new InputError(`embedding constant beat differs between tokens 0 and ${t}; the device stores one`);
    for (let b = 0; b < d.rowBeats; b++) {
      const off = (t * d.rowBeats + b) * R.e.stride;
      for (let q = 0; q < P; q++) {
        const v = row[P + b * P + q]!;
        if (v > max) throw new InputError(`embedding lane value 0x${v.toString(16)} (token ${t}) does not fit the device's ${eb}-bit lanes`);
        const li = Math.floor(q / perLimb);
        e[off + li] = (e[off + li]! | (eb === 32 ? v : v << (eb * (q % perLimb)))) >>> 0;
      }
    }
  }
  const parts: Record<RegionName, Uint32Array> = { w, s, a, e };
  const regions = REGIONS.map((n) => ({ name: n, base: R[n].base, words: parts[n] }));
  return { regions, bytes: 4 * regions.reduce((x, r) => x + r.words.length, 0) };
}
