/**
 * Cell sorter latency and line rate in Verilator, per ppc, with the shipped model on synthetic images.
 * Frames stream back to back with no stalls; the trigger fires on every decision with delay 0 and width 1 (a replayed
 * frame's delay counts from its decision).
 *   first pixel -> result   event timestamp (the cycle the decision sits in the trigger) - first pixel's cycle
 *   last pixel -> result    same, from the frame's last pixel (negative: the decision needs no pixel of the last rows)
 *   first pixel -> trigger  rising edge of the pulse line (seen by the edge monitor) - first pixel's cycle
 *   line rate               measured cycles between consecutive frames' first pixels -> frames/s at the clock
 *   camera: 64x64 frames into the AXI4-Stream video port at the fastest rate the line allows (sim/camera.ts):
 *   start of frame -> decision, and start of frame -> pulse with the delay register set to that latency (the earliest
 *   a pulse can be; any larger delay adds exactly itself), checked on the pulse line for every frame.
 * Compared with the reference (shared/reference.md §3): 14.5 µs inference, 24.7 µs detection to trigger, 250 MHz.
 */
import { goldenBatch } from '../generator/cellnet/golden';
import { fitImages } from '../generator/cellnet/dataset';
import { DEFAULT_MODEL_PATH, readModel } from '../generator/cellnet/model';
import { quantize } from '../generator/cellnet/quantize';
import { synthImages } from '../generator/cellnet/synth';
import { buildCellnetSim, runCellnet } from '../sim/designs/cellnet';
import { fmt, report, table } from './table';
import { CTRL_CAMERA, CTRL_ENABLE, REGS } from '../generator/cellnet/rtl/plan';
import { CameraBeats, addFrame, cameraTiming } from '../sim/camera';
import { runCameraFrames } from '../sim/designs/cellnet-camera';
import type { CellnetSim } from '../sim/designs/cellnet';

/** Camera run: start of frame -> decision latency, then start of frame -> pulse at that delay (every frame). */
async function cameraLatency(cs: CellnetSim, frames: number): Promise<{ sofToDecision: number; sofToPulse: number; jitter: number; exact: boolean }> {
  const imgs = synthImages(frames, { seed: 2026, labels: [0, 1] });
  const t = cameraTiming(cs.hw, 64, 64, CLOCK_MHZ * 1e6);
  const beats = new CameraBeats(cs.hw.ppc);
  for (let i = 0; i < frames; i++) addFrame(beats, t, imgs.pixels.subarray(i * 4096, (i + 1) * 4096), 0);
  const regs = (delay: number) => [
    { addr: REGS.CLASS_MASK, value: (1 << cs.hw.classes) - 1 },
    { addr: REGS.DELAY, value: delay },
    { addr: REGS.WIDTH, value: 1 },
    { addr: REGS.CTRL, value: CTRL_ENABLE | CTRL_CAMERA },
  ];
  const probe = await runCameraFrames(cs, regs(4 * t.period), beats, { tail: 8 * t.period });
  const lat = Math.max(...probe.events.map((e) => e.timestamp - e.sof));
  const r = await runCameraFrames(cs, regs(lat), beats, { tail: 4 * t.period });
  const d = r.pulses.map((p, i) => p.start - r.sofCycles[i]!);
  return { sofToDecision: lat, sofToPulse: Math.max(...d), jitter: Math.max(...d) - Math.min(...d), exact: r.pulses.length === frames && r.counters.dropped === 0 };
}

const CLOCK_MHZ = 250;
const REF_INFERENCE_US = 14.5;
const REF_TRIGGER_US = 24.7;
const TARGET_RESULT_US = 1.5;
const TARGET_TRIGGER_US = 2;

export async function main(argv: string[]): Promise<void> {
  const frames = Number(argv.find((a) => a.startsWith('--frames='))?.slice(9) ?? 20);
  const ppcs = (argv.find((a) => a.startsWith('--ppc='))?.slice(6) ?? '1,2,4,8').split(',').map(Number);
  const model = readModel(DEFAULT_MODEL_PATH);
  const q = quantize(model);
  const size = model.config.inputSize;
  const pixels = fitImages(synthImages(frames, { seed: 2025, labels: [0, 1] }), size).pixels;
  const gold = goldenBatch(q, pixels, frames);
  const rows: Array<Record<string, number | boolean | string>> = [];
  for (const ppc of ppcs) {
    const t0 = performance.now();
    const cs = await buildCellnetSim(model.config, q, ppc);
    const buildSeconds = (performance.now() - t0) / 1000;
    const r = await runCellnet(cs, pixels, { seed: 1, regs: { enable: true, classMask: (1 << cs.hw.classes) - 1, threshold: 0, delay: 0, width: 1 } });
    const bitExact = r.events.every((e, i) => e.cls === gold[i]!.cls && e.score === gold[i]!.score && e.frame === i);
    const per = (f: (i: number) => number) => {
      const v = Array.from({ length: frames }, (_, i) => f(i));
      return { min: Math.min(...v), max: Math.max(...v) };
    };
    const firstToResult = per((i) => r.events[i]!.timestamp - r.firstPixel[i]!);
    const lastToResult = per((i) => r.events[i]!.timestamp - r.lastPixel[i]!);
    const firstToTrigger = per((i) => r.pulses[i]!.start - r.firstPixel[i]!);
    const frameCycles = (r.firstPixel[frames - 1]! - r.firstPixel[0]!) / (frames - 1);
    const cam = await cameraLatency(cs, frames);
    rows.push({
      ppc,
      bitExact,
      pulses: r.pulses.length,
      firstToResultCycles: firstToResult.max,
      lastToResultCycles: lastToResult.max,
      firstToTriggerCycles: firstToTrigger.max,
      jitterCycles: firstToTrigger.max - firstToTrigger.min,
      firstToResultUs: firstToResult.max / CLOCK_MHZ,
      lastToResultUs: lastToResult.max / CLOCK_MHZ,
      firstToTriggerUs: firstToTrigger.max / CLOCK_MHZ,
      frameCycles,
      framesPerSecond: (CLOCK_MHZ * 1e6) / frameCycles,
      sofToDecisionCycles: cam.sofToDecision,
      sofToPulseCycles: cam.sofToPulse,
      sofToPulseUs: cam.sofToPulse / CLOCK_MHZ,
      sofToPulseJitter: cam.jitter,
      cameraEveryPulse: cam.exact,
      products: cs.hw.totalMults,
      dsps: cs.hw.totalDsps,
      packing: cs.hw.arith.packing,
      buildSeconds,
    });
  }
  const json = {
    bench: 'cellnet',
    clockMHz: CLOCK_MHZ,
    frames,
    images: 'synthetic',
    reference: { inferenceUs: REF_INFERENCE_US, detectionToTriggerUs: REF_TRIGGER_US },
    targets: { firstPixelToResultUsAtPpc8: TARGET_RESULT_US, detectionToTriggerUs: TARGET_TRIGGER_US },
    results: rows,
  };
  report(argv, json, () =>
    [
      `cell sorter, shipped model, ${frames} synthetic frames back to back, ${CLOCK_MHZ} MHz (trigger delay 0, width 1)`,
      table(
        ['ppc', 'bit-exact', 'first px→result', 'last px→result', 'first px→trigger', 'jitter', 'µs first px→result', 'µs trigger', 'cycles/frame', 'frames/s', 'camera SOF→pulse', 'µs SOF→pulse', 'products/cycle', 'DSPs'],
        rows.map((x) => [
          x.ppc as number,
          String(x.bitExact),
          x.firstToResultCycles as number,
          x.lastToResultCycles as number,
          x.firstToTriggerCycles as number,
          x.jitterCycles as number,
          x.firstToResultUs as number,
          x.firstToTriggerUs as number,
          x.frameCycles as number,
          Math.round(x.framesPerSecond as number),
          `${x.sofToPulseCycles as number}${x.cameraEveryPulse ? '' : ' (!)'} ±${x.sofToPulseJitter as number}`,
          x.sofToPulseUs as number,
          x.products as number,
          x.dsps as number,
        ]),
      ),
      `camera: 64x64 frames at the line rate, crop centred; SOF→pulse = earliest pulse (delay = start of frame -> decision), on the pulse line for every frame`,
      `reference (hls4ml, xcku035, 1 px/cycle): ${REF_INFERENCE_US} µs inference, ${REF_TRIGGER_US} µs detection to trigger`,
      `targets: <= ${TARGET_RESULT_US} µs first pixel to result at ppc 8 (${fmt(TARGET_RESULT_US * CLOCK_MHZ)} cycles), <= ${TARGET_TRIGGER_US} µs detection to trigger`,
    ].join('\n'),
  );
}
