/**
 * The hardware plan of the streaming cell classifier: from a CellnetConfig and the pixels-per-cycle rate, every
 * number the RTL, the weight packer, the simulator driver and the bench need (lanes, folding, row padding, beat
 * counts, record layouts, register map). One source of truth; nothing else re-derives these.
 *
 * Streams between layers ("beat streams") never stall: a beat is n pixels of C channels, a row is
 * `beatsPerRow` beats (the last may carry junk lanes past `validW`), a frame is `rows` rows, raster order.
 * Each conv engine computes one output row per input row; it must finish within the minimum spacing of input
 * rows (`rowPeriod` cycles), which is what sizes its lanes L and channel folding F.
 */
import { ConfigError, bitsFor, requireInt } from '../../util/errors';
import { INPUT_BITS, type CellnetConfig } from '../config';
import { DSP_PACKINGS, dotMultipliers, type DspPacking } from '../../lib/dsp-pack';

export const PPC_VALUES = [1, 2, 4, 8] as const;

export interface BeatStream {
  /** Pixels per beat. */
  n: number;
  beatsPerRow: number;
  rows: number;
  /** Valid pixels per row (beats * n may exceed it: junk lanes at the row end). */
  validW: number;
  channels: number;
  bits: number;
  /** Minimum cycles between the last beats of two consecutive rows. */
  rowPeriod: number;
}

export interface ConvPlan {
  kind: 'conv';
  index: number;
  in: BeatStream;
  out: BeatStream;
  k: number;
  inC: number;
  outC: number;
  outW: number;
  outH: number;
  weightBits: number;
  accBits: number;
  /** Padded input row held in the line buffer: in.n * in.beatsPerRow columns. */
  rowPad: number;
  /** Output pixels per compute step. */
  lanes: number;
  /** Cycles per step: each cycle computes outC / fold channels. */
  fold: number;
  group: number;
  /** Steps per output row = ceil(outW / lanes). */
  steps: number;
  /** Columns of the sliding window register (>= rowPad and >= steps * lanes + k - 1). */
  windowW: number;
  /** Cycles the engine is busy per output row (steps * fold). */
  busy: number;
  /** Products per cycle: lanes * group * k * k * inC. */
  mults: number;
  /** Hardware multipliers (one DSP48E2 each): products sharing an activation are packed in pairs (arith.packing). */
  dsps: number;
  /** Bytes of one output channel's parameters in the weight chain (k*k*inC weights + bias bytes). */
  channelBytes: number;
  biasBytes: number;
}

export interface PoolPlan {
  kind: 'maxpool';
  index: number;
  in: BeatStream;
  out: BeatStream;
  size: number;
  /** 'lanes': lanes % size == 0, pooling inside a beat; 'beats': size % lanes == 0, pooling across size/lanes beats. */
  mode: 'lanes' | 'beats';
  /** Input beats per horizontal window ('beats' mode), else 1. */
  beatsPerWindow: number;
}

export interface DensePlan {
  kind: 'dense';
  index: number;
  in: BeatStream;
  classes: number;
  weightBits: number;
  accBits: number;
  /** Rotating weight entries: one per input beat of a frame (rows * beatsPerRow). */
  entries: number;
  /** Weight bytes per entry: n * channels * classes (junk lanes get zero weights). */
  entryBytes: number;
  biasBytes: number;
  /** Products per beat: n * channels * classes. */
  mults: number;
  /** Hardware multipliers: the classes' products of one input are packed in pairs. */
  dsps: number;
}

export type StagePlan = ConvPlan | PoolPlan | DensePlan;

export interface TriggerPlan {
  tsBits: number;
  delayBits: number;
  widthBits: number;
  /** Pending pulses (decisions waiting for their start time). */
  queueDepth: number;
  eventDepth: number;
  lostBits: number;
}

/** Field layout of a packed word, LSB first. */
export interface Field {
  name: string;
  lo: number;
  bits: number;
}

/**
 * The camera port (camera.ts): an AXI4-Stream video slave (UG934) carrying ppc pixels per beat, tuser[0] = start of
 * frame, tlast = end of line. Frame size and crop offset are registers, up to the generated maximum.
 */
export interface CameraPlan {
  /** Largest frame width/height the registers accept (generated maximum; default 64, the LymphoMNIST frame). */
  maxW: number;
  maxH: number;
  /** Register widths of width/height and of the crop offsets. */
  wBits: number;
  hBits: number;
  /** Beat counter width in a line (maxW / ppc beats). */
  xBits: number;
  /** Reset values: the full maximum frame with the crop centred (x rounded down to a multiple of ppc). */
  defaults: { w: number; h: number; cropX: number; cropY: number };
  /** Frames resolved but not yet joined with their decision (tag FIFO). */
  tagDepth: number;
  /** Width of the presence sum over the crop: sum |p - background|. */
  sumBits: number;
  /** Counter width of every frame/error/class counter. */
  counterBits: number;
}

export interface CellnetHw {
  cfg: CellnetConfig;
  ppc: number;
  input: BeatStream;
  stages: StagePlan[];
  classes: number;
  classBits: number;
  frameBits: number;
  trigger: TriggerPlan;
  /** Event record (one per decision): frame, class, score, timestamp, fired, dropped. */
  event: { bits: number; fields: Field[] };
  /** Register write word on the cfg stream: value then address. */
  reg: { addrBits: number; dataBits: number; bits: number };
  /** Total bytes in the weight-load chain. */
  chainBytes: number;
  /** How products are built and pipelined. */
  arith: ArithPlan;
  /** Products per cycle. */
  totalMults: number;
  /** Hardware multipliers (DSP48E2 / SB_MAC16 after Yosys mapping). */
  totalDsps: number;
  /** Input beats per frame (pixels / ppc). */
  frameBeats: number;
  camera: CameraPlan;
}

/**
 * Arithmetic: `packing` puts the two products of output channels (conv) or classes (dense) that share an activation
 * into one DSP48E2 (lib/dsp-pack.ts); products are registered (the DSP's M/P register); adder trees get a register
 * after every `treeLevelsPerStage` adder levels (1: every adder is a pipeline stage, docs/cellnet.md#timing).
 */
export interface ArithPlan {
  packing: DspPacking;
  treeLevelsPerStage: number;
}
export const ARITH_DEFAULTS: ArithPlan = { packing: 'wp486', treeLevelsPerStage: 1 };

export const TRIGGER_DEFAULTS: TriggerPlan = { tsBits: 32, delayBits: 24, widthBits: 16, queueDepth: 8, eventDepth: 16, lostBits: 16 };
export const FRAME_BITS = 16;
export const CAMERA_DEFAULTS = { maxW: 64, maxH: 64, tagDepth: 4 };
export const COUNTER_BITS = 32;

/**
 * Register map (word addresses on the cfg stream). CTRL bit 0 arms the trigger, bit 1 enables the camera port.
 * EVENT_MODE: EVENT_MODES below; EVENT_N: the N of one-in-N. FRAME_W/H, CROP_X/Y in pixels (CROP_X a multiple of
 * ppc). BACKGROUND: the empty channel's grey level; PRESENCE: a frame is classified iff PRESENCE = 0 or
 * sum over the crop of |p - BACKGROUND| > PRESENCE.
 */
export const REGS = {
  CTRL: 0,
  CLASS_MASK: 1,
  THRESHOLD: 2,
  DELAY: 3,
  WIDTH: 4,
  EVENT_MODE: 5,
  EVENT_N: 6,
  FRAME_W: 7,
  FRAME_H: 8,
  CROP_X: 9,
  CROP_Y: 10,
  BACKGROUND: 11,
  PRESENCE: 12,
} as const;
export const CTRL_ENABLE = 1;
export const CTRL_CAMERA = 2;
/** Which decisions push an event (counters always count every decision). */
export const EVENT_MODES = { ALL: 0, FIRED: 1, ONE_IN_N: 2 } as const;
export const EVENT_N_BITS = 16;
export const REG_ADDR_BITS = 4;
export const REG_DATA_BITS = 32;

const biasBytesFor = (accBits: number): number => Math.ceil(accBits / 8);

function layout(fields: Array<[string, number]>): { bits: number; fields: Field[] } {
  let lo = 0;
  const out: Field[] = [];
  for (const [name, bits] of fields) {
    out.push({ name, lo, bits });
    lo += bits;
  }
  return { bits: lo, fields: out };
}

export function cellnetHw(cfg: CellnetConfig, ppc: number, trigger: Partial<TriggerPlan> = {}, arithParams: Partial<ArithPlan> = {}, camera: Partial<typeof CAMERA_DEFAULTS> = {}): CellnetHw {
  const arith: ArithPlan = { ...ARITH_DEFAULTS, ...arithParams };
  if (!DSP_PACKINGS.includes(arith.packing)) throw new ConfigError('packing', `must be one of ${DSP_PACKINGS.join(', ')}`, arith.packing);
  requireInt('treeLevelsPerStage', arith.treeLevelsPerStage, 1, 16);
  requireInt('ppc', ppc, 1, 64);
  if (!PPC_VALUES.includes(ppc as (typeof PPC_VALUES)[number])) throw new ConfigError('ppc', `must be one of ${PPC_VALUES.join(', ')}`, ppc);
  if (cfg.inputSize % ppc !== 0) throw new ConfigError('ppc', `must divide the input width ${cfg.inputSize}`, ppc);
  const t: TriggerPlan = { ...TRIGGER_DEFAULTS, ...trigger };
  requireInt('tsBits', t.tsBits, 8, 48);
  requireInt('delayBits', t.delayBits, 1, t.tsBits - 2);
  requireInt('widthBits', t.widthBits, 1, t.tsBits - 2);
  requireInt('queueDepth', t.queueDepth, 1, 64);
  requireInt('eventDepth', t.eventDepth, 2, 1024);
  if ((t.eventDepth & (t.eventDepth - 1)) !== 0) throw new ConfigError('eventDepth', 'must be a power of two', t.eventDepth);

  const input: BeatStream = {
    n: ppc,
    beatsPerRow: cfg.inputSize / ppc,
    rows: cfg.inputSize,
    validW: cfg.inputSize,
    channels: 1,
    bits: INPUT_BITS,
    rowPeriod: cfg.inputSize / ppc,
  };
  const stages: StagePlan[] = [];
  let s = input;
  cfg.shapes.forEach((shape, i) => {
    const l = shape.layer;
    if (s.validW !== shape.in[1] || s.rows !== shape.in[0] || s.channels !== shape.in[2])
      throw new Error(`cellnet plan: stream into layer ${i} is ${s.rows}x${s.validW}x${s.channels}, layer expects ${shape.in.join('x')}`);
    if (l.kind === 'conv') {
      const next = cfg.layers[i + 1];
      const poolNext = next?.kind === 'maxpool' ? next.size : 0;
      const p = planConv(i, s, l.kernel, shape.out[2], l.weightBits, shape.accBits, shape.outBits, poolNext, arith.packing);
      stages.push(p);
      s = p.out;
    } else if (l.kind === 'maxpool') {
      const sz = l.size;
      let mode: 'lanes' | 'beats';
      if (s.n % sz === 0) mode = 'lanes';
      else if (sz % s.n === 0) mode = 'beats';
      else throw new ConfigError(`layers[${i}].size`, `pool size must divide or be a multiple of the ${s.n} pixels per beat reaching it`, sz);
      const outW = Math.floor(s.validW / sz);
      const out: BeatStream =
        mode === 'lanes'
          ? { n: s.n / sz, beatsPerRow: s.beatsPerRow, rows: Math.floor(s.rows / sz), validW: outW, channels: s.channels, bits: s.bits, rowPeriod: s.rowPeriod * sz }
          : { n: 1, beatsPerRow: outW, rows: Math.floor(s.rows / sz), validW: outW, channels: s.channels, bits: s.bits, rowPeriod: s.rowPeriod * sz };
      stages.push({ kind: 'maxpool', index: i, in: s, out, size: sz, mode, beatsPerWindow: mode === 'beats' ? sz / s.n : 1 });
      s = out;
    } else {
      if (!shape.last)
        throw new ConfigError(`layers[${i}].kind`, 'the RTL generator supports conv/maxpool layers followed by one dense layer (no hidden dense layers)', l.kind);
      const entries = s.rows * s.beatsPerRow;
      const entryBytes = s.n * s.channels * l.units;
      stages.push({
        kind: 'dense',
        index: i,
        in: s,
        classes: l.units,
        weightBits: l.weightBits,
        accBits: shape.accBits,
        entries,
        entryBytes,
        biasBytes: biasBytesFor(shape.accBits),
        mults: entryBytes,
        dsps: dotMultipliers(arith.packing, s.bits, l.weightBits, l.units, s.n * s.channels),
      });
    }
  });
  const classes = cfg.classes.length;
  const classBits = bitsFor(classes - 1);
  const event = layout([
    ['frame', FRAME_BITS],
    ['cls', classBits],
    ['score', cfg.scoreBits],
    ['sof', t.tsBits],
    ['timestamp', t.tsBits],
    ['fired', 1],
    ['dropped', 1],
  ]);
  const chainBytes = stages.reduce(
    (n, p) => n + (p.kind === 'conv' ? p.outC * p.channelBytes : p.kind === 'dense' ? p.classes * p.biasBytes + p.entries * p.entryBytes : 0),
    0,
  );
  const totalMults = stages.reduce((n, p) => n + (p.kind === 'maxpool' ? 0 : p.mults), 0);
  const totalDsps = stages.reduce((n, p) => n + (p.kind === 'maxpool' ? 0 : p.dsps), 0);
  return {
    cfg,
    ppc,
    input,
    stages,
    classes,
    classBits,
    frameBits: FRAME_BITS,
    trigger: t,
    event,
    reg: { addrBits: REG_ADDR_BITS, dataBits: REG_DATA_BITS, bits: REG_ADDR_BITS + REG_DATA_BITS },
    chainBytes,
    arith,
    totalMults,
    totalDsps,
    frameBeats: (cfg.inputSize * cfg.inputSize) / ppc,
    camera: cameraPlan(cfg, ppc, camera),
  };
}

function cameraPlan(cfg: CellnetConfig, ppc: number, p: Partial<typeof CAMERA_DEFAULTS>): CameraPlan {
  const S = cfg.inputSize;
  // the default maximum frame: 64x64 (a LymphoMNIST camera ROI), or the network input if that is larger
  const fit = Math.max(CAMERA_DEFAULTS.maxW, Math.ceil(S / ppc) * ppc);
  const c = { ...CAMERA_DEFAULTS, maxW: fit, maxH: Math.max(CAMERA_DEFAULTS.maxH, S), ...p };
  requireInt('maxFrameWidth', c.maxW, S, 4096);
  requireInt('maxFrameHeight', c.maxH, S, 4096);
  if (c.maxW % ppc !== 0) throw new ConfigError('maxFrameWidth', `must be a multiple of ppc ${ppc}`, c.maxW);
  requireInt('tagDepth', c.tagDepth, 2, 64);
  if ((c.tagDepth & (c.tagDepth - 1)) !== 0) throw new ConfigError('tagDepth', 'must be a power of two', c.tagDepth);
  const cropX = Math.floor((c.maxW - S) / 2 / ppc) * ppc;
  return {
    maxW: c.maxW,
    maxH: c.maxH,
    wBits: bitsFor(c.maxW),
    hBits: bitsFor(c.maxH),
    xBits: bitsFor(c.maxW / ppc),
    defaults: { w: c.maxW, h: c.maxH, cropX, cropY: Math.floor((c.maxH - S) / 2) },
    tagDepth: c.tagDepth,
    sumBits: bitsFor(S * S * 255),
    counterBits: COUNTER_BITS,
  };
}

/**
 * Lanes L and fold F for a conv engine: the fewest multipliers (L * outC/F * k*k*inC) whose busy time
 * ceil(outW/L) * F fits the input row period; ties go to the shorter busy time (lower latency), then fewer lanes.
 * With a pool after it, L must divide or be a multiple of the pool size.
 */
function planConv(
  index: number,
  s: BeatStream,
  k: number,
  outC: number,
  weightBits: number,
  accBits: number,
  outBits: number,
  poolNext: number,
  packing: DspPacking,
): ConvPlan {
  const outW = s.validW - k + 1;
  const outH = s.rows - k + 1;
  const fan = k * k * s.channels;
  let best: { L: number; F: number; cost: number; busy: number } | undefined;
  for (let F = 1; F <= outC; F++) {
    if (outC % F) continue;
    for (let L = 1; L <= outW; L++) {
      if (poolNext && L % poolNext !== 0 && poolNext % L !== 0) continue;
      const busy = Math.ceil(outW / L) * F;
      if (busy > s.rowPeriod) continue;
      const cost = L * (outC / F);
      if (!best || cost < best.cost || (cost === best.cost && (busy < best.busy || (busy === best.busy && L < best.L)))) best = { L, F, cost, busy };
    }
  }
  if (!best) throw new ConfigError(`layers[${index}]`, `no lane count keeps up with a ${s.rowPeriod}-cycle row period`, outW);
  const { L, F } = best;
  const steps = Math.ceil(outW / L);
  const rowPad = s.n * s.beatsPerRow;
  const biasBytes = biasBytesFor(accBits);
  return {
    kind: 'conv',
    index,
    in: s,
    out: { n: L, beatsPerRow: steps, rows: outH, validW: outW, channels: outC, bits: outBits, rowPeriod: s.rowPeriod },
    k,
    inC: s.channels,
    outC,
    outW,
    outH,
    weightBits,
    accBits,
    rowPad,
    lanes: L,
    fold: F,
    group: outC / F,
    steps,
    windowW: Math.max(rowPad, steps * L + k - 1),
    busy: steps * F,
    mults: L * (outC / F) * fan,
    dsps: L * dotMultipliers(packing, s.bits, weightBits, outC / F, fan),
    channelBytes: fan + biasBytes,
    biasBytes,
  };
}

/** Pack named fields into one word (bigint), LSB first; values must fit. */
export function packFields(layoutDesc: { fields: Field[] }, values: Record<string, number | bigint>): bigint {
  let w = 0n;
  for (const f of layoutDesc.fields) {
    const v = BigInt(values[f.name] ?? 0);
    if (v < 0n || v >= 1n << BigInt(f.bits)) throw new RangeError(`field ${f.name}: ${v} does not fit ${f.bits} bits`);
    w |= v << BigInt(f.lo);
  }
  return w;
}

export function unpackFields(layoutDesc: { fields: Field[] }, word: bigint): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of layoutDesc.fields) out[f.name] = Number((word >> BigInt(f.lo)) & ((1n << BigInt(f.bits)) - 1n));
  return out;
}
