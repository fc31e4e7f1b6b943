/**
 * Per-unit Yosys synthesis of the decode engine, for configurations too large to synthesise flat in Yosys/WASM
 * (docs/llm-engine.md#synthesis). The engine is split at its one hierarchy boundary:
 *  - the engine top (controller, vector / attention units, memories, ROMs) with the GEMV unit as a black box;
 *  - the GEMV unit, synthesised at two small lane counts and extrapolated linearly to the configured lanes
 *    (every lane is an identical copy of the same adder trees, scale multiplier and accumulators; the shared
 *    control and the Σx tree are the intercept).
 * The total is the sum. Nothing is estimated beyond that one linear extrapolation.
 */
import { printDesign, type Module, type VerilogFile } from '../../hdl';
import { synthesize, type ResourceReport, type SynthTarget } from '../../flow/synth';
import { gemvConfig } from '../gemv/config';
import { gemvModule } from '../gemv/rtl';
import type { LlmEngineConfig } from './config';
import { llmEngineModule } from './rtl';

export type ResourceCounts = Pick<ResourceReport, 'luts' | 'ffs' | 'carry' | 'dsp' | 'bram' | 'lutram'>;
const KEYS = ['luts', 'ffs', 'carry', 'dsp', 'bram', 'lutram'] as const;

export interface EngineSynthReport {
  target: SynthTarget;
  top: ResourceReport;
  gemvAt: Array<{ lanes: number; report: ResourceReport }>;
  /** GEMV resources extrapolated to cfg.gemv.lanes. */
  gemv: ResourceCounts;
  total: ResourceCounts;
  seconds: number;
}

/** A port-only Verilog module with the blackbox attribute, so Yosys keeps it as an opaque cell. */
export function blackboxStub(m: Module): VerilogFile {
  const ports = m.interface().ports.map((p) => `  ${p.dir} wire ${p.width > 1 ? `[${p.width - 1}:0] ` : ''}${p.name}`);
  return { name: `${m.name}.v`, text: `(* blackbox *)\nmodule ${m.name} (\n${ports.join(',\n')}\n);\nendmodule\n` };
}

export async function synthEngineUnits(cfg: LlmEngineConfig, target: SynthTarget, gemvLanes: [number, number] = [2, 4]): Promise<EngineSynthReport> {
  const t0 = performance.now();
  const top = llmEngineModule(cfg);
  const printed = printDesign(top);
  const gemvName = `${top.name}_gemv`;
  const gemvFull = gemvModule(cfg.gemv, gemvName);
  const files = printed.files.map((f) => (f.name === `${gemvName}.v` ? blackboxStub(gemvFull) : f));
  const topReport = await synthesize(files, printed.top, target);
  const gemvAt: EngineSynthReport['gemvAt'] = [];
  for (const lanes of gemvLanes) {
    const gc = gemvConfig({ ...cfg.gemv, lanes });
    const d = printDesign(gemvModule(gc, 'gemv_slice'));
    gemvAt.push({ lanes, report: await synthesize(d.files, d.top, target) });
  }
  const [a, b] = gemvAt;
  const gemv = {} as ResourceCounts;
  const total = {} as ResourceCounts;
  for (const k of KEYS) {
    const slope = (b!.report[k] - a!.report[k]) / (b!.lanes - a!.lanes);
    gemv[k] = Math.round(a!.report[k] + slope * (cfg.gemv.lanes - a!.lanes));
    total[k] = topReport[k] + gemv[k];
  }
  return { target, top: topReport, gemvAt, gemv, total, seconds: (performance.now() - t0) / 1000 };
}
