/**
 * A folder of tasks for `quiver train --tasks <dir>`. Two layouts, mixed freely:
 *   <dir>/<task>/train.jsonl (+ valid.jsonl, test.jsonl)   explicit splits (the default suite)
 *   <dir>/<task>.jsonl                                     one file, split 80/10/10 by a hash of the input
 * A missing valid or test split is carved out of train the same way. `<dir>/suite.json`, when
 * present, gives each task's family. Every line is checked (valid UTF-8, the example schema, and the
 * caller's rule, e.g. that it fits the model); errors name the file and the line.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { parseTaskJsonl, TaskSuite, type ExampleCheck, type TaskExample } from '../../shared/task-data.js';
import { decodeUtf8Text } from '../../shared/utf8-text.js';
import { readJsonFile } from '../io/read-json-file.js';

export interface TaskSplits {
  train: TaskExample[];
  valid: TaskExample[];
  test: TaskExample[];
}

export interface LoadedTask {
  name: string;
  /** From suite.json; the task's own name when there is none. */
  family: string;
  splits: TaskSplits;
  multipleChoice: boolean;
}

const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** FNV-1a of a string, finalised: a stable split key that does not depend on line order. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3's finaliser: FNV alone leaves inputs that differ in their last byte clustered.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Deterministic split by a hash of the input, so the same input always lands in the same split. */
export function hashSplit(examples: TaskExample[], fractions: { valid: number; test: number }): TaskSplits {
  const out: TaskSplits = { train: [], valid: [], test: [] };
  for (const ex of examples) {
    const u = fnv1a(ex.input) / 4294967296;
    if (u < fractions.test) out.test.push(ex);
    else if (u < fractions.test + fractions.valid) out.valid.push(ex);
    else out.train.push(ex);
  }
  return out;
}

/** One task file's examples: strict UTF-8, every line checked (and by `check`); errors name file:line. */
export async function readTaskJsonl(path: string, check?: ExampleCheck): Promise<TaskExample[]> {
  return parseTaskJsonl(decodeUtf8Text(await readFile(path), path), path, check);
}

const exists = (p: string) => stat(p).then(() => true, () => false);

async function loadFamilies(dir: string): Promise<Map<string, string>> {
  const path = join(dir, 'suite.json');
  if (!(await exists(path))) return new Map();
  const suite = await readJsonFile(path, TaskSuite, { missing: 'cannot read suite.json' });
  return new Map(suite.tasks.map((t) => [t.name, t.family]));
}

export interface LoadTaskSetOptions {
  /** A rule every example must meet too, e.g. fitsContext (build/train/encode-examples.ts). */
  check?: ExampleCheck;
}

/** A task of a folder: `<task>.jsonl` (one file) or `<task>/` (a folder of split files). */
export interface TaskEntry {
  name: string;
  path: string;
  layout: 'file' | 'folder';
}

/**
 * The tasks of `dir` by name: `<task>.jsonl` files and `<task>/` folders that hold `splitFile`
 * (train.jsonl for training tasks, test.jsonl for held-out ones). Symbolic links are followed, so a
 * task folder can be assembled from links to others; anything else is ignored.
 */
export async function taskEntries(dir: string, splitFile: string): Promise<TaskEntry[]> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new QuiverInputError('no such task folder', dir);
  const out: TaskEntry[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const path = join(dir, e.name);
    const target = e.isSymbolicLink() ? await stat(path).catch(() => null) : e;
    let entry: TaskEntry;
    if (target?.isFile() && e.name.endsWith('.jsonl')) entry = { name: basename(e.name, '.jsonl'), path, layout: 'file' };
    else if (target?.isDirectory() && (await exists(join(path, splitFile)))) entry = { name: e.name, path, layout: 'folder' };
    else continue;
    if (!TASK_NAME.test(entry.name)) throw new QuiverInputError(`task name "${entry.name}" must be letters, digits, '.', '_' or '-' (it names the adapter)`, path);
    out.push(entry);
  }
  return out;
}

export async function loadTaskSet(dir: string, opts: LoadTaskSetOptions = {}): Promise<LoadedTask[]> {
  const readJsonl = (path: string) => readTaskJsonl(path, opts.check);
  const entries = await taskEntries(dir, 'train.jsonl');
  const families = await loadFamilies(dir);
  const tasks: LoadedTask[] = [];
  for (const { name, path, layout } of entries) {
    let splits: TaskSplits;
    if (layout === 'file') splits = hashSplit(await readJsonl(path), { valid: 0.1, test: 0.1 });
    else {
      const train = await readJsonl(join(path, 'train.jsonl'));
      const valid = (await exists(join(path, 'valid.jsonl'))) ? await readJsonl(join(path, 'valid.jsonl')) : null;
      const test = (await exists(join(path, 'test.jsonl'))) ? await readJsonl(join(path, 'test.jsonl')) : null;
      const carved = hashSplit(train, { valid: valid ? 0 : 0.1, test: test ? 0 : 0.1 });
      splits = { train: carved.train, valid: valid ?? carved.valid, test: test ?? carved.test };
    }
    if (splits.train.length === 0) throw new QuiverInputError('no training examples after splitting', path);
    if (splits.valid.length === 0) throw new QuiverInputError('no validation examples (add valid.jsonl or more lines)', path);
    const all = [...splits.train, ...splits.valid, ...splits.test];
    tasks.push({ name, family: families.get(name) ?? name, splits, multipleChoice: all.some((x) => x.options !== undefined) });
  }
  if (tasks.length === 0) throw new QuiverInputError('no tasks: expected <task>.jsonl files or <task>/train.jsonl folders', dir);
  return tasks;
}
