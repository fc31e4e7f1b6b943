/** A parameter broke a rule. Names the parameter and the rule so the user can fix it. */
export class ConfigError extends Error {
  constructor(
    readonly param: string,
    readonly rule: string,
    readonly got?: unknown,
  ) {
    super(`invalid parameter '${param}': ${rule}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`);
    this.name = 'ConfigError';
  }
}

/** Input data (a file, an image, a stream) is malformed. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export function requireInt(param: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value)) throw new ConfigError(param, 'must be an integer', value);
  if (value < min || value > max) throw new ConfigError(param, `must be in [${min}, ${max}]`, value);
}

export function requirePow2(param: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || (value & (value - 1)) !== 0)
    throw new ConfigError(param, 'must be a power of two', value);
}

export const clog2 = (n: number): number => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));
/** Bits needed to hold the unsigned value n. */
export const bitsFor = (n: number): number => Math.max(1, Math.ceil(Math.log2(n + 1)));
