/**
 * quiver calibrate: the routing accuracy and threshold it fits, worked by hand and against a brute
 * force; the seeded split; and the command on a compiled micro library — the accuracies it reports
 * are what quiver route does with the manifest before and after, only the manifest changes, and
 * bad example lines are refused naming file:line with exit 2.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrationSplit } from '../build/calibrate/calibration-split.js';
import { candidateGrid, fitRouting } from '../build/calibrate/fit-routing.js';
import { bestThreshold, correctCount, routedTo, type Scored } from '../build/calibrate/routing-accuracy.js';
import { runCalibrate, type CalibrateResult } from '../build/commands/calibrate.js';
import { runRoute } from '../build/commands/route.js';
import { DEFAULT_ROUTING } from '../shared/manifest/schema.js';
import { decodeManifest } from '../shared/manifest/manifest-codec.js';
import { withRouting } from '../shared/manifest/manifest-routing.js';
import { Rng } from '../shared/random.js';
import { COMPILED_FILES } from '../shared/router/compiled-folder.js';
import { buildMicroLibrary, MICRO_HELDOUT, MICRO_TASKS } from './helpers/micro-library.js';
import { runCli } from './helpers/run-cli.js';

const item = (labels: string[], first: string, best: number): Scored => ({ labels, outcome: { first, best } });

describe('routing accuracy and the fitted threshold', () => {
  it('a prompt is right when its first adapter — or the base model, under the threshold — is a label', () => {
    expect(routedTo({ first: 'x', best: 0.4 }, 0.4, 'base')).toBe('x'); // best < threshold falls back, as routeRequest
    expect(routedTo({ first: 'x', best: 0.39 }, 0.4, 'base')).toBe('base');
    const items = [item(['x'], 'x', 0.9), item(['base'], 'x', 0.4), item(['y', 'z'], 'z', 0.5)];
    expect(correctCount(items, 0, 'base')).toBe(2);
    expect(correctCount(items, 0.45, 'base')).toBe(3); // the base-labelled one falls back: right
    expect(correctCount(items, 0.55, 'base')).toBe(2); // the list-labelled one too: wrong
  });

  it('bestThreshold, by hand: the prompts under a threshold are a prefix by score; ties go to the smallest', () => {
    // By score: D .3 (base), E .35 (wrong either way), B .4 (base), C .5 (right), A .9 (right).
    const items = [item(['x'], 'x', 0.9), item(['base'], 'x', 0.4), item(['y'], 'y', 0.5), item(['base'], 'y', 0.3), item(['x'], 'y', 0.35)];
    // 0 → A, C right (2); D falls back → 3; D, E → 3; D, E, B → 4; … C too → 3. Best: 4, with t in (0.4, 0.5].
    const fitted = bestThreshold(items, 'base');
    expect(fitted).toEqual({ threshold: 0.43, correct: 4 }); // shortest decimal in the middle half [0.425, 0.475]
    expect(correctCount(items, fitted.threshold, 'base')).toBe(4);
    // Nothing labelled with the base model: falling back never helps, the threshold stays 0.
    expect(bestThreshold([item(['x'], 'y', 0.2), item(['x'], 'x', 0.6)], 'base')).toEqual({ threshold: 0, correct: 1 });
    // Every prompt should fall back: a threshold above every score (and at most 1).
    const all = bestThreshold([item(['base'], 'y', 0.2), item(['base'], 'x', 0.6)], 'base');
    expect(all.correct).toBe(2);
    expect(all.threshold).toBeGreaterThan(0.6);
    expect(all.threshold).toBeLessThanOrEqual(1);
  });

  it('bestThreshold finds the maximum a brute-force scan of thresholds finds, on random examples', () => {
    const rng = new Rng(21);
    for (let trial = 0; trial < 50; trial++) {
      const items = Array.from({ length: 1 + rng.int(30) }, () => {
        const first = ['a', 'b', 'c'][rng.int(3)]!;
        const labels = rng.next() < 0.3 ? ['base'] : [['a', 'b', 'c'][rng.int(3)]!];
        return item(labels, first, Math.round(rng.next() * 50) / 50); // ties among scores
      });
      let brute = 0;
      for (let t = 0; t <= 1.0000001; t += 0.001) brute = Math.max(brute, correctCount(items, t, 'base'));
      const fitted = bestThreshold(items, 'base');
      expect(fitted.correct).toBe(brute);
      expect(correctCount(items, fitted.threshold, 'base')).toBe(fitted.correct);
    }
  });

  it('fitRouting takes the setting that routes most fit examples right; ties keep the current one, then grid order', () => {
    const grid = candidateGrid({ topK: 3, temperature: 1, votes: 'module' }, [4, 1, 2, 50], [10, 0.1, 1], ['site', 'module'], 5);
    expect(grid[0]).toEqual({ topK: 3, temperature: 1, votes: 'module' }); // current first
    expect(grid.slice(1, 4)).toEqual([{ topK: 1, temperature: 1, votes: 'module' }, { topK: 1, temperature: 0.1, votes: 'module' }, { topK: 1, temperature: 10, votes: 'module' }]); // the current vote unit first
    expect(grid[12]).toEqual({ topK: 5, temperature: 10, votes: 'module' }); // top-k clamped to the adapters
    expect(grid.slice(13, 14)).toEqual([{ topK: 1, temperature: 1, votes: 'site' }]); // then the other unit
    expect(grid).toHaveLength(1 + 4 * 3 * 2); // the current setting (top-k 3) is not on the grid
    expect(candidateGrid({ topK: 3, temperature: 1, votes: 'site' }, [3], [1], ['site'], 5)).toEqual([{ topK: 3, temperature: 1, votes: 'site' }]);
    const examples = [
      { labels: ['a'], outcomes: [{ first: 'b', best: 0.5 }, { first: 'a', best: 0.5 }, { first: 'a', best: 0.5 }] },
      { labels: ['b'], outcomes: [{ first: 'b', best: 0.5 }, { first: 'b', best: 0.5 }, { first: 'b', best: 0.5 }] },
    ];
    const cands = [{ topK: 3, temperature: 1, votes: 'site' as const }, { topK: 1, temperature: 1, votes: 'module' as const }, { topK: 2, temperature: 1, votes: 'site' as const }];
    expect(fitRouting(examples, cands, 'base')).toEqual({ routing: { topK: 1, temperature: 1, votes: 'module', threshold: 0 }, candidate: 1, correct: 2 });
    const tied = examples.map((e) => ({ ...e, outcomes: [e.outcomes[1]!, ...e.outcomes.slice(1)] }));
    expect(fitRouting(tied, cands, 'base').candidate).toBe(0);
  });

  it('the split is seeded, stratified by label, and keeps a lone example for fitting', () => {
    const examples = [
      ...Array.from({ length: 10 }, (_, i) => ({ labels: ['a'], i })),
      ...Array.from({ length: 4 }, (_, i) => ({ labels: ['c', 'b'], i: 10 + i })),
      { labels: ['b', 'c'], i: 14 }, // the same label as a list in another order
      { labels: ['lone'], i: 15 },
    ];
    const s = calibrationSplit(examples, 0.3, 7);
    expect(calibrationSplit(examples, 0.3, 7)).toEqual(s);
    expect(calibrationSplit(examples, 0.3, 8)).not.toEqual(s);
    expect(s.test.filter((e) => e.labels[0] === 'a')).toHaveLength(3);
    expect(s.test.filter((e) => e.labels.includes('b'))).toHaveLength(2); // 0.3 × 5, rounded
    expect(s.fit.map((e) => e.i)).toContain(15);
    expect([...s.fit, ...s.test].map((e) => e.i).sort((x, y) => x - y)).toEqual(examples.map((e) => e.i));
    expect(s.fit.map((e) => e.i)).toEqual([...s.fit.map((e) => e.i)].sort((x, y) => x - y)); // file order kept
  });
});

describe('quiver calibrate (micro library)', () => {
  let root = '';
  let lib = '';
  let compiled = '';
  let examples = '';
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const filesOf = async (dir: string) => Object.fromEntries(await Promise.all(COMPILED_FILES.map(async (f) => [f, sha(await readFile(join(dir, f)))] as const)));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'quiver-calibrate-test-'));
    lib = await buildMicroLibrary(root);
    compiled = join(root, 'compiled');
    const c = await runCli(['compile', lib, '--out', compiled, '-q', '--backend', 'wasm']);
    expect(c.code, c.stderr).toBe(0);
    const baseModel = (await decodeManifest(new Uint8Array(await readFile(join(compiled, 'manifest.safetensors'))))).metadata.baseModel;
    const family = (f: string) => Object.entries(MICRO_TASKS).filter(([, t]) => t.family === f).map(([n]) => n);
    const lines = [
      ...Object.entries(MICRO_TASKS).flatMap(([name, t]) => t.rows.map((r) => ({ input: r.input, adapter: name }))),
      ...Object.values(MICRO_HELDOUT).flatMap((t) => t.rows.map((r) => ({ input: r.input, adapter: family(t.family) }))),
      ...['The quick brown fox.', 'A river runs by.', 'Hello there', 'What time is it?', 'zzzz'].map((input) => ({ input, adapter: baseModel })),
    ];
    examples = join(root, 'labelled.jsonl');
    await writeFile(examples, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  }, 120_000);
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** Examples quiver route sends right with the folder's manifest as it is now. */
  async function routedRight(): Promise<number> {
    const text = await readFile(examples, 'utf8');
    let right = 0;
    for (const line of text.trim().split('\n')) {
      const { input, adapter } = JSON.parse(line) as { input: string; adapter: string | string[] };
      const r = await runRoute(compiled, input, {});
      const to = r.belowThreshold ? (await decodeManifest(new Uint8Array(await readFile(join(compiled, 'manifest.safetensors'))))).metadata.baseModel : r.selected[0]!.id;
      if ((typeof adapter === 'string' ? [adapter] : adapter).includes(to)) right++;
    }
    return right;
  }

  it('fits, reports what quiver route does before and after, and rewrites only the manifest (new checksum, same embedder)', async () => {
    const before = await filesOf(compiled);
    const rightBefore = await routedRight();
    const dry = await runCalibrate(compiled, { examples, topKGrid: [1, 2, 3], temperatureGrid: [0.1, 1, 10], votesGrid: ['site', 'module'], testFraction: 0.3, seed: 0, dryRun: true, quiet: true });
    expect(dry.written).toBeNull();
    expect(await filesOf(compiled)).toEqual(before);

    const res = await runCli(['calibrate', compiled, '--examples', examples, '--top-k-grid', '1,2,3', '--temperature-grid', '0.1,1,10', '--json', '-q']);
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout) as CalibrateResult;
    const n = 3 * 20 + 2 * 8 + 5;
    expect(r.before.fit.examples + r.before.test.examples).toBe(n);
    expect(r.candidates).toBe(1 + 3 * 3 * 2); // the current setting (compile's default top-k, off the grid), then the grid × both vote units
    expect(r.before.routing).toEqual(DEFAULT_ROUTING);
    expect(r.before.fit.correct + r.before.test.correct).toBe(rightBefore);
    expect(r.after.fit.correct).toBeGreaterThanOrEqual(r.before.fit.correct);
    expect(dry.after).toEqual(r.after);
    expect(r.testByLabel.reduce((s, l) => s + l.examples, 0)).toBe(r.after.test.examples);
    expect(r.testByLabel.reduce((s, l) => s + l.after, 0)).toBe(r.after.test.correct);

    const md = (await decodeManifest(new Uint8Array(await readFile(join(compiled, 'manifest.safetensors'))))).metadata;
    expect(md.routing).toEqual(r.after.routing);
    const after = await filesOf(compiled);
    // On this library the fit beats the defaults (top-k 1 and a threshold that sends the base-labelled prompts back), so the manifest changed.
    expect(r.after.fit.correct).toBeGreaterThan(r.before.fit.correct);
    expect(after['manifest.safetensors']).not.toBe(before['manifest.safetensors']);
    expect(md.checksum).toBe(r.written);
    for (const f of COMPILED_FILES.filter((x) => x !== 'manifest.safetensors')) expect(after[f], f).toBe(before[f]);
    // quiver route opens the folder (the embedder's sha256 still matches) and routes as calibrate said.
    expect(await routedRight()).toBe(r.after.fit.correct + r.after.test.correct);

    // Again: the fitted routing is already the manifest's; nothing changes.
    const again = await runCalibrate(compiled, { examples, topKGrid: [1, 2, 3], temperatureGrid: [0.1, 1, 10], votesGrid: ['site', 'module'], testFraction: 0.3, seed: 0, quiet: true });
    expect(again.after.routing).toEqual(r.after.routing);
    expect(again.written).toBeNull();
    expect(await filesOf(compiled)).toEqual(after);
  }, 120_000);

  it('withRouting with the same routing gives the file back byte for byte', async () => {
    const bytes = new Uint8Array(await readFile(join(compiled, 'manifest.safetensors')));
    const m = await decodeManifest(bytes);
    expect(Buffer.from(await withRouting(m, m.metadata.routing)).equals(Buffer.from(bytes))).toBe(true);
    const topK = m.metadata.routing.topK === 1 ? 2 : 1;
    const other = await decodeManifest(await withRouting(m, { ...m.metadata.routing, topK }));
    expect(other.metadata.routing.topK).toBe(topK);
    expect(other.metadata.checksum).not.toBe(m.metadata.checksum);
    expect(other.metadata.embedder).toEqual(m.metadata.embedder);
  });

  it('refuses bad example lines naming file:line (exit 2), and leaves the manifest alone', async () => {
    const before = await filesOf(compiled);
    const bad = join(root, 'bad.jsonl');
    const cases: Array<[string, RegExp]> = [
      ['{"input": "First of apple:", "adapter": "first-letter"}\n{"input": "x", "adapter": "no-such"}\n', /bad\.jsonl:2: unknown adapter "no-such": the manifest routes among first-letter, first-letter-call, pick-longer, or ".*" \(the base model\)/],
      ['\n{"input": "x"}\n', /bad\.jsonl:2: adapter: /],
      ['{"input": "x", "adapter": "first-letter", "extra": 1}\n', /bad\.jsonl:1: .*extra/],
      ['{"input": "x", "adapter": []}\n', /bad\.jsonl:1: adapter: a list of adapters must not be empty/],
      ['{"input": "x", "adapter": "first-letter"}\nnot json\n', /bad\.jsonl:2: bad JSON/],
      ['\n\n', /bad\.jsonl: no examples/],
    ];
    for (const [text, message] of cases) {
      await writeFile(bad, text);
      const r = await runCli(['calibrate', compiled, '--examples', bad, '-q']);
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(message);
    }
    await writeFile(bad, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a]));
    expect((await runCli(['calibrate', compiled, '--examples', bad, '-q'])).stderr).toMatch(/bad\.jsonl:1: not valid UTF-8/);
    const missing = await runCli(['calibrate', join(root, 'nowhere'), '--examples', examples, '-q']);
    expect(missing.code).toBe(2);
    const usage = await runCli(['calibrate', compiled, '--examples', examples, '--test-fraction', '1']);
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringMatching(/--test-fraction: "1" is not a number strictly between 0 and 1/)]);
    const grid = await runCli(['calibrate', compiled, '--examples', examples, '--top-k-grid', '1,x']);
    expect([grid.code, grid.stderr]).toEqual([2, expect.stringMatching(/--top-k-grid: "x" in "1,x" is not a positive integer/)]);
    expect(await filesOf(compiled)).toEqual(before);
  }, 60_000);
});
