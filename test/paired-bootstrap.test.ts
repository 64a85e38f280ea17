/**
 * The paired bootstrap (build/eval/paired-bootstrap.ts) against independent references: the exact
 * macro difference, the normal approximation of its sampling spread, and the degenerate cases; and
 * eval.json's comparisons built from it (which pairs, over which tasks, reproducibly).
 */
import { describe, expect, it } from 'vitest';
import { buildEvalReport, BOOTSTRAP, EvalReport } from '../build/eval/eval-report.js';
import type { SystemTaskResult, TaskRouting } from '../build/eval/eval-job.js';
import type { SystemId } from '../build/eval/eval-systems.js';
import { excludesZero, formatComparison, formatEvalMarkdown, formatEvalTable } from '../build/eval/eval-table.js';
import type { EvalTask } from '../build/eval/eval-tasks.js';
import type { LibraryIndex } from '../build/io/library-index.js';
import { pairedBootstrap } from '../build/eval/paired-bootstrap.js';
import { Rng } from '../shared/random.js';

const accuracy = (hits: string) => [...hits].filter((c) => c === '1').length / hits.length;
const macro = (xs: readonly string[]) => xs.reduce((s, h) => s + accuracy(h), 0) / xs.length;

/** `n` hits drawn with rate `p` from `rng` (deterministic for a seed). */
const draw = (rng: Rng, n: number, p: number) => Array.from({ length: n }, () => (rng.next() < p ? '1' : '0')).join('');

/**
 * 8 tasks × 100 examples: b is right with rate pb[t]; a agrees with b on most examples and flips
 * some either way, so the pair is correlated as two systems on the same examples are.
 */
function syntheticPair(seed: number): { a: string[]; b: string[] } {
  const rng = new Rng(seed);
  const pb = [0.2, 0.35, 0.5, 0.65, 0.8, 0.4, 0.55, 0.3];
  const b = pb.map((p) => draw(rng, 100, p));
  const a = b.map((h) => [...h].map((c) => (c === '0' ? (rng.next() < 0.25 ? '1' : '0') : rng.next() < 0.1 ? '0' : '1')).join(''));
  return { a, b };
}

describe('pairedBootstrap', () => {
  it('reports the exact macro difference (tasks weigh the same whatever their size), inside its interval', () => {
    const a = ['1101', '1111111000', '0'];
    const b = ['0101', '1010101010', '1'];
    const r = pairedBootstrap(a, b);
    expect(r.difference).toBeCloseTo(macro(a) - macro(b), 12);
    // Micro averaging (pooling the 15 examples) would give a different number.
    expect(r.difference).not.toBeCloseTo((9 - 8) / 15, 3);
    expect(r.lo).toBeLessThanOrEqual(r.difference);
    expect(r.hi).toBeGreaterThanOrEqual(r.difference);
    const { a: sa, b: sb } = syntheticPair(7);
    expect(pairedBootstrap(sa, sb).difference).toBeCloseTo(macro(sa) - macro(sb), 12);
  });

  it('its 95% half-width agrees with the normal approximation 1.96·sqrt(Σ var(d_t)/n_t)/T within 10%', () => {
    for (const seed of [1, 2, 3]) {
      const { a, b } = syntheticPair(seed);
      const T = a.length;
      let variance = 0;
      for (let t = 0; t < T; t++) {
        const d = [...a[t]!].map((c, i) => Number(c) - Number(b[t]![i]));
        const m = d.reduce((s, x) => s + x, 0) / d.length;
        variance += d.reduce((s, x) => s + (x - m) ** 2, 0) / d.length / d.length; // var(d_t)/n_t, the bootstrap's (population) variance
      }
      const normal = (1.96 * Math.sqrt(variance)) / T;
      const r = pairedBootstrap(a, b);
      expect(Math.abs((r.hi - r.lo) / 2 / normal - 1)).toBeLessThan(0.1);
      // Nearly symmetric about the difference, as the normal approximation is.
      expect(Math.abs((r.hi - r.difference) - (r.difference - r.lo))).toBeLessThan(0.25 * normal);
    }
  });

  it('is reproducible: the same seed gives the same interval, another seed nearly the same', () => {
    const { a, b } = syntheticPair(4);
    expect(pairedBootstrap(a, b, { seed: 0 })).toEqual(pairedBootstrap(a, b));
    const other = pairedBootstrap(a, b, { seed: 1 });
    expect(other).not.toEqual(pairedBootstrap(a, b));
    expect(Math.abs(other.lo - pairedBootstrap(a, b).lo)).toBeLessThan(0.005);
  });

  it('identical systems give exactly [0, 0]', () => {
    const { b } = syntheticPair(5);
    expect(pairedBootstrap(b, b)).toEqual({ difference: 0, lo: 0, hi: 0 });
  });

  it('throws a RangeError on mismatched tasks or examples, empty tasks and bad characters', () => {
    expect(() => pairedBootstrap(['10'], ['10', '01'])).toThrow(RangeError);
    expect(() => pairedBootstrap(['10', '110'], ['10', '11'])).toThrow(/task 1: .*3 and 2 examples/);
    expect(() => pairedBootstrap([], [])).toThrow(RangeError);
    expect(() => pairedBootstrap([''], [''])).toThrow(/no examples/);
    expect(() => pairedBootstrap(['1x'], ['10'])).toThrow(/'0' and '1'/);
    expect(() => pairedBootstrap(['1'], ['0'], { resamples: 0 })).toThrow(RangeError);
  });

  it('10,000 resamples of 8 tasks × 100 examples take well under a second', () => {
    const { a, b } = syntheticPair(6);
    const start = performance.now();
    pairedBootstrap(a, b);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("eval.json's comparisons", () => {
  const task = (name: string, split: EvalTask['split'], n: number): EvalTask => ({
    name,
    split,
    family: name,
    targetFamily: name,
    ownAdapter: split === 'in-distribution' ? 0 : null,
    familyAdapters: [0],
    multipleChoice: false,
    examples: Array.from({ length: n }, (_, i) => ({ input: `${i}`, output: `${i}` })),
    selection: { split: 'test', examples: [] },
  });
  const tasks = [task('in-a', 'in-distribution', 40), task('in-b', 'in-distribution', 40), task('out-a', 'held-out', 50), task('out-b', 'held-out', 50), task('out-c', 'held-out', 50)];
  const rng = new Rng(3);
  const result = (system: SystemId, t: EvalTask, p: number): SystemTaskResult => {
    const hits = draw(rng, t.examples.length, p);
    const correct = [...hits].filter((c) => c === '1').length;
    return { system, task: t.name, accuracy: correct / hits.length, correct, examples: hits.length, hits, loss: 1, answerTokens: hits.length, samples: [], seconds: 0 };
  };
  const rate: Partial<Record<SystemId, number>> = { base: 0.2, 'private-mu': 0.3, 'private-arrow': 0.35, 'private-req-top1': 0.7, oracle: 0.75 };
  const systems = Object.keys(rate) as SystemId[];
  const results = tasks.flatMap((t) => systems.filter((s) => s !== 'oracle' || t.split === 'in-distribution').map((s) => result(s, t, rate[s]!)));
  const index = { baseModel: 'base', tasks: [{ name: 'in-a' }, { name: 'in-b' }] } as LibraryIndex;
  const build = (only: readonly SystemId[], routing?: TaskRouting[]) =>
    buildEvalReport({
      libraryDir: '/somewhere/library',
      index,
      backend: 'cpu',
      tasks,
      systems: only,
      settings: { topK: 4, temperature: 1, votes: 'site', maxNewTokens: 16, samples: 0 },
      limit: null,
      results: results.filter((r) => only.includes(r.system)),
      routing: routing ?? tasks.map((t) => ({ task: t.name, examples: t.examples.length, ownFirst: t.ownAdapter === null ? null : 1, familyFirst: 1, perLayer: [], top1: { [t.name]: 1 } })),
    });

  it('names the adapter routed first most often per split, its share of the prompts and its multiple of the fair share', () => {
    const top1: Record<string, Record<string, number>> = {
      'in-a': { 'in-a': 30, 'in-b': 10 },
      'in-b': { 'in-b': 20, 'in-a': 20 },
      'out-a': { 'in-b': 50 },
      'out-b': { base: 50 }, // under the threshold: the base model, no adapter's share
      'out-c': { 'in-a': 25, 'in-b': 25 },
    };
    const routing = tasks.map((t) => ({ task: t.name, examples: t.examples.length, ownFirst: t.ownAdapter === null ? null : 0, familyFirst: 0, perLayer: [], top1: top1[t.name]! }));
    const report = build(systems, routing);
    expect(report.routingSummary.map((r) => [r.split, r.mostChosen])).toEqual([
      ['in-distribution', { adapter: 'in-a', share: 50 / 80, timesFair: (50 / 80) * 2 }],
      ['held-out', { adapter: 'in-b', share: 75 / 150, timesFair: (75 / 150) * 2 }],
    ]);
    const ties = build(systems, routing.map((r) => ({ ...r, top1: r.task === 'in-a' ? { 'in-b': 20, 'in-a': 20 } : r.top1 })));
    expect(ties.routingSummary[0]!.mostChosen!.adapter).toBe('in-a'); // 40 each: the first in library order
    const none = build(systems, routing.map((r) => ({ ...r, top1: { base: r.examples } })));
    expect(none.routingSummary.map((r) => r.mostChosen)).toEqual([null, null]);
  });

  it('every pair whose systems both ran, over the split’s tasks, as pairedBootstrap computes it; version 3', () => {
    const report = build(systems);
    expect(EvalReport.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.version).toBe(3);
    expect(report.settings.bootstrap).toEqual(BOOTSTRAP);
    // mbc-arrow did not run: its pairs are left out.
    expect(report.comparisons.map((c) => [c.split, c.system, c.against, c.tasks])).toEqual([
      ['in-distribution', 'private-req-top1', 'oracle', 2],
      ['in-distribution', 'private-arrow', 'oracle', 2],
      ['held-out', 'private-req-top1', 'private-mu', 3],
      ['held-out', 'private-req-top1', 'base', 3],
      ['held-out', 'private-arrow', 'private-mu', 3],
      ['held-out', 'private-arrow', 'base', 3],
    ]);
    const hits = (s: string, names: string[]) => names.map((n) => report.results.find((r) => r.system === s && r.task === n)!.hits);
    for (const c of report.comparisons) {
      const names = tasks.filter((t) => t.split === c.split).map((t) => t.name);
      expect({ difference: c.difference, lo: c.lo, hi: c.hi }).toEqual(pairedBootstrap(hits(c.system, names), hits(c.against, names), { seed: 0 }));
      // The difference is the summary's difference of mean accuracies.
      const mean = (s: string) => report.summary.find((x) => x.split === c.split && x.system === s)!.accuracy;
      expect(c.difference).toBeCloseTo(mean(c.system) - mean(c.against), 12);
    }
    for (const r of report.results) expect([...r.hits].filter((c) => c === '1').length).toBe(r.correct);
    // A 0.7 against a 0.2 system on 150 examples is far outside the noise.
    const top1Base = report.comparisons.find((c) => c.system === 'private-req-top1' && c.against === 'base')!;
    expect(excludesZero(top1Base)).toBe(true);
    // The same inputs give the same report; a comparison does not depend on the other systems run.
    expect(build(systems)).toEqual(report);
    const alone = build(['private-req-top1', 'base']);
    expect(alone.comparisons).toEqual([top1Base]);
    expect(build(['base', 'oracle']).comparisons).toEqual([]);
  });

  it('the table and the Markdown list each comparison and say whether it excludes zero', () => {
    const report = build(systems);
    const table = formatEvalTable(report);
    const md = formatEvalMarkdown(report);
    for (const c of report.comparisons) {
      expect(table).toContain(formatComparison(c));
      expect(md).toContain(`- ${formatComparison(c, (id) => `\`${id}\``)}`);
    }
    expect(table).toMatch(/^held-out {2}private-req-top1 − base: \+\d+\.\d points \[\+\d+\.\d, \+\d+\.\d\] \(95% paired bootstrap, 3 tasks\): excludes zero$/m);
    expect(formatComparison({ split: 'held-out', system: 'private-arrow', against: 'private-mu', tasks: 8, difference: 0.031, lo: -0.004, hi: 0.068 })).toBe(
      'held-out  private-arrow − private-mu: +3.1 points [−0.4, +6.8] (95% paired bootstrap, 8 tasks): includes zero (no clear difference)',
    );
  });
});
