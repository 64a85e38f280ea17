import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceDirAtomic, writeFileAtomic } from '../build/io/atomic-write.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quiver-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes strings and bytes, replacing an existing file, and leaves no temp file', async () => {
    const path = join(dir, 'out.json');
    await writeFileAtomic(path, '{"a":1}');
    expect(await readFile(path, 'utf8')).toBe('{"a":1}');
    await writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['out.json']);
  });

  it('writes a subarray view exactly', async () => {
    const path = join(dir, 'view.bin');
    const base = Uint8Array.from([9, 1, 2, 9]);
    await writeFileAtomic(path, base.subarray(1, 3));
    expect([...(await readFile(path))]).toEqual([1, 2]);
  });

  it('removes the temp file and rethrows when the rename fails, leaving the target alone', async () => {
    const target = join(dir, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'keep.txt'), 'keep');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(await readdir(dir)).toEqual(['taken']);
    expect(await readFile(join(target, 'keep.txt'), 'utf8')).toBe('keep');
  });

  it('rethrows when the folder does not exist', async () => {
    await expect(writeFileAtomic(join(dir, 'missing', 'x.txt'), 'x')).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('survives concurrent writers to the same path with one complete result', async () => {
    const path = join(dir, 'race.txt');
    const contents = Array.from({ length: 8 }, (_, i) => String(i).repeat(10_000));
    await Promise.all(contents.map((c) => writeFileAtomic(path, c)));
    expect(contents).toContain(await readFile(path, 'utf8'));
    expect(await readdir(dir)).toEqual(['race.txt']);
  });
});

describe('replaceDirAtomic', () => {
  it('creates the folder (and its parent) from what build wrote', async () => {
    const final = join(dir, 'lib', 'adapter');
    await replaceDirAtomic(final, async (tmp) => {
      expect(tmp).not.toBe(final);
      await writeFile(join(tmp, 'a.txt'), 'A');
    });
    expect(await readdir(final)).toEqual(['a.txt']);
    expect(await readdir(join(dir, 'lib'))).toEqual(['adapter']);
  });

  it('replaces an existing folder completely and removes the old copy', async () => {
    const final = join(dir, 'adapter');
    await mkdir(final);
    await writeFile(join(final, 'old.txt'), 'old');
    await replaceDirAtomic(final, async (tmp) => {
      // the old folder is still intact while build runs
      expect(await readFile(join(final, 'old.txt'), 'utf8')).toBe('old');
      await writeFile(join(tmp, 'new.txt'), 'new');
    });
    expect(await readdir(final)).toEqual(['new.txt']);
    expect(await readdir(dir)).toEqual(['adapter']);
  });

  it('on a failing build: rethrows, removes the temp folder, leaves the existing folder untouched', async () => {
    const final = join(dir, 'adapter');
    await mkdir(final);
    await writeFile(join(final, 'old.txt'), 'old');
    let seenTmp = '';
    await expect(
      replaceDirAtomic(final, async (tmp) => {
        seenTmp = tmp;
        await writeFile(join(tmp, 'partial.txt'), 'half');
        throw new Error('training diverged');
      }),
    ).rejects.toThrow('training diverged');
    expect(seenTmp).not.toBe('');
    expect(await readdir(dir)).toEqual(['adapter']);
    expect(await readdir(final)).toEqual(['old.txt']);
  });

  it('on a failing build with no existing folder: nothing is left behind', async () => {
    await expect(
      replaceDirAtomic(join(dir, 'adapter'), async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await readdir(dir)).toEqual([]);
  });
});
