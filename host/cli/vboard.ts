/**
 * `lutforge vboard`: run a design's Verilator virtual board and serve its UART on a pty (any serial client, any baud)
 * or on a loopback TCP port (`--device tcp:HOST:PORT`, one client at a time). Stops cleanly on SIGINT/SIGTERM.
 * With --json, one JSON line when it is ready ({ serving, ... }) and one when it stops ({ stopped, stats }).
 * cellnet --camera: the camera model drives the board's video input (sim/camera.ts withCameraPlayer).
 */
import type { Command } from 'commander';
import { boardNamed } from '../../boards';
import { loadCheckpoint } from '../../generator/llm/checkpoint';
import { llmPresetConfig } from '../../generator/llm/engine/hw-config';
import { presetLatency } from '../../generator/llm/device/layout';
import { deviceHwParams } from '../../generator/llm/device/engine-params';
import { ENGINE_DEFAULTS, SCHEMES, shapeOf, type SchemeName } from '../../generator/llm/model-spec';
import { resolvePreset } from '../../generator/shell/presets';
import { ConfigError, InputError } from '../../generator/util/errors';
import { cellnetLinked } from '../designs/cellnet';
import { cameraFeed } from '../sorter/camera-setup';
import { SIM_STEP_CYCLES } from '../llm/device-run';
import { llmDeviceLinked } from '../llm/device-runner';
import { checkPtyPath, checkTcpFree, parseHostPort, servePty, serveTcp, type BoardServer } from '../link/vboard-server';
import { VirtualBoardTransport, type BoardRunOptions, type VirtualBoardBuild } from '../link/vboard';
import { parseIntOpt, withJson } from './common';

interface VboardOpts {
  design: string;
  board?: string;
  pty?: string;
  tcp?: string;
  ppc?: string;
  serial?: boolean;
  preset?: string;
  model?: string;
  scheme: string;
  camera?: string;
  seed: string;
  json?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The board to simulate, as `lutforge sort` / `llm run --device` expect it with the same flags. */
function boardFor(o: VboardOpts): { build: () => Promise<VirtualBoardBuild>; run: BoardRunOptions; what: string } {
  const boardPreset = o.board ? boardNamed(o.board).presets[o.design] : undefined;
  if (o.design === 'cellnet') {
    const name = o.preset ?? (o.ppc === undefined && !o.serial ? boardPreset : undefined);
    const p: Record<string, number> = name !== undefined ? resolvePreset('cellnet', name, undefined).params : {};
    const serial = o.serial ?? (p.serial === 1);
    const ppc = serial ? 1 : o.ppc !== undefined ? parseIntOpt('--ppc', o.ppc) : (p.ppc ?? 8);
    const linked = cellnetLinked(ppc, serial);
    if (o.camera === undefined) return { build: linked.virtualBoard, run: {}, what: `cellnet (ppc ${ppc}${serial ? ', serial engine' : ''})` };
    if (!linked.hasCamera) throw new ConfigError('camera', 'the serial engine (--serial, preset up5k) has no camera port: a camera needs a streaming build (--ppc)', o.camera);
    // The camera model on the board's video input: the frames `sort --camera SPEC --seed S` expects, at the board clock.
    const feed = cameraFeed(o.camera, parseIntOpt('--seed', o.seed), linked.design, linked.regmap.link.clockHz);
    const camera = { limbs: feed.beats.limbs, last: feed.beats.last, limbsPerBeat: feed.beats.limbsPerBeat };
    return { build: linked.virtualBoard, run: { camera }, what: `cellnet (ppc ${ppc}, camera ${o.camera}: ${feed.frames} frames, ${feed.timing.period} cycles apart)` };
  }
  if (o.camera !== undefined) throw new ConfigError('camera', 'only the cellnet design has a camera input', o.design);
  if (o.design === 'llmdev') {
    if (!o.model) throw new ConfigError('model', 'llmdev needs --model FILE (the llama2.c checkpoint whose shape sizes the device)', '');
    if (!(o.scheme in SCHEMES)) throw new ConfigError('scheme', `must be one of ${Object.keys(SCHEMES).join(', ')}`, o.scheme);
    const preset = o.preset ?? boardPreset ?? 'sim-small';
    const ckpt = loadCheckpoint(o.model);
    const cfg = llmPresetConfig(preset, shapeOf(ckpt.dims), { hw: deviceHwParams(preset), engine: { ...ENGINE_DEFAULTS, ...SCHEMES[o.scheme as SchemeName] } });
    // The byte-bridged board, as `llm run --device sim` uses: the weight image is round-trip bound, not line bound.
    const linked = llmDeviceLinked(cfg, { latency: presetLatency(preset), phy: 'bytes' });
    return { build: linked.virtualBoard, run: { stepCycles: SIM_STEP_CYCLES }, what: `llmdev (preset ${preset})` };
  }
  throw new ConfigError('design', 'must be cellnet or llmdev', o.design);
}

export function register(program: Command): void {
  withJson(
    program
      .command('vboard')
      .description('run a virtual board and serve its UART on a pty or a loopback TCP port, for any serial client or --device tcp:HOST:PORT')
      .requiredOption('--design <name>', 'cellnet | llmdev')
      .option('--board <name>', "take the design's preset from this board (npx lutforge boards)")
      .option('--pty <path>', 'serve on a pty linked at this path (through socat)')
      .option('--tcp <host:port>', 'serve on this loopback TCP address (port 0: any free port)')
      .option('--ppc <n>', 'cellnet: pixels per cycle (as `sort --ppc`)')
      .option('--serial', 'cellnet: the time-multiplexed engine (as `sort --serial`)')
      .option('--preset <name>', 'cellnet: up5k|small|medium|fast; llmdev: sim-small|tiny|u280')
      .option('--model <file>', 'llmdev: llama2.c checkpoint (.bin)')
      .option('--scheme <name>', 'llmdev: quantisation scheme, as `llm run --scheme`', 'W2A8KV4')
      .option('--camera <src>', "cellnet: the camera on the board's video input: synthetic:N[@FPS] or FILE.idx[@FPS], played once from the host's camera-on write")
      .option('--seed <n>', 'cellnet --camera: seed of synthetic frames (as `sort --seed`)', '1'),
  ).action(async (o: VboardOpts) => {
    if ((o.pty === undefined) === (o.tcp === undefined)) throw new InputError('vboard: give exactly one of --pty PATH or --tcp HOST:PORT');
    const tcp = o.tcp !== undefined ? parseHostPort(o.tcp) : undefined;
    if (tcp && !LOOPBACK.has(tcp.host)) throw new InputError(`--tcp ${o.tcp}: the virtual board serves the loopback address only (127.0.0.1 or ::1)`);
    // Bad addresses fail before the (possibly long) Verilator build.
    if (tcp) await checkTcpFree(tcp.host, tcp.port);
    else checkPtyPath(o.pty!);
    const spec = boardFor(o);
    const log = (m: string): void => {
      if (!o.json) process.stderr.write(`vboard: ${m}\n`);
    };
    const build = await spec.build();
    const board = new VirtualBoardTransport(build, spec.run);
    let server: BoardServer;
    try {
      server = tcp ? await serveTcp(board, tcp.host, tcp.port, log) : await servePty(board, o.pty!, log);
    } catch (e) {
      await board.close();
      throw e;
    }
    const ready = { serving: server.address, design: o.design, board: spec.what, pid: process.pid };
    process.stdout.write(o.json ? JSON.stringify(ready) + '\n' : `vboard: ${spec.what} serving on ${server.address} (Ctrl-C stops)\n`);
    await new Promise<void>((resolveStop) => {
      let stopping = false;
      const stop = (sig: string): void => {
        if (stopping) return;
        stopping = true;
        log(`${sig}: stopping`);
        void (async () => {
          await server.close();
          await board.close();
          const end = { stopped: sig, cycles: board.cycles, stats: server.stats };
          if (o.json) process.stdout.write(JSON.stringify(end) + '\n');
          resolveStop();
        })();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      // A board that fails (simulator crash) ends the server with its error.
      const watch = setInterval(() => {
        if (board.error) {
          clearInterval(watch);
          process.exitCode = 1;
          process.stderr.write(`vboard: the virtual board stopped: ${board.error.message}\n`);
          stop('error');
        }
      }, 200);
      watch.unref();
    });
  });
}
