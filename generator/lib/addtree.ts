/**
 * A balanced adder tree with a pipeline register after every `levelsPerStage` adder levels (and none when the
 * tree is a single term). Registers have no reset and no enable: callers carry a valid bit alongside for
 * `latency` cycles.
 *
 * Without `width`, every term must already have the result width and signedness. With `width`, terms are
 * signed values of any width <= `width`: each adder is one bit wider than its wider operand (capped at `width`),
 * so narrow leaves (products) get narrow adders; a capped adder wraps modulo 2^width, which is exact whenever
 * the final sum fits `width` bits (two's complement addition is modular).
 */
import { HdlError, type Expr, type Module, type Signal } from '../hdl';

export interface PipelinedSum {
  sum: Expr;
  /** Register stages between the terms and `sum`. */
  latency: number;
}

export function pipelinedSum(m: Module, prefix: string, terms: readonly Expr[], levelsPerStage: number, width?: number): PipelinedSum {
  if (terms.length === 0) throw new HdlError(`${m.name}.${prefix}: sum of nothing`);
  if (!Number.isInteger(levelsPerStage) || levelsPerStage < 1) throw new HdlError(`${prefix}: levelsPerStage must be >= 1`);
  if (width !== undefined)
    for (const t of terms)
      if (!t.signed || t.width > width) throw new HdlError(`${m.name}.${prefix}: growing tree needs signed terms of <= ${width} bits (got ${t.describe()})`);
  const add = (a: Expr, b: Expr): Expr => {
    if (width === undefined) return a.add(b);
    const w = Math.min(width, Math.max(a.width, b.width) + 1);
    return a.sext(w).add(b.sext(w));
  };
  let layer: Expr[] = [...terms];
  let level = 0;
  let latency = 0;
  while (layer.length > 1) {
    const next: Expr[] = [];
    for (let i = 0; i + 1 < layer.length; i += 2) next.push(add(layer[i]!, layer[i + 1]!));
    if (layer.length % 2) next.push(layer[layer.length - 1]!);
    level++;
    if (level % levelsPerStage === 0 && next.length > 1) {
      layer = next.map((e, i) => register(m, `${prefix}_s${latency}_${i}`, e));
      latency++;
    } else layer = next;
  }
  const sum = width === undefined || layer[0]!.width === width ? layer[0]! : layer[0]!.sext(width);
  return { sum, latency };
}

/** A register (no reset, no enable) holding e; returns its output. */
export function register(m: Module, name: string, e: Expr): Signal {
  const r = m.reg(name, e.width, { signed: e.signed });
  m.sync((b) => b.set(r, e));
  return r;
}

/** e delayed by n register stages (n = 0: e itself). */
export function delay(m: Module, name: string, e: Expr, n: number): Expr {
  let x = e;
  for (let i = 0; i < n; i++) x = register(m, `${name}_d${i}`, x);
  return x;
}

/** Tree latency for n terms without building anything (same rule as pipelinedSum). */
export function pipelinedSumLatency(n: number, levelsPerStage: number): number {
  let len = n;
  let level = 0;
  let latency = 0;
  while (len > 1) {
    len = Math.ceil(len / 2);
    level++;
    if (level % levelsPerStage === 0 && len > 1) latency++;
  }
  return latency;
}
