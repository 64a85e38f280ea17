/**
 * The tasks an evaluation scores: every training task of the library on its test split
 * (in-distribution), and every task of the held-out folder (`<task>.jsonl` or `<task>/test.jsonl`),
 * with the family that request routing should pick for each.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { TaskSuite, type TaskExample } from '../../shared/task-data.js';
import { readJsonFile } from '../io/read-json-file.js';
import type { LibraryIndex } from '../io/library-index.js';
import { loadTaskSet, readTaskJsonl, taskEntries } from '../train/task-set.js';

export type EvalSplit = 'in-distribution' | 'held-out';

export interface EvalTask {
  name: string;
  split: EvalSplit;
  family: string;
  /** The family whose adapters should solve it: its own, or the suite's `relatedFamily` (held-out). */
  targetFamily: string;
  /** Index of the task's own private adapter in the library (in-distribution), else null. */
  ownAdapter: number | null;
  /** Indices of the library's private adapters of the target family, in library order. */
  familyAdapters: number[];
  multipleChoice: boolean;
  examples: TaskExample[];
  /**
   * Where the family oracle picks its adapter (held-out tasks): the task's valid split
   * (`<task>/valid.jsonl`), or its test split when it has none — then the pick is optimistic.
   */
  selection: { split: 'valid' | 'test'; examples: TaskExample[] };
}

export interface EvalTaskSources {
  /** suite.json, for the held-out tasks' families; default: the one in the library's task folder, if any. */
  suite?: string;
  /** Folder of held-out tasks; default: `heldout` beside the suite's folder (data/heldout for data/tasks/suite.json), if it exists. */
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

/** Indices of the adapters whose family is `family` (`families[i]`: adapter i's). */
const adaptersOf = (families: readonly string[], family: string) => families.flatMap((f, i) => (f === family ? [i] : []));

/**
 * The held-out tasks: every task of `dir`, `<task>.jsonl` (all of it is test data) or
 * `<task>/test.jsonl`. The suite, when there is one, only adds what the folder cannot say — each
 * task's family and the family that should solve it (`relatedFamily`) — and orders the tasks it
 * lists first, as it lists them; a task it does not list is its own family.
 */
async function loadHeldOut(dir: string, suite: TaskSuite | null, families: readonly string[]): Promise<EvalTask[]> {
  const listed = new Map((suite?.tasks ?? []).filter((t) => t.heldOut).map((t, i) => [t.name, { t, i }]));
  const entries = (await taskEntries(dir, 'test.jsonl')).sort((a, b) => (listed.get(a.name)?.i ?? Infinity) - (listed.get(b.name)?.i ?? Infinity));
  const out: EvalTask[] = [];
  for (const e of entries) {
    const examples = await readTaskJsonl(e.layout === 'file' ? e.path : join(e.path, 'test.jsonl'));
    const validPath = e.layout === 'file' ? null : join(e.path, 'valid.jsonl');
    const valid = validPath !== null && (await exists(validPath)) ? await readTaskJsonl(validPath) : [];
    const s = listed.get(e.name)?.t;
    const targetFamily = s?.relatedFamily ?? s?.family ?? e.name;
    out.push({
      name: e.name,
      split: 'held-out',
      family: s?.family ?? e.name,
      targetFamily,
      ownAdapter: null,
      familyAdapters: adaptersOf(families, targetFamily),
      multipleChoice: examples.some((x) => x.options !== undefined),
      examples,
      selection: valid.length > 0 ? { split: 'valid', examples: valid } : { split: 'test', examples },
    });
  }
  return out;
}

export async function loadEvalTasks(libraryDir: string, index: LibraryIndex, sources: EvalTaskSources = {}): Promise<LoadedEvalTasks> {
  const tasksDir = resolve(libraryDir, index.tasksDir);
  const limit = (xs: TaskExample[]) => (sources.limit === undefined ? xs : xs.slice(0, sources.limit));
  const loaded = new Map((await loadTaskSet(tasksDir)).map((t) => [t.name, t]));
  const families = index.tasks.map((t) => t.family);
  const tasks: EvalTask[] = index.tasks.map((t, i) => {
    const data = loaded.get(t.name);
    if (!data) throw new QuiverInputError(`library.json lists task "${t.name}", which is not in the task folder`, tasksDir);
    if (data.splits.test.length === 0) throw new QuiverInputError(`task "${t.name}" has no test examples`, tasksDir);
    const examples = limit(data.splits.test);
    return {
      name: t.name,
      split: 'in-distribution',
      family: t.family,
      targetFamily: t.family,
      ownAdapter: i,
      familyAdapters: adaptersOf(families, t.family),
      multipleChoice: data.multipleChoice,
      examples,
      // No system chooses on an in-distribution task (the oracle is its own adapter): nothing to carry to the workers.
      selection: { split: 'valid', examples: [] },
    };
  });

  const suiteFile = sources.suite !== undefined ? resolve(sources.suite) : join(tasksDir, 'suite.json');
  const hasSuite = await exists(suiteFile);
  if (!hasSuite && sources.suite !== undefined) throw new QuiverInputError('no such suite file', suiteFile);
  const suite = hasSuite ? await readJsonFile(suiteFile, TaskSuite, { missing: 'cannot read the suite file' }) : null;
  const heldoutDir = sources.heldout !== undefined ? resolve(sources.heldout) : join(dirname(dirname(suiteFile)), 'heldout');
  const hasHeldout = await exists(heldoutDir);
  if (!hasHeldout && sources.heldout !== undefined) throw new QuiverInputError('no such folder of held-out tasks', heldoutDir);
  if (hasHeldout) {
    for (const t of await loadHeldOut(heldoutDir, suite, families)) {
      if (tasks.some((x) => x.name === t.name)) throw new QuiverInputError(`held-out task "${t.name}" is also a training task of the library`, heldoutDir);
      tasks.push({ ...t, examples: limit(t.examples), selection: { split: t.selection.split, examples: limit(t.selection.examples) } });
    }
  }
  return { tasks, suitePath: hasSuite ? suiteFile : null, heldoutDir: hasHeldout ? heldoutDir : null };
}
