/**
 * A balanced adder tree with a pipeline register after every `levelsPerStage` adder levels (and none when the
 * tree is a single term). Registers have no reset and no enable: callers carry a valid bit alongside for
 * `latency` cycles. Every term must already have the result width and signedness.
 */
import { HdlError, type Expr, type Module, type Signal } from '../hdl';

export interface PipelinedSum {
  sum: Expr;
  /** Register stages between the terms and `sum`. */
  latency: number;
}

export function pipelinedSum(m: Module, prefix: string, terms: readonly Expr[], levelsPerStage: number): PipelinedSum {
  if (terms.length === 0) throw new HdlError(`${m.name}.${prefix}: sum of nothing`);
  if (!Number.isInteger(levelsPerStage) || levelsPerStage < 1) throw new HdlError(`${prefix}: levelsPerStage must be >= 1`);
  let layer: Expr[] = [...terms];
  let level = 0;
  let latency = 0;
  while (layer.length > 1) {
    const next: Expr[] = [];
    for (let i = 0; i + 1 < layer.length; i += 2) next.push(layer[i]!.add(layer[i + 1]!));
    if (layer.length % 2) next.push(layer[layer.length - 1]!);
    level++;
    if (level % levelsPerStage === 0 && next.length > 1) {
      layer = next.map((e, i) => register(m, `${prefix}_s${latency}_${i}`, e));
      latency++;
    } else layer = next;
  }
  return { sum: layer[0]!, latency };
}

function register(m: Module, name: string, e: Expr): Signal {
  const r = m.reg(name, e.width, { signed: e.signed });
  m.sync((b) => b.set(r, e));
  return r;
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
