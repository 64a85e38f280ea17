/**
 * sha256 of every file under a folder, keyed by its path relative to a root folder, '/'-separated
 * and sorted: what build.json records of each stage's output, and what a rerun compares. Temporary
 * files of an interrupted atomic write (`*.tmp-*`) are never part of an output.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { sha256File } from '../io/file-hash.js';

export type Checksums = Record<string, string>;

const isTemp = (name: string) => /\.tmp(-old)?-\d+-[0-9a-f]+$/.test(name);

/** Every regular file under `dir` (following no links), skipping `exclude`d absolute paths. */
export async function listFiles(dir: string, exclude: readonly string[] = []): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (isTemp(e.name) || exclude.includes(p)) continue;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

export function relativeKey(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/** Checksums of the files under `dir`, keyed relative to `root`. */
export async function treeChecksums(root: string, dir: string, exclude: readonly string[] = []): Promise<Checksums> {
  const out: Checksums = {};
  for (const f of await listFiles(dir, exclude)) out[relativeKey(root, f)] = await sha256File(f);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Whether every file of `recorded` (keys relative to `root`) still has its checksum. */
export async function checksumsHold(root: string, recorded: Checksums): Promise<boolean> {
  for (const [key, sum] of Object.entries(recorded)) {
    const now = await sha256File(join(root, key)).catch(() => null);
    if (now !== sum) return false;
  }
  return true;
}
