/**
 * `lutforge sort`: drive the cell sorter on a device (default: the Verilator virtual board). Loads the settings,
 * streams images in replay mode, shows live per-class counts, decision rate and latency, logs every event
 * (JSONL or CSV), and ends with a summary checked against the golden model.
 */
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../generator/util/errors';
import { cellnetLinked, decodeEvent, goldenEvents, loadImages, pixelBeats, programTrigger, type SortSettings } from '../designs/cellnet';
import { openDevice } from '../link/open';
import type { TriggerEvent } from '../../generator/cellnet/rtl/trigger-golden';
import { emit, withJson } from './common';

interface SortOpts {
  device: string;
  images: string;
  sort: string;
  threshold: string;
  delayUs: string;
  widthUs: string;
  log?: string;
  ppc: string;
  seed: string;
  json?: boolean;
}

const pct = (xs: number[], p: number): number => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

export function register(program: Command): void {
  withJson(
    program
      .command('sort')
      .description('sort cells on a device: load settings, stream images (replay), collect events, check against the golden model')
      .option('--device <dev>', "sim | serial:PATH[@baud] | xdma:N[@DIR]", 'sim')
      .requiredOption('--images <src>', 'IDX images file or synthetic:N')
      .option('--sort <classes>', 'classes to sort: names or indices, comma separated', '0')
      .option('--threshold <t>', 'minimum score to fire', '0')
      .option('--delay-us <d>', 'pulse delay after the decision (µs)', '10')
      .option('--width-us <w>', 'pulse width (µs)', '5')
      .option('--log <file>', 'write every event here (.jsonl or .csv)')
      .option('--ppc <n>', 'pixels per cycle of the design', '8')
      .option('--seed <n>', 'seed for synthetic images', '1'),
  ).action(async (o: SortOpts) => {
    const c = cellnetLinked(Number(o.ppc));
    const names = c.design.cfg.classes.map((x) => x.name);
    let mask = 0;
    for (const t of o.sort.split(',').map((x) => x.trim())) {
      const i = /^\d+$/.test(t) ? Number(t) : names.indexOf(t);
      if (i < 0 || i >= names.length) throw new ConfigError('sort', `classes are ${names.map((n, k) => `${k}=${n}`).join(', ')}`, t);
      mask |= 1 << i;
    }
    const clockHz = c.regmap.link.clockHz;
    const us = (name: string, v: string): number => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0) throw new ConfigError(name, 'must be a non-negative number of µs', v);
      return Math.round((x * clockHz) / 1e6);
    };
    const settings: SortSettings = { classMask: mask, threshold: Number(o.threshold), delayCycles: us('delay-us', o.delayUs), widthCycles: us('width-us', o.widthUs) };
    if (settings.delayCycles >= 2 ** c.design.hw.trigger.delayBits) throw new ConfigError('delay-us', `must be below ${(2 ** c.design.hw.trigger.delayBits / clockHz) * 1e6} µs`, o.delayUs);
    if (settings.widthCycles >= 2 ** c.design.hw.trigger.widthBits || settings.widthCycles < 1) throw new ConfigError('width-us', `must give 1..${2 ** c.design.hw.trigger.widthBits - 1} cycles`, o.widthUs);
    const img = loadImages(o.images, c.design, Number(o.seed));
    const dev = await openDevice(o.device, c.regmap, { virtualBoard: c.virtualBoard });
    const log = o.log ? createWriteStream(o.log) : null;
    const csv = !!o.log?.endsWith('.csv');
    if (log && csv) log.write('frame,class,name,score,timestamp,fired,dropped,latency_ms\n');
    const counts = new Array<number>(names.length).fill(0);
    const latencies: number[] = [];
    const sentAt: number[] = [];
    const events: TriggerEvent[] = [];
    const t0 = performance.now();
    const live = !o.json && process.stderr.isTTY;
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
            if (log) log.write(csv ? `${e.frame},${e.cls},${names[e.cls]},${e.score},${e.timestamp},${e.fired ? 1 : 0},${e.dropped ? 1 : 0},${lat.toFixed(2)}\n` : JSON.stringify({ ...e, name: names[e.cls], latencyMs: +lat.toFixed(2) }) + '\n');
          }
          if (live) {
            const rate = events.length / ((performance.now() - t0) / 1000);
            process.stderr.write(`\r${events.length}/${img.n} events  ${names.map((n, k) => `${n}:${counts[k]}`).join(' ')}  ${rate.toFixed(1)} decisions/s  latency p50 ${pct(latencies, 0.5).toFixed(0)} ms p90 ${pct(latencies, 0.9).toFixed(0)} ms   `);
          }
        },
      });
      // Replay: one image per write, so each image's latency is measured from its own acknowledgement.
      for (let i = 0; i < img.n; i++) {
        const beats = pixelBeats(c.design, img.pixels.subarray(i * px, (i + 1) * px));
        await dev.writeStream('px', beats.data, { last: beats.last });
        sentAt[i] = performance.now();
      }
      await got;
      if (live) process.stderr.write('\n');
    } finally {
      log?.end();
      await dev.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const golden = goldenEvents(c.design, img.pixels, events, settings);
    const mismatches = events.filter((e, i) => JSON.stringify(e) !== JSON.stringify(golden[i])).length;
    const fired = events.filter((e) => e.fired).length;
    const result = {
      device: o.device,
      images: img.n,
      events: events.length,
      perClass: Object.fromEntries(names.map((n, k) => [n, counts[k]])),
      pulses: fired,
      dropped: events.filter((e) => e.dropped).length,
      decisionsPerSecond: events.length / seconds,
      latencyMs: { p50: pct(latencies, 0.5), p90: pct(latencies, 0.9), max: Math.max(0, ...latencies) },
      goldenMismatches: mismatches,
      settings,
      log: o.log ?? null,
    };
    emit(o, result, () =>
      [
        `${result.events} events for ${img.n} images on ${o.device} (${result.decisionsPerSecond.toFixed(1)} decisions/s)`,
        `per class: ${names.map((n, k) => `${n} ${counts[k]}`).join(', ')}`,
        `pulses: ${fired} fired, ${result.dropped} dropped`,
        `latency (ack of last pixel -> event): p50 ${result.latencyMs.p50.toFixed(1)} ms, p90 ${result.latencyMs.p90.toFixed(1)} ms, max ${result.latencyMs.max.toFixed(1)} ms`,
        mismatches ? `GOLDEN MISMATCH in ${mismatches} event(s)` : 'every event equals the golden model',
      ].join('\n'),
    );
    if (mismatches || events.length !== img.n) process.exitCode = 1;
  });
}
