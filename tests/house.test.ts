// House rules that keep the code navigable: no import circles, no oversized source files.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const SOURCE_DIRS = ['generator', 'host', 'sim', 'bench', 'boards'];
const MAX_LINES = 500;

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative imports of a file (value and type imports, re-exports, dynamic imports), resolved to files. */
export function relativeImports(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
  return specs.map((s) => {
    const base = path.resolve(path.dirname(file), s.replace(/\.js$/, ''));
    const hit = [`${base}.ts`, path.join(base, 'index.ts')].find((c) => existsSync(c));
    if (!hit) throw new Error(`${path.relative(ROOT, file)}: import '${s}' resolves to no file`);
    return hit;
  });
}

/** Every import cycle (as file lists), found by depth-first search. */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push(stack.slice(stack.indexOf(d)).concat(d));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return cycles;
}

describe('house rules', () => {
  const files = SOURCE_DIRS.flatMap((d) => tsFiles(path.join(ROOT, d)));

  it('finds cycles when there are some (the checker can fail)', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(importCycles(g)).toEqual([['a', 'b', 'c', 'a']]);
    expect(importCycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it('has no import circles in generator/, host/, sim/, bench/ or boards/', () => {
    expect(files.length).toBeGreaterThan(100);
    const graph = new Map(files.map((f) => [f, relativeImports(f, readFileSync(f, 'utf8'))]));
    const rel = (c: string[]) => c.map((f) => path.relative(ROOT, f)).join(' -> ');
    expect(importCycles(graph).map(rel)).toEqual([]);
  });

  it(`has no source file over ${MAX_LINES} lines outside tests/`, () => {
    const long = files
      .map((f) => ({ file: path.relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((x) => x.lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
