/**
 * Expressions of the lutforge IR. Every node has an explicit width and signedness, fixed at construction.
 * Operators never widen implicitly: operands of arithmetic, bitwise and comparison operators must have the
 * same width and signedness, so the printed Verilog means exactly what the IR means. Use sext/zext/resize
 * to change widths and asSigned/asUnsigned to reinterpret.
 */
export class HdlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HdlError';
  }
}

export type BinaryOp = '+' | '-' | '*' | '&' | '|' | '^' | '==' | '!=' | '<' | '<=' | '>' | '>=';
export type UnaryOp = '~' | '-' | 'reduce&' | 'reduce|' | 'reduce^';
export type Operand = Expr | number | bigint;

export abstract class Expr {
  abstract readonly kind: string;
  abstract readonly width: number;
  abstract readonly signed: boolean;

  /** Short human description used in error messages. */
  abstract describe(): string;

  add(b: Operand): Expr {
    return binary('+', this, b);
  }
  sub(b: Operand): Expr {
    return binary('-', this, b);
  }
  /** Full-precision product: width is the sum of the operand widths. */
  mul(b: Operand): Expr {
    return binary('*', this, b);
  }
  and(b: Operand): Expr {
    return binary('&', this, b);
  }
  or(b: Operand): Expr {
    return binary('|', this, b);
  }
  xor(b: Operand): Expr {
    return binary('^', this, b);
  }
  eq(b: Operand): Expr {
    return binary('==', this, b);
  }
  ne(b: Operand): Expr {
    return binary('!=', this, b);
  }
  lt(b: Operand): Expr {
    return binary('<', this, b);
  }
  le(b: Operand): Expr {
    return binary('<=', this, b);
  }
  gt(b: Operand): Expr {
    return binary('>', this, b);
  }
  ge(b: Operand): Expr {
    return binary('>=', this, b);
  }
  not(): Expr {
    return new Unary('~', this);
  }
  neg(): Expr {
    return new Unary('-', this);
  }
  any(): Expr {
    return new Unary('reduce|', this);
  }
  all(): Expr {
    return new Unary('reduce&', this);
  }
  parity(): Expr {
    return new Unary('reduce^', this);
  }
  /** Bits hi..lo inclusive, unsigned. */
  slice(hi: number, lo: number): Expr {
    return new Slice(this, hi, lo);
  }
  bit(i: number): Expr {
    return new Slice(this, i, i);
  }
  /** Shift left by a constant, keeping the width (bits shifted out are lost). */
  shl(k: number): Expr {
    return new Shift('<<', this, k);
  }
  /** Shift right by a constant, keeping the width: arithmetic if signed, logical if unsigned. */
  shr(k: number): Expr {
    return new Shift('>>', this, k);
  }
  sext(width: number): Expr {
    return new Extend(this, width, true);
  }
  zext(width: number): Expr {
    return new Extend(this, width, false);
  }
  /** Widen following this expression's signedness, or truncate to the low bits keeping signedness. */
  resize(width: number): Expr {
    if (width === this.width) return this;
    if (width > this.width) return new Extend(this, width, this.signed);
    const s = this.slice(width - 1, 0);
    return this.signed ? s.asSigned() : s;
  }
  asSigned(): Expr {
    return this.signed ? this : new Cast(this, true);
  }
  asUnsigned(): Expr {
    return this.signed ? new Cast(this, false) : this;
  }
}

export class Const extends Expr {
  readonly kind = 'const';
  /** Two's complement bit pattern, 0 <= bits < 2^width. */
  readonly bits: bigint;
  constructor(
    value: bigint | number,
    readonly width: number,
    readonly signed = false,
  ) {
    super();
    checkWidth(width, 'constant');
    const v = BigInt(value);
    const lo = signed ? -(1n << BigInt(width - 1)) : 0n;
    const hi = signed ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
    if (v < lo || v > hi) throw new HdlError(`constant ${v} does not fit ${signed ? 'signed' : 'unsigned'} ${width} bits`);
    this.bits = v & ((1n << BigInt(width)) - 1n);
  }
  get value(): bigint {
    return this.signed && this.bits >> BigInt(this.width - 1) ? this.bits - (1n << BigInt(this.width)) : this.bits;
  }
  describe(): string {
    return `${this.width}'${this.signed ? 's' : ''}d${this.value}`;
  }
}

export class Binary extends Expr {
  readonly kind = 'binary';
  readonly width: number;
  readonly signed: boolean;
  constructor(
    readonly op: BinaryOp,
    readonly a: Expr,
    readonly b: Expr,
  ) {
    super();
    if (op === '*') {
      if (a.signed !== b.signed) throw new HdlError(`'*' needs operands of equal signedness: ${a.describe()} and ${b.describe()}`);
      this.width = a.width + b.width;
      this.signed = a.signed;
      return;
    }
    if (a.width !== b.width)
      throw new HdlError(`width mismatch in '${op}': ${a.describe()} is ${a.width} bits, ${b.describe()} is ${b.width} bits`);
    if (a.signed !== b.signed)
      throw new HdlError(`signedness mismatch in '${op}': ${a.describe()} and ${b.describe()}; cast one with asSigned/asUnsigned`);
    const compare = op === '==' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=';
    this.width = compare ? 1 : a.width;
    this.signed = compare ? false : a.signed;
  }
  describe(): string {
    return `(${this.a.describe()} ${this.op} ${this.b.describe()})`;
  }
}

export class Unary extends Expr {
  readonly kind = 'unary';
  readonly width: number;
  readonly signed: boolean;
  constructor(
    readonly op: UnaryOp,
    readonly a: Expr,
  ) {
    super();
    const reduce = op.startsWith('reduce');
    this.width = reduce ? 1 : a.width;
    this.signed = reduce ? false : a.signed;
  }
  describe(): string {
    return `${this.op}${this.a.describe()}`;
  }
}

export class Shift extends Expr {
  readonly kind = 'shift';
  readonly width: number;
  readonly signed: boolean;
  constructor(
    readonly op: '<<' | '>>',
    readonly a: Expr,
    readonly amount: number,
  ) {
    super();
    if (!Number.isInteger(amount) || amount < 0 || amount >= a.width)
      throw new HdlError(`shift of ${a.describe()} by ${amount}: amount must be in [0, ${a.width - 1}]`);
    this.width = a.width;
    this.signed = a.signed;
  }
  describe(): string {
    return `(${this.a.describe()} ${this.op} ${this.amount})`;
  }
}

export class Slice extends Expr {
  readonly kind = 'slice';
  readonly width: number;
  readonly signed = false;
  constructor(
    readonly a: Expr,
    readonly hi: number,
    readonly lo: number,
  ) {
    super();
    if (!Number.isInteger(hi) || !Number.isInteger(lo) || lo < 0 || hi < lo || hi >= a.width)
      throw new HdlError(`slice [${hi}:${lo}] out of range for ${a.describe()} (${a.width} bits)`);
    this.width = hi - lo + 1;
  }
  describe(): string {
    return `${this.a.describe()}[${this.hi}:${this.lo}]`;
  }
}

export class Concat extends Expr {
  readonly kind = 'concat';
  readonly width: number;
  readonly signed = false;
  /** Most significant part first, as in Verilog. */
  constructor(readonly parts: readonly Expr[]) {
    super();
    if (parts.length === 0) throw new HdlError('empty concatenation');
    this.width = parts.reduce((w, p) => w + p.width, 0);
  }
  describe(): string {
    return `{${this.parts.map((p) => p.describe()).join(', ')}}`;
  }
}

export class Mux extends Expr {
  readonly kind = 'mux';
  readonly width: number;
  readonly signed: boolean;
  constructor(
    readonly cond: Expr,
    readonly then: Expr,
    readonly otherwise: Expr,
  ) {
    super();
    if (cond.width !== 1) throw new HdlError(`mux condition ${cond.describe()} must be 1 bit, is ${cond.width}`);
    if (then.width !== otherwise.width || then.signed !== otherwise.signed)
      throw new HdlError(`mux branches differ: ${then.describe()} (${then.width}b) vs ${otherwise.describe()} (${otherwise.width}b)`);
    this.width = then.width;
    this.signed = then.signed;
  }
  describe(): string {
    return `(${this.cond.describe()} ? ${this.then.describe()} : ${this.otherwise.describe()})`;
  }
}

export class Extend extends Expr {
  readonly kind = 'extend';
  readonly signed: boolean;
  constructor(
    readonly a: Expr,
    readonly width: number,
    /** true: replicate the sign bit; false: pad with zeros. */
    readonly signExtend: boolean,
  ) {
    super();
    if (width < a.width) throw new HdlError(`cannot extend ${a.describe()} (${a.width} bits) to ${width} bits`);
    this.signed = signExtend;
  }
  describe(): string {
    return `${this.signExtend ? 'sext' : 'zext'}(${this.a.describe()}, ${this.width})`;
  }
}

export class Cast extends Expr {
  readonly kind = 'cast';
  readonly width: number;
  constructor(
    readonly a: Expr,
    readonly signed: boolean,
  ) {
    super();
    this.width = a.width;
  }
  describe(): string {
    return `${this.signed ? '$signed' : '$unsigned'}(${this.a.describe()})`;
  }
}

export function checkWidth(width: number, what: string): void {
  if (!Number.isInteger(width) || width < 1 || width > 1 << 20) throw new HdlError(`${what}: width ${width} must be an integer >= 1`);
}

/** Turn a JS number/bigint into a constant shaped like `like`. */
export function lift(x: Operand, like: Expr): Expr {
  if (x instanceof Expr) return x;
  return new Const(x, like.width, like.signed);
}

function binary(op: BinaryOp, a: Expr, b: Operand): Expr {
  return new Binary(op, a, lift(b, a));
}

// ---- free-standing constructors -------------------------------------------------------------

export const lit = (value: number | bigint, width: number, signed = false): Const => new Const(value, width, signed);
export const cat = (...parts: Expr[]): Expr => (parts.length === 1 ? parts[0]! : new Concat(parts));
export const mux = (cond: Expr, then: Operand, otherwise: Operand): Expr => {
  const t = then instanceof Expr ? then : otherwise instanceof Expr ? lift(then, otherwise) : null;
  if (!t) throw new HdlError('mux needs at least one branch that is an expression');
  return new Mux(cond, t, lift(otherwise, t));
};
/** n copies of a, concatenated. */
export const rep = (a: Expr, n: number): Expr => cat(...Array.from({ length: n }, () => a));
/** Logical and/or of 1-bit expressions. */
export const andAll = (xs: Expr[]): Expr => xs.reduce((acc, x) => acc.and(x));
export const orAll = (xs: Expr[]): Expr => xs.reduce((acc, x) => acc.or(x));
/** Pick values[index] (index compared against 0..n-1); out-of-range indices give the last value. */
export function select(index: Expr, values: readonly Expr[]): Expr {
  if (values.length === 0) throw new HdlError('select needs at least one value');
  let out = values[values.length - 1]!;
  for (let i = values.length - 2; i >= 0; i--) out = mux(index.eq(i), values[i]!, out);
  return out;
}
/**
 * Balanced, exact sum tree. Each level widens its operands by one bit (following their signedness), so adders
 * are only as wide as their partial sums need; the result is resized to `width` (default: the exact width).
 */
export function sumTree(xs: readonly Expr[], width?: number): Expr {
  if (xs.length === 0) throw new HdlError('sum of nothing');
  let layer = [...xs];
  while (layer.length > 1) {
    const next: Expr[] = [];
    for (let i = 0; i + 1 < layer.length; i += 2) {
      const w = Math.max(layer[i]!.width, layer[i + 1]!.width) + 1;
      next.push(layer[i]!.resize(w).add(layer[i + 1]!.resize(w)));
    }
    if (layer.length % 2) next.push(layer[layer.length - 1]!);
    layer = next;
  }
  return width === undefined ? layer[0]! : layer[0]!.resize(width);
}
