#!/usr/bin/env node
// Installs what lutforge needs, and only what is missing: system simulators from apt, npm dependencies.
// Used by `npm run demo`, `npm test` and .ci/run. Plain Node with no dependencies, so it runs on a fresh clone.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const log = (s) => quiet || process.stderr.write(`setup: ${s}\n`);

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  process.stderr.write(`setup: lutforge needs Node.js 20 or newer; this is ${process.version}\n`);
  process.exit(1);
}

// Debian package -> the command it provides.
const SYSTEM_TOOLS = { verilator: 'verilator', iverilog: 'iverilog', ccache: 'ccache', socat: 'socat' };
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = Object.entries(SYSTEM_TOOLS).filter(([, cmd]) => !has(cmd)).map(([pkg]) => pkg);
if (missing.length) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && has('apt-get')) {
    log(`installing ${missing.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
  } else {
    process.stderr.write(
      `setup: missing system tools: ${missing.join(', ')}\n` +
        `setup: install them with:\n\n    sudo apt-get install -y ${missing.join(' ')}\n\n`,
    );
    process.exit(1);
  }
}

// npm dependencies: install when node_modules is absent or older than the lock file.
const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');
const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000);
if (stale) {
  log('installing npm dependencies');
  execFileSync('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
