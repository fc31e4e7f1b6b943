/**
 * `lutforge sort`: drive the cell sorter on a device (default: the Verilator virtual board) with live per-class
 * counts, decision rate and latency; the run itself is host/sorter/.
 */
import type { Command } from 'commander';
import { writePlot } from '../plot';
import { formatSortSummary, runSorter, sortPassed, sortPlot } from '../sorter/replay';
import { cameraSortPassed, formatCameraSummary, runCameraSorter } from '../sorter/camera';
import { histogram } from '../plot';
import { ConfigError } from '../../generator/util/errors';
import { cellnetLinked } from '../designs/cellnet';
import { emit, parseIntOpt, withJson } from './common';

interface SortOpts {
  device: string;
  images?: string;
  camera?: string;
  check?: boolean;
  events: string;
  background: string;
  presence: string;
  sort: string;
  threshold: string;
  delayUs: string;
  widthUs: string;
  log?: string;
  plot?: string;
  ppc: string;
  serial?: boolean;
  seed: string;
  json?: boolean;
}

export function register(program: Command): void {
  withJson(
    program
      .command('sort')
      .description("sort cells: the board's camera (--camera; the camera model on --device sim) or images replayed over the link (--images); events, counters, golden check")
      .option('--device <dev>', "sim | serial:PATH[@baud] | tcp:HOST:PORT[@baud] | xdma:N[@DIR]", 'sim')
      .option('--images <src>', 'replay over the link: IDX images file or synthetic:N')
      .option('--camera <src>', "the camera's frames: synthetic:N[@FPS] or FILE.idx[@FPS] (uint8, up to 64x64); played in the simulation on --device sim, the board's own camera otherwise")
      .option('--check', 'camera: check every event (and on sim every pulse) against the golden model; on a board the host must be given the frames the camera sends', false)
      .option('--events <mode>', 'camera: which decisions raise an event: all | fired | 1/N', 'all')
      .option('--background <grey>', 'camera: presence gate background level', '0')
      .option('--presence <sum>', 'camera: presence gate threshold on sum |p - background| over the crop (0 = off)', '0')
      .option('--sort <classes>', 'classes to sort: names or indices, comma separated', '0')
      .option('--threshold <t>', 'minimum score to fire', '0')
      .option('--delay-us <d>', 'pulse delay after the decision (µs)', '10')
      .option('--width-us <w>', 'pulse width (µs)', '5')
      .option('--log <file>', 'write every event here (.jsonl or .csv)')
      .option('--plot <file.svg>', 'plot the latency distribution and per-class counts')
      .option('--ppc <n>', 'pixels per cycle of the design', '8')
      .option('--serial', 'the time-multiplexed engine of the iCEBreaker builds (preset up5k; ppc 1, ~1.36 M cycles per image)', false)
      .option('--seed <n>', 'seed for synthetic images', '1'),
  ).action(async (o: SortOpts) => {
    const live = !o.json && process.stderr.isTTY;
    if (!!o.images === !!o.camera) throw new ConfigError('images', "give exactly one of --images (replay over the link) and --camera (the board's camera, or the camera model on sim)", o.images ?? '');
    if (o.camera) {
      if (o.serial) throw new ConfigError('camera', 'the serial engine (--serial, the iCE40 builds) has no camera port: use --images, or a streaming build (--ppc) whose camera input is connected', o.camera);
      const ppc = parseIntOpt('--ppc', o.ppc);
      const run = await runCameraSorter(
        {
          device: o.device,
          camera: o.camera,
          sort: o.sort.split(','),
          threshold: Number(o.threshold),
          delayUs: Number(o.delayUs),
          widthUs: Number(o.widthUs),
          ppc,
          seed: parseIntOpt('--seed', o.seed),
          check: !!o.check,
          events: o.events,
          background: Number(o.background),
          presence: Number(o.presence),
          clockHz: cellnetLinked(ppc).regmap.link.clockHz,
        },
        live ? (f, n) => process.stderr.write(`\r${f}/${n} events   `) : undefined,
      );
      if (live) process.stderr.write('\n');
      const r = run.summary;
      if (o.plot) await writePlot(o.plot, histogram(`start of frame -> decision (${r.events} events)`, run.sofToDecisionCycles, 'cycles'));
      emit(o, r, () => formatCameraSummary(r));
      if (!cameraSortPassed(r)) process.exitCode = 1;
      return;
    }
    const run = await runSorter(
      {
        device: o.device,
        images: o.images!,
        sort: o.sort.split(','),
        threshold: Number(o.threshold),
        delayUs: Number(o.delayUs),
        widthUs: Number(o.widthUs),
        log: o.log,
        ppc: o.serial ? 1 : parseIntOpt('--ppc', o.ppc),
        serial: o.serial,
        seed: parseIntOpt('--seed', o.seed),
      },
      live
        ? (p) =>
            process.stderr.write(
              `\r${p.events}/${p.images} events  ${Object.entries(p.counts).map(([n, k]) => `${n}:${k}`).join(' ')}  ` +
                `${p.decisionsPerSecond.toFixed(1)} decisions/s  latency p50 ${p.latencyMs.p50.toFixed(0)} ms p90 ${p.latencyMs.p90.toFixed(0)} ms   `,
            )
        : undefined,
    );
    if (live) process.stderr.write('\n');
    const r = run.summary;
    if (o.plot) await writePlot(o.plot, sortPlot(run));
    emit(o, r, () => formatSortSummary(r));
    if (!sortPassed(r)) process.exitCode = 1;
  });
}
