/**
 * A micro library for eval tests: a tiny byte-level base, private adapters for three tasks (two
 * generative, one multiple-choice) in two families, MBC clusters, and two held-out tasks listed in
 * a suite.json beside the tasks (as data/tasks/suite.json is). Built with the real commands in a
 * few seconds.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TaskSuite } from '../../shared/task-data.js';
import { runCli } from './run-cli.js';

const WORDS = ['apple', 'river', 'stone', 'cloud', 'tiger', 'maple', 'lemon', 'piano', 'robot', 'sugar', 'ocean', 'pearl', 'queen', 'zebra', 'mango', 'house', 'light', 'green', 'brave', 'chair'];
const SHORT = ['sky', 'ox', 'bee', 'cat', 'dog', 'elk', 'fig', 'gum', 'hat', 'ink', 'jar', 'key', 'log', 'map', 'net', 'owl', 'pen', 'rug', 'sun', 'toy'];

type Row = { input: string; output: string; options?: string[] };

function longer(i: number, template: (a: string, b: string) => string): Row {
  const [a, b] = i % 2 === 0 ? [WORDS[i]!, SHORT[i]!] : [SHORT[i]!, WORDS[i]!];
  return { input: template(a, b), output: WORDS[i]!, options: [a, b] };
}

export const MICRO_TASKS: Record<string, { family: string; rows: Row[] }> = {
  'first-letter': { family: 'first', rows: WORDS.map((w) => ({ input: `First of ${w}:`, output: w[0]! })) },
  'first-letter-call': { family: 'first', rows: WORDS.map((w) => ({ input: `first(${w}) =`, output: w[0]! })) },
  'pick-longer': { family: 'longer', rows: WORDS.map((_, i) => longer(i, (a, b) => `Longer: ${a} or ${b}?`)) },
};

export const MICRO_HELDOUT: Record<string, { family: string; rows: Row[] }> = {
  'first-letter-qa': { family: 'first', rows: WORDS.slice(0, 8).map((w) => ({ input: `Q: first of ${w}? A:`, output: w[0]! })) },
  'longer-word-qa': { family: 'longer', rows: WORDS.slice(0, 8).map((_, i) => longer(i, (a, b) => `Q: ${a} or ${b}, longer? A:`)) },
};

function suite(): TaskSuite {
  const entry = (name: string, family: string, heldOut: boolean, rows: Row[]) => ({
    name,
    family,
    heldOut,
    template: rows[0]!.input,
    domain: 'words',
    source: 'test',
    multipleChoice: rows.some((r) => r.options !== undefined),
    counts: heldOut ? { train: 0, valid: 0, test: rows.length } : { train: 14, valid: 3, test: 3 },
    ...(heldOut ? { relatedFamily: family } : {}),
  });
  return {
    seed: 0,
    separator: ' ',
    limits: { maxInputBytes: 48, maxOutputBytes: 12 },
    families: [
      { family: 'first', skill: 'first letter' },
      { family: 'longer', skill: 'longer word' },
    ],
    tasks: [
      ...Object.entries(MICRO_TASKS).map(([n, t]) => entry(n, t.family, false, t.rows)),
      ...Object.entries(MICRO_HELDOUT).map(([n, t]) => entry(n, t.family, true, t.rows)),
    ],
  };
}

const lines = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** The micro base's pretraining and its adapters' training, as quiver.config.json sections (and, below, as flags). */
export const MICRO_PRETRAIN = { hidden: 32, layers: 2, heads: 2, intermediate: 64, context: 48, steps: 60, batchSize: 8, lr: 0.003 };
export const MICRO_TRAIN = { epochs: 30, batchSize: 7, lr: 0.02, evalEvery: 4, patience: 5, k: 2 };

const flags = (settings: Record<string, number>) => Object.entries(settings).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v)]);

/** Writes the micro data under `root`: root/data/{tasks,heldout} (with tasks/suite.json) and root/corpus.txt. */
export async function writeMicroData(root: string): Promise<{ tasksDir: string; corpus: string }> {
  const tasksDir = join(root, 'data', 'tasks');
  for (const [name, t] of Object.entries(MICRO_TASKS)) {
    await mkdir(join(tasksDir, name), { recursive: true });
    await writeFile(join(tasksDir, name, 'train.jsonl'), lines(t.rows.slice(0, 14)));
    await writeFile(join(tasksDir, name, 'valid.jsonl'), lines(t.rows.slice(14, 17)));
    await writeFile(join(tasksDir, name, 'test.jsonl'), lines(t.rows.slice(17)));
  }
  for (const [name, t] of Object.entries(MICRO_HELDOUT)) {
    await mkdir(join(root, 'data', 'heldout', name), { recursive: true });
    await writeFile(join(root, 'data', 'heldout', name, 'test.jsonl'), lines(t.rows));
  }
  await writeFile(join(tasksDir, 'suite.json'), JSON.stringify(suite(), null, 2));
  const corpus = join(root, 'corpus.txt');
  await writeFile(corpus, 'The quick brown fox jumps over the lazy dog.\nA river runs by the stone house.\n');
  return { tasksDir, corpus };
}

/** Builds the library under `root`: root/data/{tasks,heldout}, root/base, root/lib. Returns root/lib. */
export async function buildMicroLibrary(root: string): Promise<string> {
  const { tasksDir, corpus } = await writeMicroData(root);
  const pre = await runCli(['pretrain', '--out', join(root, 'base'), '--tasks', tasksDir, '--corpus', corpus, ...flags(MICRO_PRETRAIN), '-q', '--backend', 'wasm']);
  expect(pre.code, pre.stderr).toBe(0);
  const lib = join(root, 'lib');
  const res = await runCli(['train', '--base', join(root, 'base'), '--tasks', tasksDir, '--out', lib, ...flags(MICRO_TRAIN), '-j', '1', '-q', '--backend', 'wasm']);
  expect(res.code, res.stderr).toBe(0);
  return lib;
}
