/**
 * LLM weights on a device: the decode engine (generator/llm/engine) reads schedule-ordered weight words from an
 * external memory every step. Until the engine has an on-board weight sequencer behind the link, the device side is
 * a weight memory on the link's memory bus: the host packs with the engine's own packer, transfers, and verifies
 * by readback. Decoding on the device is not integrated (docs/protocol.md#integration-status).
 */
import { loadCheckpoint } from '../../generator/llm/checkpoint';
import { llmPresetConfig, STORIES260K_SHAPE } from '../../generator/llm/engine/hw-config';
import { packModel } from '../../generator/llm/engine/pack';
import { quantizeModel } from '../../generator/llm/quant/model';
import { linkTestCore } from '../../generator/link/testcore';
import { buildVirtualBoard, type VirtualBoardBuild } from '../link/vboard';

/** One weight image: w limbs, then s limbs, then aux limbs, as 32-bit words. */
export function packedWeights(modelPath: string, preset = 'sim-small'): { words: Uint32Array; parts: { w: number; s: number; aux: number } } {
  const ckpt = loadCheckpoint(modelPath);
  const cfg = llmPresetConfig(preset, STORIES260K_SHAPE);
  const qm = quantizeModel(ckpt, cfg.engine, { search: 'minmax' });
  const img = packModel(cfg, qm);
  const words = new Uint32Array(img.w.length + img.s.length + img.auxTail.length);
  words.set(img.w, 0);
  words.set(img.s, img.w.length);
  words.set(img.auxTail, img.w.length + img.s.length);
  return { words, parts: { w: img.w.length, s: img.s.length, aux: img.auxTail.length } };
}

/** A virtual board whose core is a word memory big enough for `words` (the linktest core's memory bus). */
export function weightMemoryBoard(words: number): Promise<VirtualBoardBuild> {
  const memWords = 2 ** Math.ceil(Math.log2(Math.max(1024, words)));
  return buildVirtualBoard(linkTestCore({ memWords }), { design: 'linktest', memWords });
}
