/**
 * `lutforge vboard` as a server: the cell sorter served on loopback TCP and on a pty, driven by `lutforge sort`
 * (tcp: transport, and serialport on the pty), events checked against the classifier golden; one client at a time,
 * garbage and a client leaving mid-frame, bad addresses, and a clean stop on SIGTERM/SIGINT with no stray processes.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldenClassify } from '../../generator/cellnet/golden';
import { FLAG } from '../../generator/link/protocol';
import { linkConfig } from '../../generator/link/config';
import { linkBoardTop } from '../../generator/link/top';
import { cellnetLinked, loadImages } from '../../host/designs/cellnet';
import { TcpTransport, VBOARD_BUSY, parseTcpSpec } from '../../host/link/tcp';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run('node', ['bin/lutforge.js', ...args], { cwd: process.cwd(), maxBuffer: 1 << 24 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

interface Served {
  child: ChildProcess;
  ready: { serving: string; pid: number };
  lines: string[];
  exit: Promise<number | null>;
}

/** Starts `lutforge vboard ... --json` and waits for its ready line. */
async function startVboard(args: string[]): Promise<Served> {
  const child = spawn('node', ['bin/lutforge.js', 'vboard', ...args, '--json'], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = await new Promise<Served['ready']>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (;;) {
        const i = buf.indexOf('\n');
        if (i < 0) break;
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        const j = JSON.parse(lines.at(-1)!) as Served['ready'];
        if (j.serving) resolve(j);
      }
    });
    void exit.then((code) => reject(new Error(`vboard exited (${code}) before it was ready: ${err}`)));
  });
  return { child, ready, lines, exit };
}

/** Process ids of the descendants of pid (from /proc). */
function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const kids = new Map<number, number[]>();
  for (const l of out.trim().split('\n')) {
    const [p, pp] = l.trim().split(/\s+/).map(Number) as [number, number];
    kids.set(pp, [...(kids.get(pp) ?? []), p]);
  }
  const all: number[] = [];
  const walk = (p: number): void => {
    for (const k of kids.get(p) ?? []) {
      all.push(k);
      walk(k);
    }
  };
  walk(pid);
  return all;
}
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie waiting for a reaper that is not ours is gone for our purposes.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** The processes of pids still alive after up to timeoutMs (helpers such as tsx's esbuild exit on their own, later). */
async function survivors(pids: number[], timeoutMs = 5000): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(alive).map((p) => {
    let cmd = '?';
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      /* gone meanwhile */
    }
    return `${p} ${cmd}`;
  });
}

/** The sorter run's events (from --log) against the classifier golden, image by image. */
function checkEvents(logFile: string, n: number): void {
  const d = cellnetLinked(8).design;
  const img = loadImages(`synthetic:${n}`, d, 1);
  const events = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { frame: number; cls: number; score: number });
  expect(events).toHaveLength(n);
  const px = d.cfg.inputSize ** 2;
  events.forEach((e, i) => {
    const g = goldenClassify(d.q, img.pixels.subarray(i * px, (i + 1) * px));
    expect({ frame: e.frame, cls: e.cls, score: e.score }).toEqual({ frame: i, cls: g.cls, score: g.score });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'lutforge-vboard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lutforge vboard --tcp', () => {
  let vb: Served;
  beforeAll(async () => {
    vb = await startVboard(['--design', 'cellnet', '--tcp', '127.0.0.1:0']);
  }, 900_000);
  afterAll(() => {
    if (vb?.child.exitCode === null) vb.child.kill('SIGKILL');
  });

  it('refuses a second client as busy, survives garbage and a client leaving mid-frame, then sorts 20 images like the golden model', async () => {
    const { host, port } = parseTcpSpec(vb.ready.serving);
    // First client: garbage, then half a frame, and it stays connected for now.
    const first: Socket = await new Promise((r) => {
      const s = connect({ host, port }, () => r(s));
    });
    first.write(Buffer.from([0x00, 0xff, 0x7d, 0x13, 0x55, FLAG, 0x03, 0x17, 0x7d]));
    // Second client: the transport reports the board as busy.
    const second = await TcpTransport.open(vb.ready.serving);
    const refused = await new Promise<Error>((r) => second.onClose((e) => r(e)));
    expect(refused.message).toMatch(/busy: another client is connected/);
    // A raw client sees the busy line itself.
    const raw = await new Promise<string>((r) => {
      let got = '';
      const s = connect({ host, port });
      s.on('data', (b) => (got += b.toString()));
      s.on('close', () => r(got));
    });
    expect(raw).toBe(VBOARD_BUSY);
    // The first client leaves mid-frame; the board keeps running and takes the next client.
    await new Promise<void>((r) => first.end(() => r()));
    await new Promise((r) => setTimeout(r, 200));
    // A client built for another register map / protocol revision is refused by the version check, naming the fix.
    const other = await cli(['sort', '--device', vb.ready.serving, '--ppc', '1', '--images', 'synthetic:1', '--json']);
    expect(other.code).not.toBe(0);
    expect(JSON.parse(other.stdout).message).toMatch(/runs 'cellnet' version 0x[0-9a-f]+, host expects .*pass --ppc 8/);
    const log = join(dir, 'tcp-events.jsonl');
    const r = await cli(['sort', '--device', vb.ready.serving, '--images', 'synthetic:20', '--log', log, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ device: vb.ready.serving, images: 20, events: 20 });
    checkEvents(log, 20);
  }, 900_000);

  it('refuses a port in use before building anything, naming it', async () => {
    const { port } = parseTcpSpec(vb.ready.serving);
    const r = await cli(['vboard', '--design', 'cellnet', '--tcp', `127.0.0.1:${port}`, '--json']);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}: cannot listen: the port is in use`));
  });

  it('stops on SIGTERM and leaves no process behind', async () => {
    const kids = descendants(vb.child.pid!);
    expect(kids.length).toBeGreaterThan(0); // the simulator
    vb.child.kill('SIGTERM');
    expect(await vb.exit).toBe(0);
    expect(JSON.parse(vb.lines.at(-1)!)).toMatchObject({ stopped: 'SIGTERM', stats: { refused: 2 } });
    expect(await survivors(kids)).toEqual([]);
  });
});

describe('lutforge vboard --pty', () => {
  it('serves a pty that serialport opens: sort gives 20 golden events; SIGINT removes the pty link and every process', async () => {
    const path = join(dir, 'board');
    const vb = await startVboard(['--design', 'cellnet', '--pty', path]);
    try {
      expect(vb.ready.serving).toBe(path);
      expect(existsSync(path)).toBe(true);
      const log = join(dir, 'pty-events.jsonl');
      // serial:PATH opens the pty with the serialport package.
      const r = await cli(['sort', '--device', `serial:${path}`, '--images', 'synthetic:20', '--log', log, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ images: 20, events: 20 });
      checkEvents(log, 20);
      const kids = descendants(vb.child.pid!);
      vb.child.kill('SIGINT');
      expect(await vb.exit).toBe(0);
      expect(await survivors(kids)).toEqual([]);
      expect(existsSync(path)).toBe(false);
    } finally {
      if (vb.child.exitCode === null) vb.child.kill('SIGKILL');
    }
  }, 900_000);

  it('refuses a path that cannot be created, and one that exists', async () => {
    const r = await cli(['vboard', '--design', 'cellnet', '--pty', join(dir, 'no-such-dir', 'board'), '--json']);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout).message).toMatch(/cannot create it: folder .*no-such-dir does not exist/);
    const r2 = await cli(['vboard', '--design', 'cellnet', '--pty', dir, '--json']);
    expect(JSON.parse(r2.stdout).message).toMatch(/already exists/);
  });
});

// The linked cell sorter with its camera on the board's video input (not a link channel), fed by the camera model
// inside the virtual board, driven by `sort --camera --device tcp:` over the link (docs/cellnet.md).
describe('lutforge vboard --camera: sort --camera over the link', () => {
  it('a camera build has no cam link channel; 8 synthetic frames give 8 events equal to the golden, 0 drops', async () => {
    const linked = cellnetLinked(8);
    expect(linked.hasCamera).toBe(true);
    expect(linked.regmap.channels.map((c) => c.name)).toEqual(['px', 'wload', 'cfg', 'event']);
    // the layout hash differs from the old build's (camera as a link channel), so an old host is refused
    const old = linkBoardTop(linked.design.module, linkConfig(), { design: 'cellnet' }).regmap;
    expect(old.channels.some((c) => c.name === 'cam')).toBe(true);
    expect(linked.regmap.version).not.toBe(old.version);
    const vb = await startVboard(['--design', 'cellnet', '--tcp', '127.0.0.1:0', '--camera', 'synthetic:8', '--seed', '3']);
    try {
      const r = await cli(['sort', '--device', vb.ready.serving, '--camera', 'synthetic:8', '--seed', '3', '--sort', '1', '--check', '--json']);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s).toMatchObject({ frames: 8, events: 8, drops: 0, goldenChecked: true, goldenMismatches: 0, pulsesChecked: false, counters: { cam_frames: 8, events_lost: 0 } });
      expect(Object.values(s.perClass as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(8);
      // 10 µs at the board's 100 MHz, from the event records (the pulse pin is not seen over the link)
      expect(s.sofToTrigger).toMatchObject({ cycles: 1000, jitterCycles: 0, source: 'event records' });
    } finally {
      vb.child.kill('SIGTERM');
      await vb.exit;
    }
  }, 900_000);

  it('refuses a camera on the serial engine (no camera port), before connecting or building', async () => {
    const r = await cli(['sort', '--device', 'tcp:127.0.0.1:1', '--serial', '--camera', 'synthetic:2', '--json']);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout).message).toMatch(/serial engine .*has no camera port/);
    const v = await cli(['vboard', '--design', 'cellnet', '--serial', '--camera', 'synthetic:2', '--tcp', '127.0.0.1:0', '--json']);
    expect(v.code).not.toBe(0);
    expect(JSON.parse(v.stdout).message).toMatch(/serial engine .*has no camera port/);
  });
});

describe('tcp: device specs', () => {
  it('parses HOST:PORT[@baud] and refuses malformed ones', async () => {
    expect(parseTcpSpec('tcp:127.0.0.1:5000')).toEqual({ host: '127.0.0.1', port: 5000, baud: 115200 });
    expect(parseTcpSpec('tcp:[::1]:7@3000000')).toEqual({ host: '::1', port: 7, baud: 3000000 });
    expect(() => parseTcpSpec('tcp:host')).toThrow(/tcp:HOST:PORT/);
    expect(() => parseTcpSpec('tcp:h:70000')).toThrow(/1\.\.65535/);
    // Nothing listening: a clear refusal.
    const srv: Server = createServer();
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    await new Promise<void>((r) => srv.close(() => r()));
    await expect(TcpTransport.open(`tcp:127.0.0.1:${port}`)).rejects.toThrow(/connection refused/);
  });
});
