/**
 * The controller's program: one decode step as a compact instruction list (prologue, a layer body the controller
 * repeats nLayers times, epilogue). The RTL prints it into the instruction ROM; the packer walks the same list to
 * lay out the weight, scale and aux streams, so the two can never disagree about order.
 */
import { matrixBits, type LinearMat } from '../model-spec';
import { MATS, type LlmEngineConfig, type MatName } from './hw-config';

/** ROPE is kept for stable op codes; RoPE is applied by the GEMV writer as wq / wk rows are written. */
export const OPS = ['NOP', 'EMBED', 'NORM', 'QUANT', 'GEMV', 'ROPE', 'KVW', 'ATTN', 'RESID', 'SILU', 'END'] as const;
export type OpName = (typeof OPS)[number];
export const opCode = (o: OpName): number => OPS.indexOf(o);

/** QUANT sources. */
export const QSRC = ['N', 'ATT', 'H1'] as const;
export type QSrc = (typeof QSRC)[number];

export type NormName = 'attn' | 'ffn' | 'final';

export interface Instr {
  op: OpName;
  /** GEMV: matrix. */
  mat?: MatName;
  /**
   * GEMV: pass index = 2-bit digit plane (0 = least significant) of the classifier or of a 4-bit linear matrix; on a
   * 2:4 unit the classifier's is 2*plane + half.
   */
  plane?: number;
  /**
   * GEMV of a 4-bit linear matrix's plane 0 (engines with linPlanes > 1 only): another plane of the same matrix
   * follows, so this pass only accumulates into the LOG memory (no destination write, no RoPE).
   */
  more?: boolean;
  /** Last op of a layer's body in a ROM that lists every layer's body (the controller moves to the next layer). */
  layerEnd?: boolean;
  /** QUANT: source vector. */
  src?: QSrc;
  /** NORM: which weight vector (documentation and packer only; the hardware reads it from the aux stream). */
  norm?: NormName;
  /**
   * GEMV: the x vector is already in the GEMV unit's buffer (a previous GEMV of the same vector); otherwise the
   * QUANT just before it issued the job and streamed x (QUANT carries the GEMV's mat).
   */
  reuse?: boolean;
  /**
   * Last op of a per-token segment of `seg` ops: in a prefill block the controller runs the segment once per token
   * (token-major inside it), then moves on; a GEMV between segments serves every token of the block at once.
   */
  seg?: number;
}

export interface Schedule {
  prologue: Instr[];
  /** Layer 0's body (every layer's, when `loop`). */
  body: Instr[];
  epilogue: Instr[];
  /**
   * The ROM holds one body the controller repeats for every layer; false when layers differ (4-bit matrices in
   * some layers only): the ROM then lists every layer's body, each ending in a layerEnd op.
   */
  loop: boolean;
  /** ROM image: prologue, body (or every layer's body), epilogue. */
  rom: Instr[];
  bodyStart: number;
  /** Last body op in the ROM (of the last layer when not `loop`). */
  bodyEnd: number;
}

/** Instruction word: op, mat, plane, src, reuse, seg; engines with 4-bit linear matrices add more and layerEnd. */
export const INSTR_BITS = 4 + 3 + 3 + 2 + 1 + 3;
export const instrBits = (cfg: LlmEngineConfig): number => INSTR_BITS + (cfg.linPlanes > 1 ? 2 : 0);

export function encodeInstr(i: Instr): number {
  return opCode(i.op) | (MATS.indexOf(i.mat ?? 'wq') << 4) | ((i.plane ?? 0) << 7) | (QSRC.indexOf(i.src ?? 'N') << 10) | ((i.reuse ? 1 : 0) << 12) | ((i.seg ?? 0) << 13) |
    ((i.more ? 1 : 0) << 16) | ((i.layerEnd ? 1 : 0) << 17);
}

/** The body of layer `l`: a 4-bit linear matrix takes two GEMV passes, plane 0 (more) then plane 1 reusing x. */
export function layerBody(cfg: LlmEngineConfig, l: number): Instr[] {
  const g = (mat: LinearMat, reuse = false): Instr[] =>
    matrixBits(cfg.engine, l, mat) === 4
      ? [{ op: 'GEMV', mat, plane: 0, more: true, reuse }, { op: 'GEMV', mat, plane: 1, reuse: true }]
      : [{ op: 'GEMV', mat, reuse }];
  const quant = (src: QSrc, mat: MatName, seg?: number): Instr => ({ op: 'QUANT', src, mat, seg });
  // Segments (seg on their last op) are what a prefill block runs token by token: each keeps the fused Σx² / |max|
  // of one token from its producer to its consumer, and KVW + ATTN interleave in position order (Λ eviction).
  return [
    { op: 'NORM', norm: 'attn' },
    quant('N', 'wq', 2),
    ...g('wq'),
    ...g('wk', true),
    ...g('wv', true),
    { op: 'KVW' },
    { op: 'ATTN' },
    quant('ATT', 'wo', 3),
    ...g('wo'),
    { op: 'RESID' },
    { op: 'NORM', norm: 'ffn' },
    quant('N', 'w1', 3),
    ...g('w1'),
    ...g('w3', true),
    { op: 'SILU' },
    quant('H1', 'w2', 2),
    ...g('w2'),
    { op: 'RESID', seg: 1 },
  ];
}

const sameOps = (a: Instr[], b: Instr[]) => a.length === b.length && a.every((x, j) => encodeInstr(x) === encodeInstr(b[j]!));

export function schedule(cfg: LlmEngineConfig): Schedule {
  const nL = cfg.engine.model.nLayers;
  const prologue: Instr[] = [{ op: 'EMBED', seg: 1 }];
  const bodies = Array.from({ length: nL }, (_, l) => layerBody(cfg, l));
  const body = bodies[0]!;
  const loop = bodies.every((b) => sameOps(b, body));
  const epilogue: Instr[] = [{ op: 'NORM', norm: 'final' }, { op: 'QUANT', src: 'N', mat: 'cls' }];
  for (let p = 0; p < cfg.clsPasses; p++) epilogue.push({ op: 'GEMV', mat: 'cls', plane: p, reuse: p > 0 });
  epilogue.push({ op: 'END' });
  const romBody = loop ? body : bodies.flatMap((b) => b.map((x, j) => (j === b.length - 1 ? { ...x, layerEnd: true } : x)));
  const rom = [...prologue, ...romBody, ...epilogue];
  return { prologue, body, epilogue, loop, rom, bodyStart: prologue.length, bodyEnd: prologue.length + romBody.length - 1 };
}

/** The instructions of one whole decode step in execution order, with their layer (built from layerBody, not the ROM). */
export function unrolled(cfg: LlmEngineConfig): Array<Instr & { layer: number }> {
  const s = schedule(cfg);
  const nL = cfg.engine.model.nLayers;
  const out: Array<Instr & { layer: number }> = s.prologue.map((i) => ({ ...i, layer: 0 }));
  for (let l = 0; l < nL; l++) for (const i of layerBody(cfg, l)) out.push({ ...i, layer: l });
  for (const i of s.epilogue) out.push({ ...i, layer: nL - 1 });
  return out;
}

/** An op as a prefill block of `tokens` tokens executes it: the op, its layer and the token it works on (GEMVs: all). */
export type BlockOp = Instr & { layer: number; token: number | 'all' };

/**
 * The controller's execution order for one block of `tokens` tokens (1 = a decode step), stepping the ROM with the
 * same rules as control.ts: a segment's last op jumps back to the segment's first until every token ran it; the
 * epilogue runs for the block's last token only. The packer checks the w / s order against `unrolled` with it.
 */
export function blockOrder(cfg: LlmEngineConfig, tokens: number): BlockOp[] {
  const s = schedule(cfg);
  const out: BlockOp[] = [];
  const nL = cfg.engine.model.nLayers;
  let pc = 0;
  let layer = 0;
  let tk = 0;
  for (;;) {
    const ins = s.rom[pc]!;
    const epi = pc > s.bodyEnd;
    out.push({ ...ins, layer, token: ins.op === 'GEMV' ? 'all' : epi ? tokens - 1 : tk });
    if (ins.op === 'END') return out;
    if (!epi && ins.seg && tk !== tokens - 1) {
      tk++;
      pc -= ins.seg - 1;
      continue;
    }
    const lastBody = pc === s.bodyEnd && layer === nL - 1;
    if (ins.seg && !lastBody) tk = 0;
    if (s.loop && pc === s.bodyEnd && !lastBody) (pc = s.bodyStart), layer++;
    else {
      if (!s.loop && ins.layerEnd && layer !== nL - 1) layer++;
      pc++;
    }
  }
}
