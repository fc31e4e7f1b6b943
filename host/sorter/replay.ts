/**
 * The real-time cell sorter run: program the trigger, stream images in replay mode (one image per write, so each
 * image's latency is measured from its own acknowledgement), collect exactly one event per image, log every event,
 * and check the events against the golden classifier + trigger. Used by `lutforge sort` and `lutforge demo`.
 */
import { createWriteStream } from 'node:fs';
import type { TriggerEvent } from '../../generator/cellnet/rtl/trigger-golden';
import { ConfigError } from '../../generator/util/errors';
import { cellnetLinked, decodeEvent, goldenEvents, loadImages, pixelBeats, programTrigger, type SortSettings } from '../designs/cellnet';
import { PPC_VALUES } from '../../generator/cellnet/rtl/plan';
import { DeviceMismatchError } from '../link/device';
import { openDevice } from '../link/open';
import { bars, beside, histogram, type PlotSpec } from '../plot';

export interface SortRequest {
  device: string;
  /** IDX file or synthetic:N. */
  images: string;
  /** Class names or indices to sort. */
  sort: string[];
  threshold: number;
  delayUs: number;
  widthUs: number;
  /** Event log (.jsonl or .csv). */
  log?: string;
  ppc: number;
  /** The time-multiplexed engine (ppc 1) instead of the streaming one. */
  serial?: boolean;
  seed: number;
}

export interface SortProgress {
  events: number;
  images: number;
  counts: Record<string, number>;
  decisionsPerSecond: number;
  latencyMs: { p50: number; p90: number };
}

export interface SortSummary {
  device: string;
  images: number;
  events: number;
  perClass: Record<string, number>;
  pulses: number;
  dropped: number;
  decisionsPerSecond: number;
  latencyMs: { p50: number; p90: number; max: number };
  goldenMismatches: number;
  settings: SortSettings;
  log: string | null;
}

export const percentile = (xs: readonly number[], p: number): number => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

/** Resolve class names/indices to the trigger's class mask; unknown names list the valid ones. */
export function classMask(names: readonly string[], sort: readonly string[]): number {
  let mask = 0;
  for (const t of sort.map((x) => x.trim())) {
    const i = /^\d+$/.test(t) ? Number(t) : names.indexOf(t);
    if (i < 0 || i >= names.length) throw new ConfigError('sort', `classes are ${names.map((n, k) => `${k}=${n}`).join(', ')}`, t);
    mask |= 1 << i;
  }
  return mask;
}

export interface SortRun {
  summary: SortSummary;
  /** Per image, host-side: acknowledgement of its last pixel write to its event. */
  latenciesMs: number[];
}

/** A version mismatch from a cell-sorter board usually means another pixels-per-cycle build: name the right --ppc. */
export function explainMismatch(e: unknown, ppc: number): unknown {
  if (!(e instanceof DeviceMismatchError) || !e.reported) return e;
  const match = PPC_VALUES.find((p) => p !== ppc && cellnetLinked(p).regmap.version === e.reported!.version);
  return match === undefined ? e : new DeviceMismatchError(`${e.message}. The board runs the ${match}-pixel-per-cycle cell sorter: pass --ppc ${match}${match === 1 ? ' (also the --serial / up5k builds)' : ''}`, e.reported);
}

export async function runSorter(req: SortRequest, onProgress?: (p: SortProgress) => void): Promise<SortRun> {
  const c = cellnetLinked(req.ppc, req.serial);
  const names = c.design.cfg.classes.map((x) => x.name);
  const clockHz = c.regmap.link.clockHz;
  const cycles = (name: string, x: number): number => {
    if (!Number.isFinite(x) || x < 0) throw new ConfigError(name, 'must be a non-negative number of µs', x);
    return Math.round((x * clockHz) / 1e6);
  };
  if (!Number.isInteger(req.threshold)) throw new ConfigError('threshold', 'must be an integer score', String(req.threshold));
  const settings: SortSettings = {
    classMask: classMask(names, req.sort),
    threshold: req.threshold,
    delayCycles: cycles('delay-us', req.delayUs),
    widthCycles: cycles('width-us', req.widthUs),
  };
  const trig = c.design.hw.trigger;
  if (settings.delayCycles >= 2 ** trig.delayBits) throw new ConfigError('delay-us', `must be below ${(2 ** trig.delayBits / clockHz) * 1e6} µs`, req.delayUs);
  if (settings.widthCycles >= 2 ** trig.widthBits || settings.widthCycles < 1) throw new ConfigError('width-us', `must give 1..${2 ** trig.widthBits - 1} cycles`, req.widthUs);
  const img = loadImages(req.images, c.design, req.seed);
  const dev = await openDevice(req.device, c.regmap, { virtualBoard: c.virtualBoard }).catch((e: unknown) => {
    throw explainMismatch(e, req.ppc);
  });
  const log = req.log ? createWriteStream(req.log) : null;
  const csv = !!req.log?.endsWith('.csv');
  if (log && csv) log.write('frame,class,name,score,timestamp,fired,dropped,latency_ms\n');
  const counts = new Array<number>(names.length).fill(0);
  const latencies: number[] = [];
  const sentAt: number[] = [];
  const events: TriggerEvent[] = [];
  const t0 = performance.now();
  try {
    await programTrigger(dev, c.design, settings);
    const px = c.design.cfg.inputSize ** 2;
    const got = dev.collectStream('event', img.n, {
      signal: AbortSignal.timeout(Math.max(600_000, img.n * 60_000)),
      onBeats: (b) => {
        for (const w of b.data) {
          const e = decodeEvent(c.design, w);
          const lat = performance.now() - (sentAt[events.length] ?? t0);
          events.push(e);
          latencies.push(lat);
          counts[e.cls] = (counts[e.cls] ?? 0) + 1;
          if (log)
            log.write(
              csv
                ? `${e.frame},${e.cls},${names[e.cls]},${e.score},${e.timestamp},${e.fired ? 1 : 0},${e.dropped ? 1 : 0},${lat.toFixed(2)}\n`
                : JSON.stringify({ ...e, name: names[e.cls], latencyMs: +lat.toFixed(2) }) + '\n',
            );
        }
        onProgress?.({
          events: events.length,
          images: img.n,
          counts: Object.fromEntries(names.map((n, k) => [n, counts[k]!])),
          decisionsPerSecond: events.length / ((performance.now() - t0) / 1000),
          latencyMs: { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9) },
        });
      },
    });
    for (let i = 0; i < img.n; i++) {
      const beats = pixelBeats(c.design, img.pixels.subarray(i * px, (i + 1) * px));
      await dev.writeStream('px', beats.data, { last: beats.last });
      sentAt[i] = performance.now();
    }
    await got;
  } finally {
    await new Promise<void>((res) => (log ? log.end(res) : res()));
    await dev.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const golden = goldenEvents(c.design, img.pixels, events, settings);
  const summary: SortSummary = {
    device: req.device,
    images: img.n,
    events: events.length,
    perClass: Object.fromEntries(names.map((n, k) => [n, counts[k]!])),
    pulses: events.filter((e) => e.fired).length,
    dropped: events.filter((e) => e.dropped).length,
    decisionsPerSecond: events.length / seconds,
    latencyMs: { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), max: Math.max(0, ...latencies) },
    goldenMismatches: events.filter((e, i) => JSON.stringify(e) !== JSON.stringify(golden[i])).length,
    settings,
    log: req.log ?? null,
  };
  return { summary, latenciesMs: latencies };
}

/** Latency distribution and per-class counts, side by side. */
export function sortPlot(run: SortRun): PlotSpec {
  const s = run.summary;
  return beside(
    histogram(`latency on ${s.device} (p50 ${s.latencyMs.p50.toFixed(1)} ms)`, run.latenciesMs, 'last pixel acknowledged -> event (ms)'),
    bars(`${s.events} events`, Object.entries(s.perClass).map(([label, value]) => ({ label, value })), 'events'),
  );
}

export function formatSortSummary(r: SortSummary): string {
  return [
    `${r.events} events for ${r.images} images on ${r.device} (${r.decisionsPerSecond.toFixed(1)} decisions/s)`,
    `per class: ${Object.entries(r.perClass).map(([n, k]) => `${n} ${k}`).join(', ')}`,
    `pulses: ${r.pulses} fired, ${r.dropped} dropped`,
    `latency (ack of last pixel -> event): p50 ${r.latencyMs.p50.toFixed(1)} ms, p90 ${r.latencyMs.p90.toFixed(1)} ms, max ${r.latencyMs.max.toFixed(1)} ms`,
    r.goldenMismatches ? `GOLDEN MISMATCH in ${r.goldenMismatches} event(s)` : 'every event equals the golden model',
  ].join('\n');
}

export const sortPassed = (r: SortSummary): boolean => r.goldenMismatches === 0 && r.events === r.images;
