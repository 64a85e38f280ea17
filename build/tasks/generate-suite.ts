import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { QuiverInputError } from '../../shared/errors.js';
import { Rng } from '../../shared/random.js';
import {
  formatTaskJsonl,
  parseTaskJsonl,
  suiteTaskDir,
  TaskSuite,
  type SuiteTask,
  type TaskExample,
} from '../../shared/task-data.js';
import { buildDomainPools, type DomainPools } from './domains.js';
import { SUITE_TASKS } from './families/index.js';
import { taskSeed } from './sampling.js';
import { loadSuiteSources, type SuiteSources } from './sources.js';
import { SUITE_LIMITS, type TaskSpec } from './task-def.js';

/** The paper's arXiv number, 2405.11157: any fixed value would do. */
export const DEFAULT_SEED = 240511157;

/** Between input and output when training and scoring: every template ends without a space. */
export const SUITE_SEPARATOR = ' ';

export const SUITE_JSON_PATH = 'data/tasks/suite.json';

/** Held-out tasks only evaluate: a validation split (for calibration) and a test split. */
const HELD_OUT_COUNTS = { train: 0, valid: 100, test: 100 } as const;
const TRAINING_COUNTS = { train: SUITE_LIMITS.train, valid: SUITE_LIMITS.valid, test: SUITE_LIMITS.test } as const;

/** Draws allowed per wanted example before a task is declared too small for its domain. */
const MAX_DRAWS_PER_EXAMPLE = 100;

const SPLITS = ['train', 'valid', 'test'] as const;

/** One file of the suite: its path relative to the repository root and its exact text. */
export interface SuiteFile {
  path: string;
  content: string;
}

const encoder = new TextEncoder();
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function fitsLimits(example: TaskExample): boolean {
  const outputs = [example.output, ...(example.options ?? [])];
  return (
    encoder.encode(example.input).length <= SUITE_LIMITS.maxInputBytes &&
    outputs.every((o) => encoder.encode(o).length <= SUITE_LIMITS.maxOutputBytes)
  );
}

/**
 * `count` examples with distinct inputs, none in `exclude`. A candidate over the byte limits
 * is dropped (a three-choice prompt may run long); a non-ASCII one means a family file is wrong.
 */
function drawExamples(
  task: TaskSpec,
  pools: DomainPools,
  seed: number,
  count: number,
  exclude: ReadonlySet<string>,
): TaskExample[] {
  const rng = new Rng(taskSeed(seed, task.name));
  const seen = new Set<string>();
  const examples: TaskExample[] = [];
  for (let draws = 0; examples.length < count; draws++) {
    if (draws >= count * MAX_DRAWS_PER_EXAMPLE) {
      throw new Error(`task ${task.name}: only ${examples.length} of ${count} distinct examples fit the limits; widen its domain`);
    }
    const example = task.draw({ rng, pools });
    const texts = [example.input, example.output, ...(example.options ?? [])];
    if (!texts.every((t) => PRINTABLE_ASCII.test(t))) {
      throw new Error(`task ${task.name}: non-ASCII text in ${JSON.stringify(example)}`);
    }
    if (!fitsLimits(example) || seen.has(example.input) || exclude.has(example.input)) continue;
    seen.add(example.input);
    examples.push(example);
  }
  return examples;
}

/**
 * The whole suite as files, from a seed and the loaded data packages: pure and
 * deterministic (each task has its own random stream, seeded from the suite seed and its
 * name). Training tasks come first; a held-out task never repeats a training input.
 */
export function generateSuite(seed: number, sources: SuiteSources, tasks: readonly TaskSpec[] = SUITE_TASKS): SuiteFile[] {
  const pools = buildDomainPools(sources);
  const files: SuiteFile[] = [];
  const entries = new Map<string, SuiteTask>();
  const trainingInputs = new Set<string>();
  const ordered = [...tasks.filter((t) => !t.heldOut), ...tasks.filter((t) => t.heldOut)];

  for (const task of ordered) {
    if (entries.has(task.name)) throw new Error(`two tasks are named ${task.name}`);
    const counts = task.heldOut ? HELD_OUT_COUNTS : TRAINING_COUNTS;
    const total = counts.train + counts.valid + counts.test;
    const examples = drawExamples(task, pools, seed, total, task.heldOut ? trainingInputs : new Set());
    if (!task.heldOut) for (const e of examples) trainingInputs.add(e.input);

    const entry: SuiteTask = {
      name: task.name,
      family: task.family,
      heldOut: task.heldOut,
      template: task.template,
      domain: task.domain,
      source: task.source(pools),
      multipleChoice: task.multipleChoice,
      counts: { ...counts },
      ...(task.heldOut ? { relatedFamily: task.family } : {}),
    };
    entries.set(task.name, entry);

    let start = 0;
    for (const split of SPLITS) {
      const part = examples.slice(start, start + counts[split]);
      start += counts[split];
      if (part.length === 0) continue;
      const path = `${suiteTaskDir(entry)}/${split}.jsonl`;
      const content = formatTaskJsonl(part);
      parseTaskJsonl(content, path); // the files must read back with the shared parser
      files.push({ path, content });
    }
  }

  const families = [...new Map(tasks.map((t) => [t.family, t.skill])).entries()].map(([family, skill]) => ({ family, skill }));
  const suite = TaskSuite.parse({
    seed,
    separator: SUITE_SEPARATOR,
    limits: { maxInputBytes: SUITE_LIMITS.maxInputBytes, maxOutputBytes: SUITE_LIMITS.maxOutputBytes },
    families,
    tasks: tasks.map((t) => entries.get(t.name)),
  });
  files.push({ path: SUITE_JSON_PATH, content: JSON.stringify(suite, null, 2) + '\n' });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Writes the files under `root`, each to a temporary name first and then renamed, so a
 * reader never sees half a file; task folders that the suite no longer has are removed.
 */
export async function writeSuiteFiles(root: string, files: readonly SuiteFile[]): Promise<void> {
  for (const file of files) {
    const target = join(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.tmp-${process.pid}`;
    await writeFile(temp, file.content);
    await rename(temp, target);
  }
  const kept = new Set(files.map((f) => dirname(f.path)));
  for (const base of ['data/tasks', 'data/heldout']) {
    const dirents = await readdir(join(root, base), { withFileTypes: true }).catch(() => []);
    for (const dirent of dirents) {
      if (!dirent.isDirectory() || kept.has(`${base}/${dirent.name}`)) continue;
      const dir = join(root, base, dirent.name);
      for (const split of SPLITS) await rm(join(dir, `${split}.jsonl`), { force: true });
      await rmdir(dir).catch(() => undefined); // leave a folder that holds something else
    }
  }
}

function parseSeed(text: string): number {
  const seed = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seed) || seed > 0xffffffff) {
    throw new QuiverInputError(`${JSON.stringify(text)} is not an integer from 0 to 4294967295`, '--seed');
  }
  return seed;
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seed: { type: 'string' },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      `usage: npm run tasks:generate -- [--seed N] [--root DIR]\n` +
        `  writes data/tasks/<task>/{train,valid,test}.jsonl, data/heldout/<task>/{valid,test}.jsonl\n` +
        `  and data/tasks/suite.json under DIR (default: the current folder); seed default ${DEFAULT_SEED}\n`,
    );
    return;
  }
  const seed = values.seed === undefined ? DEFAULT_SEED : parseSeed(values.seed);
  const root = values.root ?? process.cwd();
  const files = generateSuite(seed, loadSuiteSources());
  await writeSuiteFiles(root, files);
  const suite = TaskSuite.parse(JSON.parse(files.find((f) => f.path === SUITE_JSON_PATH)?.content ?? '{}'));
  const heldOut = suite.tasks.filter((t) => t.heldOut).length;
  process.stdout.write(
    `wrote ${suite.tasks.length - heldOut} training and ${heldOut} held-out tasks (seed ${seed}) under ${join(root, 'data')}\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`tasks:generate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
