/**
 * quiver eval on a micro library built in the test: every system runs, every table row is there,
 * the files are written and well-formed, and the oracle and base reproduce the losses training
 * measured on the same test splits.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvalReport } from '../build/eval/eval-report.js';
import { SYSTEM_IDS } from '../build/eval/eval-systems.js';
import { LibraryIndex } from '../build/io/library-index.js';
import { buildMicroLibrary, MICRO_HELDOUT, MICRO_TASKS } from './helpers/micro-library.js';
import { runCli } from './helpers/run-cli.js';

/** Every element closed in order (void elements self-closed): enough to catch broken markup. */
function checkWellFormed(html: string): void {
  const body = html.replace(/^<!DOCTYPE html>\s*/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>\/]+(?:="[^"]*")?)*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) {
      const open = stack.pop();
      expect(open, `</${name}> closes <${open}>`).toBe(name);
    } else stack.push(name!);
  }
  expect(stack).toEqual([]);
  // No stray '<' outside tags: every '<' starts a tag or a comment.
  expect(body.replace(/<\/?[a-zA-Z][^>]*>/g, '')).not.toMatch(/</);
}

describe('quiver eval (micro library)', () => {
  let root = '';
  let lib = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'quiver-eval-test-'));
    lib = await buildMicroLibrary(root);
  }, 120_000);
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('runs every system on every task, prints the table, writes eval.json and report.html', async () => {
    const out = join(root, 'eval');
    const res = await runCli(['eval', lib, '--out', out, '-j', '1', '--backend', 'wasm']);
    expect(res.stderr).not.toMatch(/unexpected error/);
    expect(res.code).toBe(0);
    const inDist = Object.keys(MICRO_TASKS);
    const heldOut = Object.keys(MICRO_HELDOUT);
    for (const t of [...inDist, ...heldOut]) expect(res.stdout).toMatch(new RegExp(`^${t} `, 'm'));
    for (const s of SYSTEM_IDS) expect(res.stdout).toContain(s);
    expect(res.stdout).toMatch(/^mean accuracy %/m);
    // Every system but the family oracle in distribution, every one but the oracle held out.
    const units = (inDist.length + heldOut.length) * (SYSTEM_IDS.length - 1);
    expect(res.stderr).toMatch(new RegExp(`\\[eval ${units}/${units}\\]`));

    const report = EvalReport.parse(JSON.parse(await readFile(join(out, 'eval.json'), 'utf8')));
    expect(report.tasks.map((t) => [t.name, t.split])).toEqual([...inDist.map((t) => [t, 'in-distribution']), ...heldOut.map((t) => [t, 'held-out'])]);
    expect(report.results).toHaveLength(units);
    const onlyOn = (s: string) => (s === 'oracle' ? 'in-distribution' : s === 'family-oracle' ? 'held-out' : null);
    for (const t of report.tasks) {
      const systems = report.results.filter((r) => r.task === t.name).map((r) => r.system);
      expect(systems).toEqual(SYSTEM_IDS.filter((s) => (onlyOn(s) ?? t.split) === t.split));
    }
    for (const r of report.results) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(r.correct).toBe(Math.round(r.accuracy * r.examples));
      // One hit per example; its '1's are the correct ones, and a sample's ✓ is its example's hit.
      expect(r.hits).toHaveLength(r.examples);
      expect([...r.hits].filter((c) => c === '1').length).toBe(r.correct);
      r.samples.forEach((x, i) => expect(r.hits[i]).toBe(x.prediction === x.output ? '1' : '0'));
      expect(Number.isFinite(r.loss)).toBe(true);
    }
    // Every comparison runs here (all systems): the pairs in order, over the split's tasks, each
    // difference the summary's difference of mean accuracies, inside its interval.
    expect(report.version).toBe(3);
    expect(report.comparisons.map((c) => [c.split, c.system, c.against, c.tasks])).toEqual([
      ['in-distribution', 'private-req-top1', 'oracle', inDist.length],
      ['in-distribution', 'private-arrow', 'oracle', inDist.length],
      ...['private-req-top1', 'private-arrow', 'mbc-arrow'].flatMap((s) => ['private-mu', 'base'].map((b) => ['held-out', s, b, heldOut.length])),
    ]);
    for (const c of report.comparisons) {
      const mean = (s: string) => report.summary.find((x) => x.split === c.split && x.system === s)!.accuracy;
      expect(c.difference).toBeCloseTo(mean(c.system) - mean(c.against), 12);
      expect(c.lo).toBeLessThanOrEqual(c.difference + 1e-12);
      expect(c.hi).toBeGreaterThanOrEqual(c.difference - 1e-12);
    }
    expect(res.stdout).toMatch(/^held-out {2}private-req-top1 − private-mu: (\+|−)?\d+\.\d points \[.*\] \(95% paired bootstrap, \d+ tasks?\): (excludes|includes) zero/m);
    expect(report.summary.filter((s) => s.split === 'in-distribution').map((s) => s.system)).toEqual(SYSTEM_IDS.filter((s) => s !== 'family-oracle'));
    expect(report.summary.filter((s) => s.split === 'held-out').map((s) => s.system)).toEqual(SYSTEM_IDS.filter((s) => s !== 'oracle'));

    // The oracle's and the base model's losses are what training measured on the same test split.
    const index = LibraryIndex.parse(JSON.parse(await readFile(join(lib, 'library.json'), 'utf8')));
    for (const t of index.tasks) {
      const oracle = report.results.find((r) => r.task === t.name && r.system === 'oracle')!;
      const base = report.results.find((r) => r.task === t.name && r.system === 'base')!;
      expect(oracle.loss).toBeCloseTo(t.metrics.testLoss, 4);
      expect(base.loss).toBeCloseTo(t.metrics.baseTestLoss, 4);
    }

    const md = await readFile(join(out, 'eval.md'), 'utf8');
    for (const s of SYSTEM_IDS) expect(md).toContain(`| \`${s}\` |`);
    for (const t of heldOut) expect(md).toContain(`| ${t} |`);
    expect(md).toContain('- held-out  `private-req-top1` − `base`: ');

    const html = await readFile(join(out, 'report.html'), 'utf8');
    checkWellFormed(html);
    for (const s of SYSTEM_IDS) expect(html).toContain(`<code>${s}</code>`);
    for (const t of [...inDist, ...heldOut]) expect(html).toContain(t);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // static: no script, no external asset
    expect(html).toContain('Family oracle’s picks');
    expect(html).toContain('Paired comparisons');
    expect((html.match(/<svg /g) ?? []).length).toBe(5); // summary chart, two per-task charts, the routing confusion, the MBC heatmap
    expect(html).toContain('Request-level routing: share of each task');
  }, 120_000);

  it('gives the same report from worker processes (compiled CLI, -j 2) as in-process', async () => {
    const args = ['eval', lib, '-j', '2', '--limit', '2', '--backend', 'wasm', '-q'];
    const inProcess = await runCli([...args.slice(0, 2), '--out', join(root, 'eval-a'), ...args.slice(2)]);
    expect(inProcess.code, inProcess.stderr).toBe(0);
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, ['bin/quiver.js', ...args.slice(0, 2), '--out', join(root, 'eval-b'), ...args.slice(2)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const a = await readFile(join(root, 'eval-a', 'eval.json'), 'utf8');
    const b = await readFile(join(root, 'eval-b', 'eval.json'), 'utf8');
    expect(b).toBe(a);
  }, 90_000);

  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  it.skipIf(!chromium)('the report renders in headless Chromium', async () => {
    const html = join(root, 'eval', 'report.html');
    const png = join(root, 'report.png');
    const profile = await mkdtemp(join(tmpdir(), 'quiver-chromium-'));
    try {
      await new Promise<void>((resolve, reject) =>
        execFile(
          chromium!,
          ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, `--screenshot=${png}`, '--window-size=1400,2000', `file://${html}`],
          { timeout: 60_000 },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      const bytes = await readFile(png);
      expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(bytes.length).toBeGreaterThan(20_000); // a blank 1400×2000 page compresses to a few kB
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  }, 90_000);

  it('--heldout takes its tasks from the folder (<task>.jsonl or <task>/test.jsonl); suite.json only adds families', async () => {
    const custom = join(root, 'custom-heldout');
    const rows = (prefix: string) => ['apple', 'river', 'stone'].map((w) => JSON.stringify({ input: `${prefix} ${w}:`, output: w[0] })).join('\n') + '\n';
    await mkdir(join(custom, 'longer-word-qa'), { recursive: true });
    await mkdir(join(custom, 'initial-of'), { recursive: true });
    await writeFile(join(custom, 'longer-word-qa', 'test.jsonl'), rows('Which is longer,')); // listed in the suite
    await writeFile(join(custom, 'initial-of', 'test.jsonl'), rows('Initial of'));
    await writeFile(join(custom, 'first-char.jsonl'), rows('First char of'));
    const heldOut = async (out: string) => {
      const res = await runCli(['eval', lib, '--out', join(root, out), '--heldout', custom, '-j', '1', '--backend', 'wasm', '--limit', '2', '--systems', 'base', '-q']);
      expect(res.code, res.stderr).toBe(0);
      const report = EvalReport.parse(JSON.parse(await readFile(join(root, out, 'eval.json'), 'utf8')));
      return report.tasks.filter((t) => t.split === 'held-out').map((t) => [t.name, t.family, t.targetFamily, t.examples]);
    };
    // The suite's held-out tasks absent from the folder are not scored; the ones it lists come first, with its families.
    expect(await heldOut('eval-custom')).toEqual([
      ['longer-word-qa', 'longer', 'longer', 2],
      ['first-char', 'first-char', 'first-char', 2],
      ['initial-of', 'initial-of', 'initial-of', 2],
    ]);
    const suite = join(lib, '..', 'data', 'tasks', 'suite.json');
    await rename(suite, `${suite}.away`);
    try {
      expect(await heldOut('eval-no-suite')).toEqual([
        ['first-char', 'first-char', 'first-char', 2],
        ['initial-of', 'initial-of', 'initial-of', 2],
        ['longer-word-qa', 'longer-word-qa', 'longer-word-qa', 2],
      ]);
    } finally {
      await rename(`${suite}.away`, suite);
    }
    const missing = await runCli(['eval', lib, '--heldout', join(root, 'nowhere'), '--backend', 'wasm', '-q']);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/nowhere: no such folder of held-out tasks/)]);
  }, 60_000);

  it('family-oracle: the best private adapter of the family, chosen on the valid split (on test without one), then scored on test', async () => {
    // first-letter-qa gets a valid split whose prompts differ from its test prompts; longer-word-qa keeps none.
    const heldout = join(root, 'heldout-valid');
    for (const [name, t] of Object.entries(MICRO_HELDOUT)) {
      await mkdir(join(heldout, name), { recursive: true });
      await writeFile(join(heldout, name, 'test.jsonl'), t.rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    }
    const valid = ['lemon', 'piano', 'robot', 'sugar', 'ocean', 'pearl'].map((w) => JSON.stringify({ input: `Q: first of ${w}? A:`, output: w[0] }));
    await writeFile(join(heldout, 'first-letter-qa', 'valid.jsonl'), valid.join('\n') + '\n');
    const out = join(root, 'eval-family-oracle');
    const res = await runCli(['eval', lib, '--out', out, '--heldout', heldout, '-j', '1', '--backend', 'wasm', '--systems', 'oracle,family-oracle', '-q']);
    expect(res.code, res.stderr).toBe(0);
    const report = EvalReport.parse(JSON.parse(await readFile(join(out, 'eval.json'), 'utf8')));
    // Held-out only; the oracle in distribution only.
    expect(report.results.map((r) => [r.task, r.system])).toEqual([
      ...Object.keys(MICRO_TASKS).map((t) => [t, 'oracle']),
      ['first-letter-qa', 'family-oracle'],
      ['longer-word-qa', 'family-oracle'],
    ]);
    const index = LibraryIndex.parse(JSON.parse(await readFile(join(lib, 'library.json'), 'utf8')));
    const byTask = new Map(report.results.map((r) => [r.task, r]));
    const qa = byTask.get('first-letter-qa')!;
    expect(qa.choice!.split).toBe('valid');
    // Every adapter of the family is a candidate, in library order, and the pick is the best there.
    expect(qa.choice!.candidates.map((c) => c.adapter)).toEqual(index.tasks.filter((t) => t.family === 'first').map((t) => t.name));
    const best = Math.max(...qa.choice!.candidates.map((c) => c.accuracy));
    expect(qa.choice!.candidates.find((c) => c.adapter === qa.choice!.adapter)!.accuracy).toBe(best);
    // Without a valid split the pick is made on test: then its test score is the candidate's own score there.
    const longer = byTask.get('longer-word-qa')!;
    expect(longer.choice!.split).toBe('test');
    expect(longer.choice!.candidates.map((c) => c.adapter)).toEqual(['pick-longer']);
    expect([longer.accuracy, longer.loss]).toEqual([longer.choice!.candidates[0]!.accuracy, longer.choice!.candidates[0]!.loss]);
    const md = await readFile(join(out, 'eval.md'), 'utf8');
    expect(md).toContain('| `family-oracle` |');
    expect(md).toMatch(/`family-oracle` picks: first-letter-qa → first-letter(-call)? \(\d+\.\d% on valid\); longer-word-qa → pick-longer \(\d+\.\d% on test\)/);
  }, 90_000);

  it('--limit, --systems and --tasks narrow the run; bad options are usage errors', async () => {
    const out = join(root, 'eval-small');
    const res = await runCli(['eval', lib, '--out', out, '-j', '1', '--backend', 'wasm', '--limit', '2', '--systems', 'oracle,base', '--tasks', 'first-letter,longer-word-qa', '-q']);
    expect(res.code, res.stderr).toBe(0);
    const report = EvalReport.parse(JSON.parse(await readFile(join(out, 'eval.json'), 'utf8')));
    expect(report.results.map((r) => [r.task, r.system, r.examples])).toEqual([
      ['first-letter', 'base', 2],
      ['first-letter', 'oracle', 2],
      ['longer-word-qa', 'base', 2],
    ]);
    expect(report.comparisons).toEqual([]); // no pair of COMPARISONS among oracle and base
    expect((await runCli(['eval', lib, '--systems', 'nope'])).stderr).toMatch(/unknown system nope: choose from base, /);
    const missing = await runCli(['eval', lib, '--tasks', 'nope', '--backend', 'wasm']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/unknown task nope/);
  }, 60_000);
});
