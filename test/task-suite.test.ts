import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { QuiverInputError } from '../shared/errors.js';
import { parseTaskJsonl, suiteTaskDir, TaskSuite, type SuiteTask, type TaskExample } from '../shared/task-data.js';
import { DEFAULT_SEED, generateSuite, SUITE_JSON_PATH, writeSuiteFiles } from '../build/tasks/generate-suite.js';
import { loadSuiteSources, SOURCE_PACKAGES } from '../build/tasks/sources.js';
import { SUITE_LIMITS } from '../build/tasks/task-def.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const suite = TaskSuite.parse(JSON.parse(readFileSync(join(root, SUITE_JSON_PATH), 'utf8')));
const training = suite.tasks.filter((t) => !t.heldOut);
const heldOut = suite.tasks.filter((t) => t.heldOut);
const SPLITS = ['train', 'valid', 'test'] as const;

const parsed = new Map<string, TaskExample[] | undefined>();

/** A split of a shipped task, parsed once; undefined when the file does not exist. */
function readSplit(task: SuiteTask, split: (typeof SPLITS)[number]): TaskExample[] | undefined {
  const path = `${suiteTaskDir(task)}/${split}.jsonl`;
  if (!parsed.has(path)) {
    const file = join(root, path);
    parsed.set(path, existsSync(file) ? parseTaskJsonl(readFileSync(file, 'utf8'), path) : undefined);
  }
  return parsed.get(path);
}

/** The one hand-written file among the generated ones. */
const README_PATH = 'data/tasks/README.md';

/** Every file under `dir` but the README, as paths relative to `base`. */
function listFiles(dir: string, base: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? listFiles(join(dir, d.name), base) : [relative(base, join(dir, d.name))],
  ).filter((path) => path !== README_PATH);
}

const bytes = (s: string): number => new TextEncoder().encode(s).length;

describe('the shipped task suite', () => {
  it('has at least 24 training tasks in at least 5 families, and at least 6 held-out tasks', () => {
    expect(training.length).toBeGreaterThanOrEqual(24);
    expect(new Set(training.map((t) => t.family)).size).toBeGreaterThanOrEqual(5);
    expect(heldOut.length).toBeGreaterThanOrEqual(6);
    expect(new Set(suite.tasks.map((t) => t.name)).size).toBe(suite.tasks.length);
    expect(suite.families.map((f) => f.family).sort()).toEqual([...new Set(suite.tasks.map((t) => t.family))].sort());
  });

  it('has at least 3 multiple-choice tasks, in more than one family', () => {
    const mc = training.filter((t) => t.multipleChoice);
    expect(mc.length).toBeGreaterThanOrEqual(3);
    expect(new Set(mc.map((t) => t.family)).size).toBeGreaterThanOrEqual(2);
  });

  it('varies template and domain within each family', () => {
    for (const family of new Set(training.map((t) => t.family))) {
      const tasks = training.filter((t) => t.family === family);
      expect(tasks.length, family).toBeGreaterThanOrEqual(2);
      expect(new Set(tasks.map((t) => t.template)).size, family).toBe(tasks.length);
      expect(new Set(tasks.map((t) => t.domain)).size, family).toBeGreaterThanOrEqual(2);
    }
  });

  it('makes each held-out task one change — the template or the domain — from a training task of a skill the library has', () => {
    for (const task of heldOut) {
      expect(task.relatedFamily, task.name).toBeDefined();
      const related = training.filter((t) => t.family === task.relatedFamily);
      expect(related.length, task.name).toBeGreaterThan(0);
      // Never a training task's own pairing of template and domain…
      expect(related.some((t) => t.template === task.template && t.domain === task.domain), task.name).toBe(false);
      // …but one change from the family, not two: its template or its domain is one a training
      // task of the family uses (a new template on a known domain, a known template on a new
      // domain, or a known template on another known domain).
      const newTemplate = !related.some((t) => t.template === task.template);
      const newDomain = !related.some((t) => t.domain === task.domain);
      expect(newTemplate && newDomain, task.name).toBe(false);
    }
    for (const task of training) expect(task.relatedFamily, task.name).toBeUndefined();
  });

  it('has the promised split sizes, matching suite.json', () => {
    for (const task of suite.tasks) {
      const expected = task.heldOut
        ? { train: 0, valid: 100, test: 100 }
        : { train: SUITE_LIMITS.train, valid: SUITE_LIMITS.valid, test: SUITE_LIMITS.test };
      expect(task.counts, task.name).toEqual(expected);
      for (const split of SPLITS) {
        const examples = readSplit(task, split);
        if (expected[split] === 0) expect(examples, `${task.name} ${split}`).toBeUndefined();
        else expect(examples?.length, `${task.name} ${split}`).toBe(expected[split]);
      }
    }
  });

  it('keeps every example within the byte limits, in printable ASCII, with valid options', () => {
    expect(suite.limits).toEqual({ maxInputBytes: 48, maxOutputBytes: 12 });
    const printable = /^[\x20-\x7e]+$/;
    const problems: string[] = [];
    for (const task of suite.tasks) {
      for (const split of SPLITS) {
        for (const e of readSplit(task, split) ?? []) {
          const where = `${task.name} ${split} ${JSON.stringify(e)}`;
          const strings = [e.input, e.output, ...(e.options ?? [])];
          if (bytes(e.input) > 48) problems.push(`${where}: input over 48 bytes`);
          if (bytes(e.output) > 12) problems.push(`${where}: output over 12 bytes`);
          if (!strings.every((t) => printable.test(t))) problems.push(`${where}: not printable ASCII`);
          // The separator joins prompt and answer; a template never ends in it.
          if (e.input.endsWith(suite.separator)) problems.push(`${where}: input ends in the separator`);
          if (task.multipleChoice) {
            const options = e.options ?? [];
            if (options.length < 2 || options.length > 4) problems.push(`${where}: needs 2-4 options`);
            if (!options.includes(e.output)) problems.push(`${where}: output not among the options`);
            if (options.some((o) => bytes(o) > 12)) problems.push(`${where}: option over 12 bytes`);
          } else if (e.options !== undefined) {
            problems.push(`${where}: options on a task that is not multiple choice`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('shares no input between the splits of a task, and no held-out input with any training task', () => {
    const trainingInputs = new Set<string>();
    const problems: string[] = [];
    // suite.json lists training tasks before held-out ones within a family only; read all training first.
    for (const task of [...training, ...heldOut]) {
      const seen = new Set<string>();
      for (const split of SPLITS) {
        for (const e of readSplit(task, split) ?? []) {
          if (seen.has(e.input)) problems.push(`${task.name}: ${e.input} is in two splits`);
          seen.add(e.input);
          if (task.heldOut && trainingInputs.has(e.input)) problems.push(`${task.name}: ${e.input} is a training input`);
          if (!task.heldOut) trainingInputs.add(e.input);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('holds exactly the files suite.json describes, under 3 MB in all', () => {
    const expected = new Set([SUITE_JSON_PATH]);
    for (const task of suite.tasks) {
      for (const split of SPLITS) if (task.counts[split] > 0) expected.add(`${suiteTaskDir(task)}/${split}.jsonl`);
    }
    const shipped = [...listFiles(join(root, 'data/tasks'), root), ...listFiles(join(root, 'data/heldout'), root)];
    expect(new Set(shipped)).toEqual(expected);
    const total = shipped.reduce((sum, path) => sum + statSync(join(root, path)).size, 0);
    expect(total).toBeLessThan(3 * 1024 * 1024);
  });

  it('names pinned package versions that are the ones installed, and the README lists them', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const readme = readFileSync(join(root, README_PATH), 'utf8');
    for (const [name, { version }] of Object.entries(SOURCE_PACKAGES)) {
      expect(pkg.devDependencies[name], name).toBe(version);
      const installed = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
      expect(installed.version, name).toBe(version);
      expect(readme, name).toContain(`${name}@${version}`);
    }
    for (const task of suite.tasks) expect(readme, task.name).toContain(task.name);
  });
});

describe('generateSuite', () => {
  const temps: string[] = [];
  afterAll(() => {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-suite-'));
    temps.push(dir);
    return dir;
  };

  it('reproduces the shipped files byte for byte from the default seed', async () => {
    expect(suite.seed).toBe(DEFAULT_SEED);
    const out = tempDir();
    await writeSuiteFiles(out, generateSuite(DEFAULT_SEED, loadSuiteSources()));
    const generated = [...listFiles(join(out, 'data/tasks'), out), ...listFiles(join(out, 'data/heldout'), out)].sort();
    const shipped = [...listFiles(join(root, 'data/tasks'), root), ...listFiles(join(root, 'data/heldout'), root)].sort();
    expect(generated).toEqual(shipped);
    for (const path of shipped) {
      expect(readFileSync(join(out, path)).equals(readFileSync(join(root, path))), path).toBe(true);
    }
  });

  it('depends on the seed, and only on it', () => {
    const sources = loadSuiteSources();
    const a = generateSuite(7, sources);
    const b = generateSuite(7, sources);
    const c = generateSuite(8, sources);
    expect(a).toEqual(b);
    const train = (files: typeof a) => files.find((f) => f.path === 'data/tasks/reverse-word-arrow/train.jsonl')?.content;
    expect(train(a)).toBeDefined();
    expect(train(a)).not.toBe(train(c));
  });

  it('writes without leaving temporary files and removes task folders the suite no longer has', async () => {
    const out = tempDir();
    const stale = join(out, 'data/tasks/old-task');
    await mkdir(stale, { recursive: true });
    await writeFile(join(stale, 'train.jsonl'), '{"input":"a","output":"b"}\n');
    await writeSuiteFiles(out, generateSuite(DEFAULT_SEED, loadSuiteSources()));
    expect(existsSync(stale)).toBe(false);
    expect(listFiles(join(out, 'data'), out).filter((p) => p.includes('.tmp-'))).toEqual([]);
  });
});

describe('parseTaskJsonl', () => {
  const ok = '{"input":"Reverse: cat =>","output":"tac"}';

  function errorOf(text: string): QuiverInputError {
    try {
      parseTaskJsonl(text, 'data/x/train.jsonl');
    } catch (error) {
      expect(error).toBeInstanceOf(QuiverInputError);
      return error as QuiverInputError;
    }
    throw new Error('expected parseTaskJsonl to throw');
  }

  it('reads examples, skipping blank lines and CRLF endings', () => {
    const text = `${ok}\r\n\n   \n{"input":"Larger: 3 or 5?","output":"5","options":["3","5"]}\n`;
    expect(parseTaskJsonl(text, 'f.jsonl')).toEqual([
      { input: 'Reverse: cat =>', output: 'tac' },
      { input: 'Larger: 3 or 5?', output: '5', options: ['3', '5'] },
    ]);
  });

  it('names the file and the 1-based line of bad JSON', () => {
    const error = errorOf(`${ok}\n\n{"input": "a", "output": }\n`);
    expect(error.where).toBe('data/x/train.jsonl:3');
    expect(error.message).toMatch(/^data\/x\/train\.jsonl:3: bad JSON/);
  });

  it('says which field is missing', () => {
    expect(errorOf(`${ok}\n{"input":"a"}`).message).toBe('data/x/train.jsonl:2: field "output" is missing');
  });

  it('says which field has the wrong type', () => {
    expect(errorOf(`{"input":"a","output":7}`).message).toBe('data/x/train.jsonl:1: field "output" must be a string, got number');
    expect(errorOf(`${ok}\n["a","b"]`).message).toMatch(/^data\/x\/train\.jsonl:2: expected a JSON object .*got an array$/);
    expect(errorOf(`{"input":"a","output":"b","options":["b",2]}`).message).toBe(
      'data/x/train.jsonl:1: options[1]: must be a string, got number',
    );
  });

  it('refuses unknown keys and names them', () => {
    expect(errorOf(`${ok}\n${ok}\n{"input":"a","output":"b","label":1}`).message).toBe(
      'data/x/train.jsonl:3: unknown key "label" (allowed: input, output, options)',
    );
  });

  it('refuses an output that is not one of the options', () => {
    expect(errorOf(`{"input":"a","output":"c","options":["a","b"]}`).message).toBe(
      'data/x/train.jsonl:1: output "c" is not one of the options ["a","b"]',
    );
  });

  it('refuses empty strings, a single option and repeated options', () => {
    expect(errorOf(`{"input":"","output":"b"}`).message).toBe('data/x/train.jsonl:1: field "input" must not be empty');
    expect(errorOf(`{"input":"a","output":"b","options":["b"]}`).message).toBe(
      'data/x/train.jsonl:1: field "options" needs at least 2 choices',
    );
    expect(errorOf(`{"input":"a","output":"b","options":["b","b"]}`).message).toMatch(/options repeat a choice/);
  });

  it('refuses a file with no example', () => {
    const error = errorOf('\n  \n');
    expect(error.where).toBe('data/x/train.jsonl');
    expect(error.message).toMatch(/^data\/x\/train\.jsonl: no examples/);
  });
});
