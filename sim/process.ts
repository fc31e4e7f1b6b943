/**
 * The simulator child process: spawned with piped stdio, killed when Node exits (so no stray simulators stay
 * behind), and its stderr kept as a tail for error messages, copied to our stderr or appended to a file.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

const TAIL_BYTES = 16 * 1024;

const liveChildren = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;
function track(child: ChildProcessWithoutNullStreams): void {
  liveChildren.add(child);
  child.on('close', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

export class SimProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private tail = '';
  private readonly file: WriteStream | null = null;

  /** log: 'tail' (default) keeps the last 16 KiB only, 'inherit' also copies to our stderr, anything else is a file to append to. */
  constructor(binary: string, args: string[], log: 'tail' | 'inherit' | string | undefined) {
    this.child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    track(this.child);
    if (log && log !== 'tail' && log !== 'inherit') this.file = createWriteStream(log, { flags: 'a' });
    const inherit = log === 'inherit';
    this.child.stderr.on('data', (b: Buffer) => {
      if (inherit) process.stderr.write(b);
      this.file?.write(b);
      this.tail = (this.tail + b.toString('utf8')).slice(-TAIL_BYTES);
    });
    this.child.stdin.on('error', () => {
      /* EPIPE after a crash: reported by 'close' */
    });
    this.child.on('close', () => this.file?.end());
  }

  /** Simulator stderr seen so far (last 16 KiB). */
  log(): string {
    return this.tail;
  }

  /** The log tail formatted for the end of an error message ('' when empty). */
  logSuffix(): string {
    const t = this.tail.trim();
    return t ? `\nsimulator log (tail):\n${t.split('\n').slice(-20).join('\n')}` : '';
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}
