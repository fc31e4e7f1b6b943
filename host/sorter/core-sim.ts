/**
 * Cycle-accurate run of the cell sorter core (classifier + trigger) in Verilator on a batch of images, with random
 * stalls on its streams, every event checked against the golden classifier and every event and pulse edge against
 * the trigger golden. `lutforge sim cellnet` prints it.
 */
import { cellnetDesign } from '../../generator/cellnet/rtl/design';
import { goldenBatch } from '../../generator/cellnet/golden';
import { triggerGolden, type TriggerRegs } from '../../generator/cellnet/rtl/trigger-golden';
import { ConfigError } from '../../generator/util/errors';
import { buildCellnetSim, runCellnet } from '../../sim/designs/cellnet';
import { loadImages } from '../designs/cellnet';
import { classMask } from './replay';

export interface CellnetSimRequest {
  images: string;
  ppc: number;
  serial: boolean;
  stall: number;
  seed: number;
  sort: string[];
  threshold: number;
  /** Pulse delay / width in cycles. */
  delay: number;
  width: number;
  clockMhz: number;
  traceFile?: string;
}

export interface CellnetSimReport {
  images: number;
  ppc: number;
  serial: boolean;
  stall: number;
  /** Events whose class and score equal the golden classifier's, in order. */
  classifierMatches: number;
  /** Every event field and every pulse edge equal the trigger golden's. */
  triggerMatches: boolean;
  perClass: Record<string, number>;
  pulses: number;
  /** Cycles from an image's last pixel to its event (min / max over the batch). */
  latencyCycles: { min: number; max: number };
  latencyUs: { min: number; max: number };
  /** Cycles from an image's first pixel to its event (includes streaming the frame in, and any stalls). */
  frameCycles: { min: number; max: number };
  frameUs: { min: number; max: number };
  clockMhz: number;
  cycles: number;
  status: { overrun: boolean; frameError: boolean; eventsLost: number };
  traceFile: string | null;
}

export async function simulateCellnet(req: CellnetSimRequest): Promise<CellnetSimReport> {
  if (!(req.stall >= 0 && req.stall < 1)) throw new ConfigError('stall', 'must be in [0, 1)', req.stall);
  if (!(req.clockMhz > 0)) throw new ConfigError('clock-mhz', 'must be positive', req.clockMhz);
  const d = cellnetDesign(req.serial ? { ppc: 1, serial: 1 } : { ppc: req.ppc });
  const img = loadImages(req.images, d, req.seed);
  const names = d.cfg.classes.map((c) => c.name);
  const regs: TriggerRegs = { enable: true, classMask: classMask(names, req.sort), threshold: req.threshold, delay: req.delay, width: req.width };
  const cs = await buildCellnetSim(d.cfg, d.q, d.hw.ppc, { trace: !!req.traceFile, serial: req.serial });
  const r = await runCellnet(cs, img.pixels, { seed: req.seed, pxStall: req.stall, eventStall: req.stall, regs, traceFile: req.traceFile });
  const gold = goldenBatch(d.q, img.pixels, img.n);
  const classifierMatches = r.events.filter((e, i) => e.frame === i && gold[i] && e.cls === gold[i]!.cls && e.score === gold[i]!.score).length;
  const tg = triggerGolden(cs.hw, r.events, r.writes);
  const triggerMatches = JSON.stringify(r.events) === JSON.stringify(tg.events) && JSON.stringify(r.pulses) === JSON.stringify(tg.pulses);
  const lat = r.events.map((e, i) => e.timestamp - r.lastPixel[i]!);
  const frame = r.events.map((e, i) => e.timestamp - r.firstPixel[i]!);
  const counts = Object.fromEntries(names.map((n) => [n, 0]));
  for (const e of r.events) counts[names[e.cls]!]! += 1;
  const us = (c: number) => c / req.clockMhz;
  return {
    images: img.n,
    ppc: d.hw.ppc,
    serial: req.serial,
    stall: req.stall,
    classifierMatches,
    triggerMatches,
    perClass: counts,
    pulses: r.pulses.length,
    latencyCycles: { min: Math.min(...lat), max: Math.max(...lat) },
    latencyUs: { min: us(Math.min(...lat)), max: us(Math.max(...lat)) },
    frameCycles: { min: Math.min(...frame), max: Math.max(...frame) },
    frameUs: { min: us(Math.min(...frame)), max: us(Math.max(...frame)) },
    clockMhz: req.clockMhz,
    cycles: r.cycles,
    status: r.status,
    traceFile: req.traceFile ?? null,
  };
}
