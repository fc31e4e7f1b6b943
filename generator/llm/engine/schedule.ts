/**
 * The controller's program: one decode step as a compact instruction list (prologue, a layer body the controller
 * repeats nLayers times, epilogue). The RTL prints it into the instruction ROM; the packer walks the same list to
 * lay out the weight, scale and aux streams, so the two can never disagree about order.
 */
import { MATS, type LlmEngineConfig, type MatName } from './config';

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
  /** GEMV on the classifier: 2-bit digit plane (0 = least significant). */
  plane?: number;
  /** QUANT: source vector. */
  src?: QSrc;
  /** NORM: which weight vector (documentation and packer only; the hardware reads it from the aux stream). */
  norm?: NormName;
}

export interface Schedule {
  prologue: Instr[];
  body: Instr[];
  epilogue: Instr[];
  /** ROM image: prologue, body, epilogue. */
  rom: Instr[];
  bodyStart: number;
  bodyEnd: number;
}

export const INSTR_BITS = 4 + 3 + 3 + 2;

export function encodeInstr(i: Instr): number {
  return opCode(i.op) | (MATS.indexOf(i.mat ?? 'wq') << 4) | ((i.plane ?? 0) << 7) | (QSRC.indexOf(i.src ?? 'N') << 10);
}

export function schedule(cfg: LlmEngineConfig): Schedule {
  const g = (mat: MatName): Instr => ({ op: 'GEMV', mat });
  const prologue: Instr[] = [{ op: 'EMBED' }];
  const body: Instr[] = [
    { op: 'NORM', norm: 'attn' },
    { op: 'QUANT', src: 'N' },
    g('wq'),
    g('wk'),
    g('wv'),
    { op: 'ROPE' },
    { op: 'KVW' },
    { op: 'ATTN' },
    { op: 'QUANT', src: 'ATT' },
    g('wo'),
    { op: 'RESID' },
    { op: 'NORM', norm: 'ffn' },
    { op: 'QUANT', src: 'N' },
    g('w1'),
    g('w3'),
    { op: 'SILU' },
    { op: 'QUANT', src: 'H1' },
    g('w2'),
    { op: 'RESID' },
  ];
  const epilogue: Instr[] = [{ op: 'NORM', norm: 'final' }, { op: 'QUANT', src: 'N' }];
  for (let p = 0; p < cfg.clsPlanes; p++) epilogue.push({ op: 'GEMV', mat: 'cls', plane: p });
  epilogue.push({ op: 'END' });
  const rom = [...prologue, ...body, ...epilogue];
  return { prologue, body, epilogue, rom, bodyStart: prologue.length, bodyEnd: prologue.length + body.length - 1 };
}

/** The instructions of one whole decode step in execution order, with their layer. */
export function unrolled(cfg: LlmEngineConfig): Array<Instr & { layer: number }> {
  const s = schedule(cfg);
  const out: Array<Instr & { layer: number }> = s.prologue.map((i) => ({ ...i, layer: 0 }));
  for (let l = 0; l < cfg.engine.model.nLayers; l++) for (const i of s.body) out.push({ ...i, layer: l });
  for (const i of s.epilogue) out.push({ ...i, layer: cfg.engine.model.nLayers - 1 });
  return out;
}
