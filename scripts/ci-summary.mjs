#!/usr/bin/env node
// Turn vitest's JSON report into the one line CI reads: "N passed, N failed".
// Skipped or todo tests are not passes. A missing report (the run died before vitest, e.g. the typecheck
// failed) or a test file that failed to load counts as a failure.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2];
let passed = 0;
let failed = 0;
if (!file || !existsSync(file)) {
  failed = 1;
} else {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = r.numFailedTests ?? 0;
  for (const suite of r.testResults ?? [])
    if (suite.status === 'failed' && (suite.assertionResults ?? []).every((a) => a.status !== 'failed')) failed += 1;
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
