/**
 * Writes that never leave a half-written file or folder behind: build under a temporary sibling
 * name, then rename into place (atomic within one file system). Temp names match `*.tmp-*`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

function siblingName(path: string, tag: string): string {
  const full = resolve(path);
  return join(dirname(full), `${basename(full)}.${tag}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Best effort: makes a rename durable; some platforms cannot fsync a directory. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // ignored: durability of the directory entry is a bonus, the rename is already atomic
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Writes `data` to `<path>.tmp-<pid>-<random>`, fsyncs it, then renames it over `path`. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = siblingName(path, 'tmp');
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx');
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(resolve(path)));
}

/**
 * Lets `build` fill a fresh sibling temp folder, then puts it at `finalDir`. An existing
 * `finalDir` is renamed aside and removed once the new one is in place. If `build` or the swap
 * fails, the temp folder is removed, any existing `finalDir` is left as it was, and the error is
 * rethrown. The parent folder is created if missing.
 */
export async function replaceDirAtomic(finalDir: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  const target = resolve(finalDir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tmpDir = siblingName(target, 'tmp');
  await mkdir(tmpDir);
  const removeTmp = () => rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
  try {
    await build(tmpDir);
  } catch (err) {
    await removeTmp();
    throw err;
  }

  const oldDir = siblingName(target, 'tmp-old');
  let movedAside = false;
  try {
    try {
      await rename(target, oldDir);
      movedAside = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await rename(tmpDir, target);
  } catch (err) {
    if (movedAside) await rename(oldDir, target).catch(() => undefined);
    await removeTmp();
    throw err;
  }
  await syncDir(parent);
  // The new folder is in place; failing to delete the old copy must not report the swap as failed.
  if (movedAside) await rm(oldDir, { recursive: true, force: true }).catch(() => undefined);
}
