import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashSplit, loadTaskSet } from '../build/train/task-set.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();
const lines = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => JSON.stringify({ input: `${prefix} ${i}`, output: String(i) })).join('\n') + '\n';

describe('loadTaskSet', () => {
  it('reads explicit splits, splits single files by input hash, carves a missing split, follows links', async () => {
    const root = await tempDir();
    const dir = join(root, 'tasks');
    await mkdir(join(dir, 'explicit'), { recursive: true });
    await writeFile(join(dir, 'explicit', 'train.jsonl'), lines(20, 'a'));
    await writeFile(join(dir, 'explicit', 'valid.jsonl'), lines(3, 'b'));
    await writeFile(join(dir, 'explicit', 'test.jsonl'), lines(4, 'c'));
    await writeFile(join(dir, 'single.jsonl'), lines(200, 'd'));
    await mkdir(join(root, 'elsewhere', 'linked'), { recursive: true });
    await writeFile(join(root, 'elsewhere', 'linked', 'train.jsonl'), lines(100, 'e'));
    await symlink(join(root, 'elsewhere', 'linked'), join(dir, 'linked'));
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    const tasks = await loadTaskSet(dir);
    expect(tasks.map((t) => t.name)).toEqual(['explicit', 'linked', 'single']);
    const [explicit, linked, single] = tasks;
    expect([explicit!.splits.train.length, explicit!.splits.valid.length, explicit!.splits.test.length]).toEqual([20, 3, 4]);
    const s = single!.splits;
    expect(s.train.length + s.valid.length + s.test.length).toBe(200);
    expect(s.valid.length).toBeGreaterThan(5);
    expect(s.test.length).toBeGreaterThan(5);
    expect(linked!.splits.valid.length).toBeGreaterThan(0);
    expect(linked!.splits.test.length).toBeGreaterThan(0);
    // the split depends on the input alone, not on the line order
    const again = hashSplit([...s.train, ...s.valid, ...s.test].reverse(), { valid: 0.1, test: 0.1 });
    expect(new Set(again.test.map((x) => x.input))).toEqual(new Set(s.test.map((x) => x.input)));
  });

  it('uses suite.json families and refuses what is not a task folder', async () => {
    const root = await tempDir();
    await expect(loadTaskSet(join(root, 'missing'))).rejects.toThrow(/missing: no such task folder/);
    await expect(loadTaskSet(root)).rejects.toThrow(/no tasks: expected <task>.jsonl/);
    await writeFile(join(root, 'bad.jsonl'), '{"input": "x", "output": 3}\n');
    await expect(loadTaskSet(root)).rejects.toThrow(/bad.jsonl:1: /);
  });

  it('refuses a line that is not UTF-8 and an example the caller\'s check refuses, by file and line', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'words'));
    await writeFile(join(root, 'words', 'valid.jsonl'), lines(2, 'v'));
    const file = join(root, 'words', 'train.jsonl');
    const ok = lines(3, 'w');
    await writeFile(file, Buffer.concat([Buffer.from(ok), Buffer.from('{"input": "na'), Buffer.from([0xef, 0xbb]), Buffer.from('ve", "output": "x"}\n')]));
    await expect(loadTaskSet(root)).rejects.toThrow(/train.jsonl:4: not valid UTF-8/);
    await writeFile(file, `\ufeff${ok}{"input": "naïve", "output": "x"}\n`); // a BOM and real UTF-8 are fine
    const [task] = await loadTaskSet(root);
    const all = [...task!.splits.train, ...task!.splits.test];
    expect(all.map((x) => x.input).sort()).toEqual(['naïve', 'w 0', 'w 1', 'w 2']);
    const check = (ex: { input: string }) => (ex.input === 'naïve' ? 'too long' : null);
    await expect(loadTaskSet(root, { check })).rejects.toThrow(/train.jsonl:4: too long/);
  });

  it('reads the shipped suite with its families', async () => {
    const tasks = await loadTaskSet('data/tasks');
    expect(tasks.length).toBeGreaterThanOrEqual(24);
    expect(new Set(tasks.map((t) => t.family)).size).toBeGreaterThanOrEqual(5);
    expect(tasks.find((t) => t.name === 'reverse-word-arrow')?.family).toBe('reverse');
  });
});
