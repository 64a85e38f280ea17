/**
 * The tasks an evaluation scores: every training task of the library on its test split
 * (in-distribution), and every held-out task of the suite on its test file
 * (`<heldout>/<task>/test.jsonl`), with the family that request routing should pick for each.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { parseTaskJsonl, TaskSuite, type TaskExample } from '../../shared/task-data.js';
import { readJsonFile } from '../io/read-json-file.js';
import type { LibraryIndex } from '../train/library-index.js';
import { loadTaskSet } from '../train/task-set.js';

export type EvalSplit = 'in-distribution' | 'held-out';

export interface EvalTask {
  name: string;
  split: EvalSplit;
  family: string;
  /** The family whose adapters should solve it: its own, or the suite's `relatedFamily` (held-out). */
  targetFamily: string;
  /** Index of the task's own private adapter in the library (in-distribution), else null. */
  ownAdapter: number | null;
  multipleChoice: boolean;
  examples: TaskExample[];
}

export interface EvalTaskSources {
  /** suite.json; default: the one in the library's task folder, if any. */
  suite?: string;
  /** Folder of held-out tasks; default: `heldout` beside the suite's folder (data/heldout for data/tasks/suite.json). */
  heldout?: string;
  /** Examples per task (the first N of the test split). */
  limit?: number;
}

export interface LoadedEvalTasks {
  tasks: EvalTask[];
  suitePath: string | null;
  heldoutDir: string | null;
}

const exists = (p: string) => stat(p).then(() => true, () => false);

export async function loadEvalTasks(libraryDir: string, index: LibraryIndex, sources: EvalTaskSources = {}): Promise<LoadedEvalTasks> {
  const tasksDir = resolve(libraryDir, index.tasksDir);
  const limit = (xs: TaskExample[]) => (sources.limit === undefined ? xs : xs.slice(0, sources.limit));
  const loaded = new Map((await loadTaskSet(tasksDir)).map((t) => [t.name, t]));
  const tasks: EvalTask[] = index.tasks.map((t, i) => {
    const data = loaded.get(t.name);
    if (!data) throw new QuiverInputError(`library.json lists task "${t.name}", which is not in the task folder`, tasksDir);
    if (data.splits.test.length === 0) throw new QuiverInputError(`task "${t.name}" has no test examples`, tasksDir);
    return { name: t.name, split: 'in-distribution', family: t.family, targetFamily: t.family, ownAdapter: i, multipleChoice: data.multipleChoice, examples: limit(data.splits.test) };
  });

  const suitePath = sources.suite !== undefined ? resolve(sources.suite) : join(tasksDir, 'suite.json');
  if (!(await exists(suitePath))) {
    if (sources.suite !== undefined) throw new QuiverInputError('no such suite file', suitePath);
    return { tasks, suitePath: null, heldoutDir: null };
  }
  const suite = await readJsonFile(suitePath, TaskSuite, { missing: 'cannot read the suite file' });
  const heldoutDir = sources.heldout !== undefined ? resolve(sources.heldout) : join(dirname(dirname(suitePath)), 'heldout');
  for (const t of suite.tasks.filter((x) => x.heldOut)) {
    if (tasks.some((x) => x.name === t.name)) throw new QuiverInputError(`held-out task "${t.name}" is also a training task of the library`, suitePath);
    const file = join(heldoutDir, t.name, 'test.jsonl');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new QuiverInputError(`held-out task "${t.name}" of ${suitePath} has no test file (pass --heldout <dir>)`, file);
    }
    const examples = parseTaskJsonl(text, file);
    tasks.push({
      name: t.name,
      split: 'held-out',
      family: t.family,
      targetFamily: t.relatedFamily ?? t.family,
      ownAdapter: null,
      multipleChoice: examples.some((x) => x.options !== undefined),
      examples: limit(examples),
    });
  }
  return { tasks, suitePath, heldoutDir };
}
