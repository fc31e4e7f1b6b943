import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Write a file so readers see either the old or the new content, never half of it. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Replace the directory `dir` with exactly `files` (relative paths). The files are staged next to it and
 * swapped in with renames, so a failure part-way leaves the previous output intact.
 */
export async function writeDirAtomic(dir: string, files: ReadonlyArray<{ name: string; data: string | Uint8Array }>): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const stamp = `${process.pid}.${Date.now()}`;
  const staging = join(parent, `.${basename(dir)}.${stamp}.new`);
  const old = join(parent, `.${basename(dir)}.${stamp}.old`);
  try {
    for (const f of files) {
      const p = join(staging, f.name);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.data);
    }
    if (existsSync(dir)) await rename(dir, old);
    await rename(staging, dir);
    await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(dir) && existsSync(old)) await rename(old, dir);
    throw e;
  }
}
