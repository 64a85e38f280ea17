/**
 * `npm run calibration:generate`: data/calibration.jsonl, the labelled prompts `quiver calibrate`
 * takes for the default library, from validation splits only (the test splits stay eval's):
 *
 * - every training task's valid split, labelled with the task's own private adapter (its name);
 * - every held-out task's valid split (`data/heldout/<task>/valid.jsonl`, which the suite generator
 *   writes for this), labelled with the private adapters of its related family (suite.json): a
 *   held-out task has no adapter of its own, and any adapter trained on the same skill is the right
 *   route — eval's "target family first". A held-out task with no valid split or no family is left
 *   out.
 *
 * Deterministic: the same task folders give the same bytes (test/calibration-set.test.ts checks the
 * committed file against them).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { TaskSuite } from '../../shared/task-data.js';
import type { LabelledExample } from '../calibrate/labelled-examples.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { readJsonFile } from '../io/read-json-file.js';
import { loadTaskSet, readTaskJsonl } from '../train/task-set.js';

export const CALIBRATION_FILE = 'data/calibration.jsonl';

const exists = (p: string) => stat(p).then(() => true, () => false);

/** The labelled examples of a task folder and a held-out folder, in file order: training tasks, then held-out ones. */
export async function calibrationExamples(tasksDir: string, heldoutDir: string): Promise<LabelledExample[]> {
  const tasks = await loadTaskSet(tasksDir);
  const out: LabelledExample[] = tasks.flatMap((t) => t.splits.valid.map((ex) => ({ input: ex.input, adapter: t.name })));
  const suitePath = join(tasksDir, 'suite.json');
  if (!(await exists(suitePath)) || !(await exists(heldoutDir))) return out;
  const suite = await readJsonFile(suitePath, TaskSuite, { missing: 'cannot read suite.json' });
  const related = new Map(suite.tasks.filter((t) => t.heldOut && t.relatedFamily !== undefined).map((t) => [t.name, t.relatedFamily!]));
  for (const name of (await readdir(heldoutDir)).sort()) {
    const valid = join(heldoutDir, name, 'valid.jsonl');
    const family = related.get(name);
    const adapters = tasks.filter((t) => t.family === family).map((t) => t.name);
    if (family === undefined || adapters.length === 0 || !(await exists(valid))) continue;
    for (const ex of await readTaskJsonl(valid)) out.push({ input: ex.input, adapter: adapters });
  }
  return out;
}

export function formatCalibrationJsonl(examples: readonly LabelledExample[]): string {
  return examples.map((e) => JSON.stringify({ input: e.input, adapter: e.adapter }) + '\n').join('');
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { tasks: { type: 'string' }, heldout: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`usage: npm run calibration:generate -- [--tasks data/tasks] [--heldout data/heldout] [--out ${CALIBRATION_FILE}]\n`);
    return;
  }
  const examples = await calibrationExamples(values.tasks ?? 'data/tasks', values.heldout ?? 'data/heldout');
  const out = values.out ?? CALIBRATION_FILE;
  await writeFileAtomic(out, formatCalibrationJsonl(examples));
  const heldOut = examples.filter((e) => Array.isArray(e.adapter)).length;
  process.stdout.write(`wrote ${out}: ${examples.length - heldOut} validation prompts of training tasks, ${heldOut} of held-out tasks\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`calibration:generate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
