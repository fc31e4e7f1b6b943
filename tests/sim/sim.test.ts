import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../generator/util/rng';
import { buildSim, type Sim } from '../../sim/index';
import { PLAIN_WIDTHS, passthroughFiles, passthroughIface, randomWord, widthsFiles, widthsIface } from './ifaces';

const MASK100 = (1n << 100n) - 1n;
/** Reference model of the fixture: out = (in + addend) mod 2^100. */
const ref = (xs: bigint[], addend: bigint): bigint[] => xs.map((x) => (x + addend) & MASK100);

let pt: Sim;
let wd: Sim;
const tmp = mkdtempSync(path.join(tmpdir(), 'lutforge-simtest-'));

beforeAll(async () => {
  pt = await buildSim({ iface: passthroughIface, files: passthroughFiles });
  wd = await buildSim({ iface: widthsIface, files: widthsFiles });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('passthrough data and cycles', () => {
  it('returns the reference data under stalls on both sides, across seeds', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = new Rng(seed);
      const xs = Array.from({ length: 300 }, () => randomWord(() => rng.next(), 100));
      const addend = BigInt(rng.int(0, 255));
      const stall = { a: 0.1 * seed, b: 0.5 - 0.08 * seed };
      const res = await pt.run({ seed, stall, set: { addend }, inputs: { a: xs }, outputs: { b: xs.length } });
      expect(res.outputs.b!.data).toEqual(ref(xs, addend));
      expect(res.streams.a!.beats).toBe(xs.length);
      expect(res.streams.b!.beats).toBe(xs.length);
      // stalls make it slower than one beat per cycle
      expect(res.cycles).toBeGreaterThan(xs.length * 1.1);
    }
  });

  it('takes about one cycle per beat without stalls, with sane stamps', async () => {
    const n = 1000;
    const xs = Array.from({ length: n }, (_, i) => BigInt(i));
    const run = await pt.start({ stampInputs: true });
    run.set('addend', 0);
    await run.push('a', xs);
    const ys = await run.collect('b', n);
    expect(await run.read('count')).toBe(BigInt(n));
    const st = await run.finish();
    expect(ys.data).toEqual(xs);
    expect(st.streams.a).toEqual({ dir: 'in', beats: n, firstCycle: 0, lastCycle: n - 1 });
    expect(st.streams.b!.firstCycle).toBe(1); // one register stage
    expect(st.streams.b!.lastCycle).toBe(n);
    expect(st.cycles).toBe(n + 1);
    expect(ys.cycles).toEqual(xs.map((_, i) => i + 1));
    expect(run.inputCycles('a')).toEqual(xs.map((_, i) => i));
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    const xs = Array.from({ length: 200 }, (_, i) => BigInt(i * 7));
    const go = (seed: number) => pt.run({ seed, stall: { default: 0.4 }, inputs: { a: xs }, outputs: { b: 200 } });
    const [r1, r2, r3] = [await go(9), await go(9), await go(10)];
    expect(r1.outputs.b!.cycles).toEqual(r2.outputs.b!.cycles);
    expect(r1.cycles).toBe(r2.cycles);
    expect(r3.outputs.b!.cycles).not.toEqual(r1.outputs.b!.cycles);
  });

  it('round-trips wide values at the edges of 100 bits', async () => {
    const xs = [0n, 1n, MASK100, MASK100 - 1n, 1n << 99n, (1n << 64n) - 1n, 1n << 64n, 0xffffffffn, 1n << 32n, 0x123456789abcdef0123456789n];
    const res = await pt.run({ set: { addend: 1n }, inputs: { a: xs }, outputs: { b: xs.length }, stall: { default: 0.3 } });
    expect(res.outputs.b!.data).toEqual(ref(xs, 1n));
  });

  it('carries last flags per beat and with last: true', async () => {
    const run = await pt.start({ seed: 3, stall: { default: 0.3 } });
    const flags = [false, true, false, false, true];
    await run.push('a', [1, 2, 3, 4, 5], { last: flags });
    await run.push('a', [6, 7, 8], { last: true });
    await run.push('a', [9]);
    const ys = await run.collect('b', 9);
    await run.finish();
    expect(ys.last).toEqual([...flags, false, false, true, false]);
    expect(ys.data).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
  });

  it('streams chunks with backpressure and gets the same cycles as one push', async () => {
    const n = 20000;
    const rng = new Rng(77);
    const xs = Array.from({ length: n }, () => randomWord(() => rng.next(), 100));
    const whole = await pt.run({ seed: 5, stall: { default: 0.2 }, inputs: { a: xs }, outputs: { b: n } });
    const run = await pt.start({ seed: 5, stall: { default: 0.2 } });
    const ys = run.collect('b', n);
    for (let i = 0; i < n; i += 1500) await run.push('a', xs.slice(i, i + 1500), { more: true });
    await run.end('a');
    const got = await ys;
    const st = await run.finish();
    expect(got.data).toEqual(whole.outputs.b!.data);
    expect(got.cycles).toEqual(whole.outputs.b!.cycles);
    expect(st.cycles).toBe(whole.cycles);
  });

  it('accepts pre-packed limbs', async () => {
    const limbs = new Uint32Array([5, 0, 0, 1, 0xffffffff, 0xffffffff, 0xffffffff, 0xf]);
    const res = await pt.run({ inputs: { a: limbs }, outputs: { b: 2 } });
    expect(res.outputs.b!.data).toEqual([5n + (1n << 96n), MASK100]);
  });
});

describe('plain ports, checker and log channel', () => {
  it('sets and reads every width class', async () => {
    const rng = new Rng(11);
    const run = await wd.start();
    const vals = PLAIN_WIDTHS.map((w) => randomWord(() => rng.next(), w));
    PLAIN_WIDTHS.forEach((w, i) => run.set(`p${w}`, vals[i]!));
    await run.step(1);
    for (const [i, w] of PLAIN_WIDTHS.entries()) {
      const mask = (1n << BigInt(w)) - 1n;
      expect(await run.read(`q${w}`)).toBe(~vals[i]! & mask);
      expect(await run.read(`p${w}`)).toBe(vals[i]);
    }
    await run.finish();
  });

  it('holds valid and data until ready (checked in RTL), decodes signed outputs, keeps logs off the data pipe', async () => {
    const run = await wd.start({ seed: 4, stall: { c: 0.3, s: 0.3, t: 0.3 } });
    const cs = Array.from({ length: 500 }, (_, i) => BigInt(i) * 0x1234567n % (1n << 33n));
    await run.push('c', cs);
    await run.push('s', [0n, 5n, (1n << 63n) + 1n]);
    const ts = await run.collect('t', 3);
    await run.run();
    expect(ts.data).toEqual([-1n, 4n, -(1n << 63n)]);
    expect(await run.read('c_beats')).toBe(500n);
    expect(await run.read('violations')).toBe(0n);
    const st = await run.finish();
    expect(st.streams.c!.beats).toBe(500);
    expect(run.log()).toContain('widths: hello on the log channel');
  });

  it('accepts negative words on unsigned streams as two\'s complement', async () => {
    const res = await wd.run({ inputs: { s: [-1n, -5] }, outputs: { t: 2 } });
    expect(res.outputs.t!.data).toEqual([-2n, -6n]);
  });
});

describe('errors', () => {
  it('watchdog names the stuck streams and kills the child', async () => {
    const run = await pt.start({ idleCycles: 2000 });
    const p = run.collect('b', 3);
    await expect(p).rejects.toThrow(/sim 'passthrough': watchdog: no stream transfer for 2000 cycles.*output stream 'b': expected 3 beat\(s\), received 0.*input stream 'a' never received data/);
    await run.exited;
    expect(alive(run.pid)).toBe(false);
  });

  it('maxCycles stops a run that keeps moving', async () => {
    const run = await pt.start({ maxCycles: 100, stall: { b: 0.5 } });
    await run.push('a', Array.from({ length: 1000 }, (_, i) => i));
    await expect(run.run()).rejects.toThrow(/maxCycles \(100\) reached at cycle 100.*input stream 'a': \d+ beat\(s\) not consumed/);
  });

  it('rejects unknown names and out-of-range values naming the design and port', async () => {
    const run = await pt.start();
    expect(() => run.set('nope', 1n)).toThrow(/sim 'passthrough': no plain port 'nope' \(plain ports: addend, count\)/);
    expect(() => run.set('count', 1n)).toThrow(/port 'count' is an output/);
    expect(() => run.set('addend', 256n)).toThrow(/port 'addend': 256 does not fit in 8 bits/);
    expect(() => run.push('b', [1n])).toThrow(/no input stream 'b'/);
    expect(() => run.push('a', [1n << 100n])).toThrow(/stream 'a' beat 0: .* does not fit in 100 bits/);
    expect(() => run.collect('a', 1)).toThrow(/no output stream 'a'/);
    expect(() => run.stall({ x: 0.5 })).toThrow(/stall: no stream 'x'/);
    expect(() => run.stall({ a: 1 })).toThrow(/must be in \[0, 1\)/);
    run.kill();
    await run.exited;
    await expect(pt.start({ traceFile: path.join(tmp, 'x.fst') })).rejects.toThrow(/trace: true/);
  });

  it('reports a simulator crash with the cycle', async () => {
    const run = await pt.start();
    await run.push('a', [1, 2, 3]);
    await run.collect('b', 3);
    const p = run.collect('b', 1000);
    process.kill(run.pid!, 'SIGSEGV');
    await expect(p).rejects.toThrow(/sim 'passthrough': simulator was killed by SIGSEGV near cycle \d+/);
  });

  it('complains when a stream pushed with more: true is never ended', async () => {
    const run = await pt.start();
    await run.push('a', [1, 2], { more: true });
    // The simulator pauses where 'a' runs dry (it cannot know whether more is coming)...
    expect((await run.collect('b', 1)).data).toEqual([1n]);
    // ...so a collect that needs more of 'a' cannot complete, and finish says why instead of hanging.
    const stuck = run.collect('b', 5);
    await expect(run.finish()).rejects.toThrow(/input stream 'a' ran dry at cycle \d+ .* call end\('a'\)/);
    await expect(stuck).rejects.toThrow(/ran dry/);
  });
});

describe('build cache and tracing', () => {
  it('hits the cache for an unchanged design and rebuilds a changed one', async () => {
    const again = await buildSim({ iface: passthroughIface, files: passthroughFiles });
    expect(again.cacheHit).toBe(true);
    expect(again.binary).toBe(pt.binary);
    const cacheDir = path.join(tmp, 'cache');
    const changed = [{ name: 'passthrough.v', text: passthroughFiles[0]!.text + `\n// ${Date.now()} ${process.pid}\n` }];
    const b1 = await buildSim({ iface: passthroughIface, files: changed, cacheDir });
    expect(b1.cacheHit).toBe(false);
    expect(b1.binary).not.toBe(pt.binary);
    const b2 = await buildSim({ iface: passthroughIface, files: changed, cacheDir });
    expect(b2.cacheHit).toBe(true);
    // no temp or lock left behind
    expect(readdir(cacheDir).filter((f) => f !== path.basename(b1.build.dir))).toEqual([]);
    const res = await b1.run({ set: { addend: 2 }, inputs: { a: [40n] }, outputs: { b: 1 } });
    expect(res.outputs.b!.data).toEqual([42n]);
  });

  it('builds concurrently without clashing', async () => {
    const cacheDir = path.join(tmp, 'cache2');
    const changed = [{ name: 'passthrough.v', text: passthroughFiles[0]!.text + `\n// concurrent ${Date.now()}\n` }];
    const [x, y] = await Promise.all([0, 1].map(() => buildSim({ iface: passthroughIface, files: changed, cacheDir })));
    expect(x!.binary).toBe(y!.binary);
    expect([x!.cacheHit, y!.cacheHit].sort()).toEqual([false, true]);
  });

  it('writes an FST waveform when asked', async () => {
    const traced = await buildSim({ iface: passthroughIface, files: passthroughFiles, trace: true });
    const file = path.join(tmp, 'pt.fst');
    const res = await traced.run({ traceFile: file, set: { addend: 1 }, inputs: { a: [1, 2, 3] }, outputs: { b: 3 } });
    expect(res.outputs.b!.data).toEqual([2n, 3n, 4n]);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBeGreaterThan(200);
    expect(readFileSync(file)[0]).toBe(0); // FST header block type
  });
});

function readdir(dir: string): string[] {
  return readdirSync(dir);
}
