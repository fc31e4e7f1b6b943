import { ConfigError, bitsFor, requireInt } from '../util/errors';

/**
 * The one source of truth for the cell classifier network (the deployed student).
 * Shapes, parameter counts, the model-file check, quantisation widths, the golden model and the RTL
 * generator are all derived from a CellnetConfig; nothing re-states these numbers.
 *
 * Activations are laid out HWC (channel fastest), the order a raster-scan stream delivers them.
 */

/** Valid (unpadded) square convolution, stride 1, followed by ReLU. */
export interface ConvLayer {
  kind: 'conv';
  kernel: number;
  outChannels: number;
  /** Signed weight width (symmetric range +-(2^(b-1)-1)). */
  weightBits: number;
  /** Unsigned activation width after ReLU, round-half-up shift and saturation. */
  actBits: number;
}

/** Non-overlapping max-pool (stride = size); trailing rows/columns that do not fill a window are dropped. */
export interface PoolLayer {
  kind: 'maxpool';
  size: number;
}

/**
 * Fully connected layer on the HWC-flattened input. Hidden dense layers have ReLU and unsigned actBits
 * outputs; the last layer produces the logits (units = number of classes, signed logitBits, no ReLU).
 */
export interface DenseLayer {
  kind: 'dense';
  units: number;
  weightBits: number;
  /** Only for hidden dense layers (ignored on the last layer, whose output width is logitBits). */
  actBits?: number;
}

export type LayerConfig = ConvLayer | PoolLayer | DenseLayer;

export interface CellClass {
  /** Display name, e.g. 'B'. */
  name: string;
  /** Label value in the dataset (LymphoMNIST: B=0, T4=1, T8=2). */
  label: number;
}

export interface CellnetParams {
  /** Square network input, pixels per side. */
  inputSize: number;
  /** Classes in output order; dataset samples with other labels are skipped. */
  classes: CellClass[];
  /** Input normalisation x = (p/255 - mean) / std (folded into the first weighted layer when quantised). */
  mean: number;
  std: number;
  layers: LayerConfig[];
  /** Signed width of the integer logits. */
  logitBits: number;
  /** Unsigned width of the score (winning logit minus runner-up, saturated). */
  scoreBits: number;
}

/** Pixel width of the input stream (uint8 grey). Fixed: the IDX data and cameras deliver 8-bit grey. */
export const INPUT_BITS = 8;

/** Dataset label names of LymphoMNIST. */
export const LYMPHO_LABELS: readonly string[] = ['B', 'T4', 'T8'];

export const CELLNET_DEFAULTS: CellnetParams = {
  inputSize: 48,
  classes: [
    { name: 'B', label: 0 },
    { name: 'T4', label: 1 },
  ],
  mean: 0.4819,
  std: 0.1484,
  layers: [
    { kind: 'conv', kernel: 3, outChannels: 16, weightBits: 8, actBits: 8 },
    { kind: 'maxpool', size: 2 },
    { kind: 'conv', kernel: 3, outChannels: 16, weightBits: 8, actBits: 8 },
    { kind: 'maxpool', size: 2 },
    { kind: 'dense', units: 2, weightBits: 8 },
  ],
  logitBits: 16,
  scoreBits: 16,
};

/** Shape of one layer's input and output, plus its weight count (for weighted layers). */
export interface LayerShape {
  index: number;
  layer: LayerConfig;
  in: [h: number, w: number, c: number];
  out: [h: number, w: number, c: number];
  /** Inputs summed per output (k*k*Cin for conv, H*W*C for dense); 0 for pools. */
  fanIn: number;
  weights: number;
  biases: number;
  /** True for the last layer (the logits). */
  last: boolean;
  /** Unsigned width of this layer's input values (8 for pixels, else the previous layer's actBits). */
  inBits: number;
  /**
   * Signed accumulator width for weighted layers (0 for pools). With P = fanIn * (2^inBits - 1) *
   * (2^(weightBits-1) - 1) the largest product sum, the bias clamped to |b| <= P and the rounding constant
   * 2^(shift-1) <= P, |acc| <= 3P, so accBits = bitsFor(3P) + 1.
   */
  accBits: number;
  /** Width of the output values: actBits (unsigned) for hidden layers, logitBits (signed) for the last, inBits for pools. */
  outBits: number;
}

export interface CellnetConfig extends CellnetParams {
  readonly shapes: readonly LayerShape[];
  readonly params: number;
  /** Multiply-accumulates per frame. */
  readonly macs: number;
}

/** Merge params over the defaults, validate, and derive shapes. Throws ConfigError naming the bad field. */
export function cellnetConfig(params: Partial<CellnetParams> = {}): CellnetConfig {
  const p: CellnetParams = { ...CELLNET_DEFAULTS, ...params };
  requireInt('inputSize', p.inputSize, 4, 1024);
  if (!Array.isArray(p.classes) || p.classes.length < 2 || p.classes.length > 64)
    throw new ConfigError('classes', 'must list 2..64 classes', p.classes?.length);
  const seen = new Set<number>();
  p.classes.forEach((c, i) => {
    if (typeof c.name !== 'string' || c.name.length === 0) throw new ConfigError(`classes[${i}].name`, 'must be a non-empty string', c.name);
    requireInt(`classes[${i}].label`, c.label, 0, 255);
    if (seen.has(c.label)) throw new ConfigError(`classes[${i}].label`, 'must be unique', c.label);
    seen.add(c.label);
  });
  if (!(p.mean >= 0 && p.mean <= 1)) throw new ConfigError('mean', 'must be in [0, 1]', p.mean);
  if (!(p.std > 0 && p.std <= 1)) throw new ConfigError('std', 'must be in (0, 1]', p.std);
  requireInt('logitBits', p.logitBits, 4, 31);
  requireInt('scoreBits', p.scoreBits, 1, 31);
  if (!Array.isArray(p.layers) || p.layers.length === 0) throw new ConfigError('layers', 'must be a non-empty list');

  const shapes: LayerShape[] = [];
  let h = p.inputSize;
  let w = p.inputSize;
  let c = 1;
  let flat = false;
  let weighted = 0;
  let macs = 0;
  let bits = INPUT_BITS;
  p.layers.forEach((l, i) => {
    const name = `layers[${i}]`;
    const last = i === p.layers.length - 1;
    const inShape: [number, number, number] = [h, w, c];
    let fanIn = 0;
    let weights = 0;
    let biases = 0;
    const inBits = bits;
    switch (l.kind) {
      case 'conv':
        if (flat) throw new ConfigError(`${name}.kind`, 'conv cannot follow a dense layer', l.kind);
        requireInt(`${name}.kernel`, l.kernel, 1, 15);
        requireInt(`${name}.outChannels`, l.outChannels, 1, 1024);
        requireInt(`${name}.weightBits`, l.weightBits, 2, 8);
        requireInt(`${name}.actBits`, l.actBits, 2, 16);
        if (l.kernel > h || l.kernel > w) throw new ConfigError(`${name}.kernel`, `must fit the ${h}x${w} input`, l.kernel);
        fanIn = l.kernel * l.kernel * c;
        h = h - l.kernel + 1;
        w = w - l.kernel + 1;
        c = l.outChannels;
        weights = fanIn * c;
        biases = c;
        macs += h * w * c * fanIn;
        break;
      case 'maxpool':
        if (flat) throw new ConfigError(`${name}.kind`, 'maxpool cannot follow a dense layer', l.kind);
        requireInt(`${name}.size`, l.size, 2, 8);
        if (l.size > h || l.size > w) throw new ConfigError(`${name}.size`, `must fit the ${h}x${w} input`, l.size);
        h = Math.floor(h / l.size);
        w = Math.floor(w / l.size);
        break;
      case 'dense':
        requireInt(`${name}.units`, l.units, 1, 65536);
        requireInt(`${name}.weightBits`, l.weightBits, 2, 8);
        if (!last) requireInt(`${name}.actBits`, l.actBits ?? NaN, 2, 16);
        fanIn = h * w * c;
        h = 1;
        w = 1;
        c = l.units;
        flat = true;
        weights = fanIn * c;
        biases = c;
        macs += fanIn * c;
        break;
      default:
        throw new ConfigError(`${name}.kind`, "must be 'conv', 'maxpool' or 'dense'", (l as { kind: unknown }).kind);
    }
    let accBits = 0;
    if (l.kind !== 'maxpool') {
      weighted++;
      const P = fanIn * (2 ** inBits - 1) * (2 ** (l.weightBits - 1) - 1);
      accBits = bitsFor(3 * P) + 1;
      if (accBits > 31)
        throw new ConfigError(`${name}`, `accumulator needs ${accBits} bits; at most 31 supported (reduce fan-in or widths)`, accBits);
      bits = last ? p.logitBits : (l as ConvLayer | DenseLayer).actBits!;
    }
    shapes.push({ index: i, layer: l, in: inShape, out: [h, w, c], fanIn, weights, biases, last, inBits, accBits, outBits: bits });
  });
  const lastLayer = p.layers[p.layers.length - 1]!;
  if (lastLayer.kind !== 'dense')
    throw new ConfigError(`layers[${p.layers.length - 1}].kind`, 'the last layer must be dense (it produces the logits)', lastLayer.kind);
  if (lastLayer.units !== p.classes.length)
    throw new ConfigError(`layers[${p.layers.length - 1}].units`, `must equal the number of classes (${p.classes.length})`, lastLayer.units);
  if (weighted === 0) throw new ConfigError('layers', 'need at least one weighted layer');
  const paramCount = shapes.reduce((s, x) => s + x.weights + x.biases, 0);
  return Object.freeze({ ...configParams(p), shapes: Object.freeze(shapes), params: paramCount, macs });
}

/** The plain parameters of a config (what a model file stores). */
export function configParams(cfg: CellnetParams): CellnetParams {
  return {
    inputSize: cfg.inputSize,
    classes: cfg.classes.map((c) => ({ name: c.name, label: c.label })),
    mean: cfg.mean,
    std: cfg.std,
    layers: cfg.layers.map((l) => ({ ...l })),
    logitBits: cfg.logitBits,
    scoreBits: cfg.scoreBits,
  };
}

/**
 * Describe how two configs differ, or return undefined if the architecture and number formats agree.
 * Used to reject a model file that does not match the configured architecture.
 */
export function configMismatch(expected: CellnetParams, got: CellnetParams): string | undefined {
  const a = configParams(expected);
  const b = configParams(got);
  if (a.inputSize !== b.inputSize) return `input size ${b.inputSize}, expected ${a.inputSize}`;
  if (a.classes.length !== b.classes.length) return `${b.classes.length} classes, expected ${a.classes.length}`;
  for (let i = 0; i < a.classes.length; i++)
    if (a.classes[i]!.name !== b.classes[i]!.name || a.classes[i]!.label !== b.classes[i]!.label)
      return `class ${i} is ${b.classes[i]!.name}/${b.classes[i]!.label}, expected ${a.classes[i]!.name}/${a.classes[i]!.label}`;
  if (a.mean !== b.mean || a.std !== b.std) return `normalisation mean/std ${b.mean}/${b.std}, expected ${a.mean}/${a.std}`;
  if (a.layers.length !== b.layers.length) return `${b.layers.length} layers, expected ${a.layers.length}`;
  for (let i = 0; i < a.layers.length; i++) {
    const x = JSON.stringify(sortKeys(a.layers[i]!));
    const y = JSON.stringify(sortKeys(b.layers[i]!));
    if (x !== y) return `layer ${i} is ${y}, expected ${x}`;
  }
  if (a.logitBits !== b.logitBits) return `logitBits ${b.logitBits}, expected ${a.logitBits}`;
  if (a.scoreBits !== b.scoreBits) return `scoreBits ${b.scoreBits}, expected ${a.scoreBits}`;
  return undefined;
}

function sortKeys(o: object): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined) r[k] = v;
  }
  return r;
}

/** One-line architecture summary, e.g. "conv3x3x16 > pool2 > conv3x3x16 > pool2 > dense2". */
export function describeLayers(cfg: CellnetParams): string {
  return cfg.layers
    .map((l) => (l.kind === 'conv' ? `conv${l.kernel}x${l.kernel}x${l.outChannels}` : l.kind === 'maxpool' ? `pool${l.size}` : `dense${l.units}`))
    .join(' > ');
}
