import path from 'node:path';
import { runTool, withTempDir, writeSources, type VerilogFile } from './tools';

/** `verilator --lint-only -Wall` over in-memory sources. */

export interface LintMessage {
  severity: 'warning' | 'error';
  /** Verilator's code, e.g. WIDTH, UNUSED. */
  code: string;
  file: string;
  line: number;
  text: string;
}

export interface LintResult {
  ok: boolean;
  messages: LintMessage[];
  /** Raw verilator output. */
  output: string;
}

export class LintError extends Error {
  constructor(
    readonly top: string,
    readonly messages: LintMessage[],
    readonly output: string,
  ) {
    const shown = messages.slice(0, 20).map((m) => `  ${m.file}:${m.line}: %${m.severity}-${m.code}: ${m.text}`);
    super(`verilator --lint-only -Wall on '${top}': ${messages.length} message(s)\n${shown.join('\n') || output.trim()}`);
    this.name = 'LintError';
  }
}

const MSG = /^%(Warning|Error)(?:-([A-Z0-9_]+))?: (?:([^:\n]+):(\d+):(?:\d+:)?)?\s*(.*)$/;

export function parseVerilatorMessages(output: string): LintMessage[] {
  const out: LintMessage[] = [];
  for (const line of output.split('\n')) {
    const m = MSG.exec(line);
    if (!m) continue;
    if (m[5]?.startsWith('Exiting due to')) continue;
    out.push({
      severity: m[1] === 'Error' ? 'error' : 'warning',
      code: m[2] ?? '',
      file: m[3] ? path.basename(m[3]) : '',
      line: m[4] ? Number(m[4]) : 0,
      text: m[5] ?? '',
    });
  }
  return out;
}

/**
 * Lints the files with `top` as the top module. Throws LintError when verilator reports anything
 * (unless throwOnWarning is false, in which case the result lists the messages).
 */
export async function lintVerilog(files: VerilogFile[], top: string, opts: { throwOnWarning?: boolean; args?: string[] } = {}): Promise<LintResult> {
  return withTempDir('lutforge-lint-', async (dir) => {
    const paths = await writeSources(dir, files);
    const res = await runTool('verilator', ['--lint-only', '-Wall', '--top-module', top, ...(opts.args ?? []), ...paths], { cwd: dir });
    const output = (res.stderr + res.stdout).split(dir + path.sep).join('');
    const messages = parseVerilatorMessages(output);
    const ok = res.code === 0 && messages.length === 0;
    if (!ok && (opts.throwOnWarning ?? true)) throw new LintError(top, messages, output);
    return { ok, messages, output };
  });
}
