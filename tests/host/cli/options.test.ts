import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../../../host/cli/commands';

const leaves = (c: Command, path: string[] = []): Array<{ path: string; cmd: Command }> =>
  c.commands.length ? c.commands.flatMap((s) => leaves(s, [...path, s.name()])) : [{ path: path.join(' '), cmd: c }];

describe('the command line', () => {
  const program = new Command();
  register(program);
  const all = leaves(program);

  it('has many commands', () => expect(all.length).toBeGreaterThan(10));

  it('offers --json on every command', () => {
    const missing = all.filter(({ cmd }) => !cmd.options.some((o) => o.long === '--json')).map((x) => x.path);
    expect(missing).toEqual([]);
  });

  it('describes every command and option', () => {
    const bare = all.flatMap(({ path, cmd }) => [
      ...(cmd.description() ? [] : [path]),
      ...cmd.options.filter((o) => !o.description).map((o) => `${path} ${o.long}`),
    ]);
    expect(bare).toEqual([]);
  });
});
