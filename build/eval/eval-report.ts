/**
 * `eval.json`: every (system, task) score with its per-example hits, the routing accuracy, the
 * averages, and paired bootstrap intervals for the comparisons the evaluation is about. The zod
 * schema is the source of the type; the report is reproducible (no times, no absolute paths, the
 * bootstrap seeded), so two runs on the same library and backend give the same file.
 */
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { RoutingDefaults } from '../../shared/manifest/schema.js';
import type { LibraryIndex } from '../io/library-index.js';
import type { SystemTaskResult, EvalSettings, TaskRouting } from './eval-job.js';
import { SYSTEMS, SYSTEM_IDS, type SystemId } from './eval-systems.js';
import type { EvalTask } from './eval-tasks.js';
import { pairedBootstrap } from './paired-bootstrap.js';

export const EVAL_FILE = 'eval.json';
export const SPLITS = ['in-distribution', 'held-out'] as const;

const Split = z.enum(SPLITS);
const System = z.enum(SYSTEM_IDS);
const Count = z.number().int().nonnegative();

/** Every comparison's bootstrap: fixed, so the report is the same file on every run. */
export const BOOTSTRAP = { resamples: 10_000, seed: 0 } as const;

/**
 * The comparisons eval reports with an interval, per split (each `system` against each of its
 * `against`): held out, whether routing beats the merge of everything and the base model; in
 * distribution, how far request- and token-level routing stay from the task's own adapter.
 */
export const COMPARISONS: ReadonlyArray<{ split: (typeof SPLITS)[number]; systems: readonly SystemId[]; against: readonly SystemId[] }> = [
  { split: 'in-distribution', systems: ['private-req-top1', 'private-arrow'], against: ['oracle'] },
  { split: 'held-out', systems: ['private-req-top1', 'private-arrow', 'mbc-arrow'], against: ['private-mu', 'base'] },
];

export const EvalReport = z.strictObject({
  format: z.literal('quiver.eval'),
  version: z.literal(3),
  /** The library folder's name (not its path: the report is the same wherever the library lies and eval runs). */
  library: z.string(),
  baseModel: z.string(),
  backend: z.string(),
  settings: RoutingDefaults.pick({ topK: true, temperature: true, votes: true }).extend({
    maxNewTokens: z.number().int().positive(),
    limit: z.number().int().positive().nullable(),
    /** How request-level routing reads the prototypes: rounded to F16 as the routing manifest stores them. */
    requestPrototypes: z.literal('f16'),
    /** The paired bootstrap behind `comparisons`. */
    bootstrap: z.strictObject({ resamples: z.number().int().positive(), seed: z.number().int() }),
  }),
  systems: z.array(z.strictObject({ id: System, description: z.string() })),
  tasks: z.array(
    z.strictObject({ name: z.string(), split: Split, family: z.string(), targetFamily: z.string(), multipleChoice: z.boolean(), examples: Count }),
  ),
  results: z.array(
    z.strictObject({
      system: System,
      task: z.string(),
      accuracy: z.number(),
      correct: Count,
      examples: Count,
      /** Per example, in the task's order: '1' right, '0' wrong (what the paired bootstrap resamples). */
      hits: z.string().regex(/^[01]*$/),
      /** Mean per-token loss of the reference answer (`output <eos>`). */
      loss: z.number(),
      answerTokens: Count,
      samples: z.array(z.strictObject({ input: z.string(), output: z.string(), prediction: z.string() })),
      /** `family-oracle` only: the adapter it chose, on which split, and every candidate's score there. */
      choice: z
        .strictObject({
          adapter: z.string(),
          split: z.enum(['valid', 'test']),
          candidates: z.array(z.strictObject({ adapter: z.string(), accuracy: z.number(), loss: z.number() })),
        })
        .optional(),
    }),
  ),
  routing: z.array(
    z.strictObject({
      task: z.string(),
      examples: Count,
      ownFirst: Count.nullable(),
      familyFirst: Count,
      perLayer: z.array(z.strictObject({ layer: Count, ownFirst: Count.nullable(), familyFirst: Count })),
      top1: z.record(z.string(), Count),
    }),
  ),
  /** Macro averages over the split's tasks (each task weighs the same). */
  summary: z.array(z.strictObject({ split: Split, system: System, tasks: Count, accuracy: z.number(), loss: z.number() })),
  /**
   * Mean accuracy of `system` minus that of `against` over the split's tasks both scored (fractions),
   * with the 95% paired bootstrap interval [lo, hi] (paired-bootstrap.ts; `settings.bootstrap`).
   */
  comparisons: z.array(
    z.strictObject({ split: Split, system: System, against: System, tasks: Count, difference: z.number(), lo: z.number(), hi: z.number() }),
  ),
  /** Routing accuracy of request-level Arrow, as fractions averaged over the split's tasks. */
  routingSummary: z.array(
    z.strictObject({
      split: Split,
      tasks: Count,
      ownFirst: z.number().nullable(),
      familyFirst: z.number(),
      perLayer: z.array(z.strictObject({ layer: Count, ownFirst: z.number().nullable(), familyFirst: z.number() })),
      /**
       * The private adapter routed first most often over the split's prompts (ties: the first in
       * library order), its share of the prompts, and that share over the fair one (1 / adapters):
       * how far one adapter hogs the traffic. null when no prompt went to an adapter.
       */
      mostChosen: z.strictObject({ adapter: z.string(), share: z.number(), timesFair: z.number() }).nullable(),
    }),
  ),
});
export type EvalReport = z.infer<typeof EvalReport>;

export interface BuildReportInput {
  libraryDir: string;
  index: LibraryIndex;
  backend: string;
  tasks: readonly EvalTask[];
  systems: readonly SystemId[];
  settings: EvalSettings;
  limit: number | null;
  results: readonly SystemTaskResult[];
  routing: readonly TaskRouting[];
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

type Hits = Pick<EvalReport['results'][number], 'system' | 'task' | 'hits'>;

/**
 * Every comparison of COMPARISONS whose two systems both ran, over the split's tasks (with
 * examples) that both scored, in task order. Each is seeded alike, so a comparison's interval does
 * not depend on which other systems the run had.
 */
function compareSystems(tasks: readonly EvalTask[], results: readonly Hits[]): EvalReport['comparisons'] {
  const hits = new Map(results.map((r) => [`${r.system}\u0000${r.task}`, r.hits]));
  const out: EvalReport['comparisons'] = [];
  for (const { split, systems, against } of COMPARISONS) {
    const names = tasks.filter((t) => t.split === split && t.examples.length > 0).map((t) => t.name);
    for (const system of systems) {
      for (const other of against) {
        const both = names.filter((n) => hits.has(`${system}\u0000${n}`) && hits.has(`${other}\u0000${n}`));
        if (both.length === 0) continue;
        const a = both.map((n) => hits.get(`${system}\u0000${n}`)!);
        const b = both.map((n) => hits.get(`${other}\u0000${n}`)!);
        out.push({ split, system, against: other, tasks: both.length, ...pairedBootstrap(a, b, BOOTSTRAP) });
      }
    }
  }
  return out;
}

export function buildEvalReport(input: BuildReportInput): EvalReport {
  const taskOrder = new Map(input.tasks.map((t, i) => [t.name, i]));
  const systemOrder = new Map(input.systems.map((s, i) => [s, i]));
  const results = [...input.results]
    .sort((a, b) => taskOrder.get(a.task)! - taskOrder.get(b.task)! || systemOrder.get(a.system)! - systemOrder.get(b.system)!)
    .map(({ seconds: _seconds, ...r }) => r);
  const routing = [...input.routing].sort((a, b) => taskOrder.get(a.task)! - taskOrder.get(b.task)!);
  const summary: EvalReport['summary'] = [];
  const routingSummary: EvalReport['routingSummary'] = [];
  for (const split of SPLITS) {
    const names = new Set(input.tasks.filter((t) => t.split === split).map((t) => t.name));
    if (names.size === 0) continue;
    for (const system of input.systems) {
      const mine = results.filter((r) => r.system === system && names.has(r.task));
      if (mine.length === 0) continue;
      summary.push({ split, system, tasks: mine.length, accuracy: mean(mine.map((r) => r.accuracy)), loss: mean(mine.map((r) => r.loss)) });
    }
    const rs = routing.filter((r) => names.has(r.task));
    const frac = (n: number | null, r: TaskRouting) => (n === null ? Number.NaN : n / r.examples);
    const inDist = split === 'in-distribution';
    const adapters = input.index.tasks.map((t) => t.name);
    const firsts = adapters.map((id) => rs.reduce((n, r) => n + (r.top1[id] ?? 0), 0));
    const prompts = rs.reduce((n, r) => n + r.examples, 0);
    const top = firsts.reduce((best, n, i) => (n > firsts[best]! ? i : best), 0);
    routingSummary.push({
      split,
      tasks: rs.length,
      ownFirst: inDist ? mean(rs.map((r) => frac(r.ownFirst, r))) : null,
      familyFirst: mean(rs.map((r) => frac(r.familyFirst, r))),
      perLayer: (rs[0]?.perLayer ?? []).map((_, l) => ({
        layer: rs[0]!.perLayer[l]!.layer,
        ownFirst: inDist ? mean(rs.map((r) => frac(r.perLayer[l]!.ownFirst, r))) : null,
        familyFirst: mean(rs.map((r) => frac(r.perLayer[l]!.familyFirst, r))),
      })),
      mostChosen: prompts > 0 && firsts[top]! > 0 ? { adapter: adapters[top]!, share: firsts[top]! / prompts, timesFair: (firsts[top]! / prompts) * adapters.length } : null,
    });
  }
  return EvalReport.parse({
    format: 'quiver.eval',
    version: 3,
    library: basename(resolve(input.libraryDir)),
    baseModel: input.index.baseModel,
    backend: input.backend,
    settings: { topK: input.settings.topK, temperature: input.settings.temperature, votes: input.settings.votes, maxNewTokens: input.settings.maxNewTokens, limit: input.limit, requestPrototypes: 'f16', bootstrap: { ...BOOTSTRAP } },
    systems: SYSTEMS.filter((s) => input.systems.includes(s.id)).map((s) => ({ id: s.id, description: s.description })),
    tasks: input.tasks.map((t) => ({ name: t.name, split: t.split, family: t.family, targetFamily: t.targetFamily, multipleChoice: t.multipleChoice, examples: t.examples.length })),
    results,
    routing,
    summary,
    comparisons: compareSystems(input.tasks, results),
    routingSummary,
  });
}
