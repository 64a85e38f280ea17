import { InvalidArgumentError, Option, type Command } from 'commander';
import { join, resolve } from 'node:path';
import { decodeManifest } from '../../shared/manifest/manifest-codec.js';
import { withRouting } from '../../shared/manifest/manifest-routing.js';
import { MANIFEST_FILE, RoutingDefaults } from '../../shared/manifest/schema.js';
import { routeRequest, type RouterParts } from '../../shared/router/route-request.js';
import { calibrationSplit } from '../calibrate/calibration-split.js';
import { candidateGrid, correctAt, fitRouting, type Candidate, type RankedExample } from '../calibrate/fit-routing.js';
import { readLabelledExamples, type Labelled } from '../calibrate/labelled-examples.js';
import { LastPromptEmbedder } from '../calibrate/last-prompt-embedder.js';
import { parseNonNegativeInt, parseVotes } from '../cli-options.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { openCompiledRouter } from '../io/compiled-router.js';
import { createProgress } from '../progress.js';

/** The grid calibrate searches and its split, by default. */
export const CALIBRATE_DEFAULTS = {
  topKs: [1, 2, 3, 4, 6, 8],
  // Log-spaced over four decades: the scale of |x · v| is the base model's, from about 1 to 100s.
  temperatures: [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100],
  votes: ['site', 'module'] as Candidate['votes'][],
  testFraction: 0.3,
  seed: 0,
} as const;

export interface CalibrateOptions {
  examples: string;
  topKGrid: number[];
  temperatureGrid: number[];
  votesGrid: Candidate['votes'][];
  testFraction: number;
  seed: number;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** Accuracy of one routing on each part: examples routed right, of how many. */
export interface PartAccuracy {
  fit: { correct: number; examples: number };
  test: { correct: number; examples: number };
}

export interface CalibrateResult {
  manifest: string;
  examples: string;
  baseModel: string;
  split: { testFraction: number; seed: number };
  /** The (top-k, temperature) pairs tried. */
  candidates: number;
  before: { routing: RoutingDefaults } & PartAccuracy;
  after: { routing: RoutingDefaults } & PartAccuracy;
  /** Per label (the adapter, the base model, or a list of either): test examples and how many were right before and after. */
  testByLabel: Array<{ label: string; examples: number; before: number; after: number }>;
  /** The manifest's new checksum; null when nothing was written (--dry-run, or the routing did not change). */
  written: string | null;
}

/**
 * `quiver calibrate`: fits the manifest's routing defaults (top-k, temperature, threshold) for the
 * best routing accuracy (build/calibrate/routing-accuracy.ts) on one part of labelled examples,
 * reports the accuracy before and after on both parts, and writes the fitted values into the
 * compiled folder's manifest (new checksum, atomic write; the embedder and tokenizer files are
 * untouched and stay valid). Routing runs through routeRequest, the code of `quiver route` and the
 * edge.
 */
export async function runCalibrate(dir: string, opts: CalibrateOptions): Promise<CalibrateResult> {
  const router = await openCompiledRouter(dir);
  try {
    const { manifest } = router;
    const md = manifest.metadata;
    const ids = md.adapters.map((a) => a.id);
    const examples = await readLabelledExamples(resolve(opts.examples), ids, md.baseModel);
    const split = calibrationSplit(examples, opts.testFraction, opts.seed);
    const current = md.routing;
    const candidates = candidateGrid(current, opts.topKGrid, opts.temperatureGrid, opts.votesGrid, ids.length);
    const parts: RouterParts = { ...router, embedder: new LastPromptEmbedder(router.embedder) };

    const rank = async (list: readonly Labelled[], label: string): Promise<RankedExample[]> => {
      const out: RankedExample[] = [];
      const every = 250;
      const progress = createProgress(Math.ceil(list.length / every), { quiet: opts.quiet });
      for (const [i, ex] of list.entries()) {
        const outcomes = [];
        for (const c of candidates) {
          const r = await routeRequest(parts, ex.input, { ...c, threshold: 0 });
          const first = r.selected[0]!;
          outcomes.push({ first: first.id, best: r.scores.find((s) => s.id === first.id)!.score });
        }
        out.push({ labels: ex.labels, outcomes });
        if ((i + 1) % every === 0 || i + 1 === list.length) progress.step(`${label} ${i + 1}/${list.length} examples × ${candidates.length} settings`);
      }
      progress.done();
      return out;
    };
    const fitPart = await rank(split.fit, 'fit');
    const testPart = await rank(split.test, 'test');

    const fitted = fitRouting(fitPart, candidates, md.baseModel);
    const accuracy = (c: number, threshold: number): PartAccuracy => ({
      fit: { correct: correctAt(fitPart, c, threshold, md.baseModel), examples: fitPart.length },
      test: { correct: correctAt(testPart, c, threshold, md.baseModel), examples: testPart.length },
    });
    const labelOf = (labels: readonly string[]) => (labels.length === 1 ? labels[0]! : `[${labels.join(', ')}]`);
    const byLabel = new Map<string, { label: string; examples: number; before: number; after: number }>();
    for (const ex of testPart) {
      const label = labelOf(ex.labels);
      const row = byLabel.get(label) ?? { label, examples: 0, before: 0, after: 0 };
      row.examples++;
      row.before += correctAt([ex], 0, current.threshold, md.baseModel);
      row.after += correctAt([ex], fitted.candidate, fitted.routing.threshold, md.baseModel);
      byLabel.set(label, row);
    }

    const manifestPath = join(dir, MANIFEST_FILE);
    const unchanged = (['topK', 'temperature', 'threshold', 'votes'] as const).every((k) => fitted.routing[k] === current[k]);
    let written: string | null = null;
    if (!opts.dryRun && !unchanged) {
      const bytes = await withRouting(manifest, fitted.routing);
      // The folder as the edge and quiver route will open it: the new manifest with the same embedder.
      const decoded = await decodeManifest(bytes, manifestPath);
      router.withManifest(decoded, manifestPath);
      await writeFileAtomic(manifestPath, bytes);
      written = decoded.metadata.checksum;
    }
    return {
      manifest: manifestPath,
      examples: resolve(opts.examples),
      baseModel: md.baseModel,
      split: { testFraction: opts.testFraction, seed: opts.seed },
      candidates: candidates.length,
      before: { routing: current, ...accuracy(0, current.threshold) },
      after: { routing: fitted.routing, ...accuracy(fitted.candidate, fitted.routing.threshold) },
      testByLabel: [...byLabel.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)),
      written,
    };
  } finally {
    await router.release();
  }
}

const pct = (p: { correct: number; examples: number }) => (p.examples === 0 ? '—' : `${((100 * p.correct) / p.examples).toFixed(1)}%`);
const settings = (r: RoutingDefaults) => `top-k ${r.topK}, temperature ${r.temperature}, threshold ${r.threshold}, votes per ${r.votes}`;

/** A list label as its first id and how many more (the JSON output has them all). */
const shortLabel = (label: string) => {
  const ids = label.startsWith('[') ? label.slice(1, -1).split(', ') : [label];
  return ids.length === 1 ? label : `[${ids[0]}, +${ids.length - 1} more]`;
};

export function formatCalibrate(r: CalibrateResult, dryRun: boolean): string {
  const width = Math.max(5, ...r.testByLabel.map((l) => shortLabel(l.label).length));
  return [
    `examples  ${r.before.fit.examples + r.before.test.examples} (fit ${r.before.fit.examples}, test ${r.before.test.examples}; seed ${r.split.seed}), ${r.candidates} (top-k, temperature, votes) settings`,
    `routing accuracy (first adapter, or the base model under the threshold, is the label):`,
    `  before  ${settings(r.before.routing).padEnd(64)}  fit ${pct(r.before.fit).padStart(6)}  test ${pct(r.before.test).padStart(6)}`,
    `  after   ${settings(r.after.routing).padEnd(64)}  fit ${pct(r.after.fit).padStart(6)}  test ${pct(r.after.test).padStart(6)}`,
    '',
    `  ${'label'.padEnd(width)}  test  before  after`,
    ...r.testByLabel.map((l) => `  ${shortLabel(l.label).padEnd(width)}  ${String(l.examples).padStart(4)}  ${String(l.before).padStart(6)}  ${String(l.after).padStart(5)}`),
    '',
    r.written !== null
      ? `wrote ${r.manifest} (${r.written})`
      : dryRun
        ? `--dry-run: ${r.manifest} left as it is`
        : `the fitted routing is the manifest's: ${r.manifest} left as it is`,
  ].join('\n');
}

/**
 * A comma-separated list, each value checked by `parse` (which throws on a bad one); `one` names one
 * ("a positive integer"), `many` the list's kind ("numbers").
 */
function parseList<T>(parse: (v: string) => T, one: string, many = 'numbers'): (value: string) => T[] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
    if (parts.length === 0) throw new InvalidArgumentError(`"${value}" is not a comma-separated list of ${many}.`);
    return parts.map((p) => {
      try {
        return parse(p);
      } catch {
        throw new InvalidArgumentError(`"${p}" in "${value}" is not ${one}.`);
      }
    });
  };
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error();
  return n;
};
const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error();
  return n;
};

function parseFraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError(`"${value}" is not a number strictly between 0 and 1.`);
  return n;
}

export function registerCalibrateCommand(program: Command): void {
  const d = CALIBRATE_DEFAULTS;
  program
    .command('calibrate')
    .description(
      'Fit a compiled folder\'s routing defaults (top-k, temperature, threshold, votes) for the best routing accuracy on labelled prompts: ' +
        'fits on one part of the examples, reports accuracy before and after on both, and writes the fitted values into manifest.safetensors (the embedder stays valid).',
    )
    .argument('<compiled>', 'the folder quiver compile wrote')
    .requiredOption('--examples <file>', 'JSONL of labelled prompts: {"input": "…", "adapter": "<adapter id, or the base model\'s id to fall back>"} (or "adapter": [ids], any of them right)')
    .option('--test-fraction <f>', 'share of each label\'s examples held out to report on (the rest fit)', parseFraction, d.testFraction)
    .option('--seed <n>', 'seed of the split', parseNonNegativeInt, d.seed)
    .addOption(new Option('--top-k-grid <list>', 'top-k values to try').argParser(parseList(positiveInt, 'a positive integer')).default([...d.topKs], d.topKs.join(',')))
    .addOption(new Option('--temperature-grid <list>', 'temperatures to try').argParser(parseList(positive, 'a positive number')).default([...d.temperatures], d.temperatures.join(',')))
    .addOption(new Option('--votes-grid <list>', 'vote units to try: site (q, k, v of a layer vote once), module').argParser(parseList(parseVotes, `one of ${RoutingDefaults.shape.votes.options.join(', ')}`, 'vote units')).default([...d.votes], d.votes.join(',')))
    .option('--dry-run', 'fit and report; write nothing')
    .option('--json', 'machine-readable JSON of the result')
    .option('-q, --quiet', 'no progress lines')
    .action(async (dir: string, opts: CalibrateOptions) => {
      const r = await runCalibrate(dir, opts);
      process.stdout.write((opts.json ? JSON.stringify(r, null, 2) : formatCalibrate(r, Boolean(opts.dryRun))) + '\n');
    });
}
