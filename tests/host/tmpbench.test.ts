import { afterEach, it, vi } from 'vitest';
import { linkConfig } from '../../generator/link/config';
import { LinkDeviceModel } from '../../generator/link/model';
import { linkTestCore } from '../../generator/link/testcore';
import { linkBoardTop } from '../../generator/link/top';
import { Device } from '../../host/link/device';
import { ModelLine } from '../../host/link/model-line';
import { FramedOps } from '../../host/link/ops';
afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });
const fifo = Number(process.env.FIFO ?? 2048), frames = Number(process.env.FRAMES ?? 16);
const map = linkBoardTop(linkTestCore({ memWords: 65536 }), linkConfig({ simClocksPerBit: 8, rxFifoBytes: fifo, maxFrames: frames }), { design: 'linktest', memWords: 65536 }).regmap;
it('bench', async () => {
  vi.spyOn(Math, 'random').mockReturnValue(0.25);
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'performance', 'Date'] });
  for (const [baud, lat] of [...(process.env.FAST_ONLY ? [] : [[115200, 1]]), [Number(process.env.FAST ?? 300_000), Number(process.env.LAT ?? 10)]])
  for (const rate of (process.env.RATES ?? "0,0.001,0.003,0.01,0.03").split(",").map(Number)) {
    const model = new LinkDeviceModel(map, 65536);
    const f = rate / 3;
    const ml = new ModelLine(model, { baud, latencyMs: lat, faults: { corrupt: f, drop: f, duplicate: f, seed: 1 } });
    const ops = new FramedOps(ml);
    let done = false; let res = '';
    const n = baud > 200000 ? 262144 : 32768;
    const p = (async () => { const dev = await Device.open(ops, map); const w = Uint32Array.from({ length: n / 4 }, (_, i) => i * 2654435761);
      await dev.writeMemory(0, w.subarray(0, 64), { verify: false });
      const s0 = { ...ops.link.stats };
      const l = ops.link as any; const hist: Record<number, number> = {}; const iv = setInterval(() => { hist[l.flight.length] = (hist[l.flight.length] ?? 0) + 1; }, 5);
      const t0 = performance.now(); await dev.writeMemory(0, w, { verify: false }); const t = performance.now() - t0; clearInterval(iv); console.log("W", l.dbgW, "C", l.dbgC, "cap", l.lineCap(), "minlat", l.rtt.minLatency, "srtt", l.rtt.srtt, JSON.stringify(hist), "q", l.queue.length, "srtt", l.rtt.srtt, l.rtt.minLatency);
      for (let i = 0; i < w.length; i++) if (model.mem[i] !== w[i]) throw new Error('bad mem ' + i);
      res = `${baud} ${rate} frac ${(n / (t / 1000) / (baud / 10)).toFixed(3)} chunk ${ops.link.chunk} sel ${ops.link.stats.selectiveRounds - s0.selectiveRounds} syncs ${ops.link.stats.syncs - s0.syncs} probes ${ops.link.stats.probes - s0.probes} naks ${ops.link.stats.naks - s0.naks}`;
      await dev.close(); })().finally(() => (done = true));
    p.catch((e) => console.log('ERR', e));
    const t0 = performance.now();
    while (!done && performance.now() - t0 < 3_600_000) { if (vi.getTimerCount()) await vi.advanceTimersToNextTimerAsync(); else await vi.advanceTimersByTimeAsync(1); }
    console.log(res);
  }
}, 600000);
