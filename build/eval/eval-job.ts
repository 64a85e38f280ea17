/**
 * One unit of evaluation work, run in a worker process or in this one: a few tasks × the chosen
 * systems, on the library loaded once. Per task it first routes every prompt over the private
 * adapters (request-level Arrow on the base model; its accuracy is reported and the request-level
 * systems use it), then scores each system, reporting each (system, task) as it finishes.
 */
import type { RoutingDefaults } from '../../shared/manifest/schema.js';
import { selectBackend, type BackendName } from '../model/backend.js';
import { EvalLibrary } from './eval-library.js';
import { runsOn, type SystemId } from './eval-systems.js';
import { chooseFamilyAdapter } from './family-oracle.js';
import type { EvalTask } from './eval-tasks.js';
import type { PromptRouting } from './prompt-routing.js';
import { scoreTask, type TaskScore } from './score-task.js';

/** Arrow's per-token routing settings, and how generation and the report are bounded. */
export interface EvalSettings extends Pick<RoutingDefaults, 'topK' | 'temperature' | 'votes'> {
  /** Generated tokens at most, <eos> included. */
  maxNewTokens: number;
  /** Predictions kept per (system, task). */
  samples: number;
}

export interface EvalJob {
  libraryDir: string;
  tasks: EvalTask[];
  systems: SystemId[];
  settings: EvalSettings;
  backend?: BackendName;
}

export interface SystemTaskResult extends TaskScore {
  system: SystemId;
  task: string;
  seconds: number;
  /** The family oracle's pick: the adapter, where it was chosen, and every candidate's score there. */
  choice?: { adapter: string; split: 'valid' | 'test'; candidates: Array<{ adapter: string; accuracy: number; loss: number }> };
}

/** How request-level Arrow over the private adapters routes a task's prompts (counts of examples). */
export interface TaskRouting {
  task: string;
  examples: number;
  /** Prompts whose first adapter is the task's own (in-distribution; null for held-out). */
  ownFirst: number | null;
  /** Prompts whose first adapter belongs to the task's target family. */
  familyFirst: number;
  /** The same two counts with one layer's modules alone doing the routing, per layer. */
  perLayer: Array<{ layer: number; ownFirst: number | null; familyFirst: number }>;
  /** Adapter id (or the base model's, for requests under the threshold) → prompts routed to it first. */
  top1: Record<string, number>;
}

export interface EvalJobResult {
  results: SystemTaskResult[];
  routing: TaskRouting[];
}

/**
 * Routing accuracy counts of `routing` (one per example of `task`); `families[i]` is adapter i's
 * family. A request under the threshold counts as routed to the base model (`baseModel` in top1),
 * which is neither the task's own adapter nor one of its family.
 */
export function routingCounts(task: EvalTask, routing: readonly PromptRouting[], ids: readonly string[], families: readonly string[], baseModel: string): TaskRouting {
  const own = (best: number) => (task.ownAdapter !== null && best === task.ownAdapter ? 1 : 0);
  const fam = (best: number) => (best >= 0 && families[best] === task.targetFamily ? 1 : 0);
  const top1: Record<string, number> = {};
  let ownFirst = 0;
  let familyFirst = 0;
  const layers = routing[0]?.layerBest.length ?? 0;
  const perLayer = Array.from({ length: layers }, (_, layer) => ({ layer, ownFirst: 0, familyFirst: 0 }));
  for (const r of routing) {
    const best = r.selected[0]?.index ?? -1;
    const id = best < 0 ? baseModel : ids[best]!;
    top1[id] = (top1[id] ?? 0) + 1;
    ownFirst += own(best);
    familyFirst += fam(best);
    r.layerBest.forEach((b, l) => {
      perLayer[l]!.ownFirst += own(b);
      perLayer[l]!.familyFirst += fam(b);
    });
  }
  const inDist = task.ownAdapter !== null;
  return {
    task: task.name,
    examples: routing.length,
    ownFirst: inDist ? ownFirst : null,
    familyFirst,
    perLayer: perLayer.filter((_, l) => routing.every((r) => r.layerBest[l]! >= 0)).map((p) => ({ ...p, ownFirst: inDist ? p.ownFirst : null })),
    top1: Object.fromEntries(Object.entries(top1).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
  };
}

/** Runs `job`; `library` reuses one already loaded (in-process runs), else it is loaded and freed here. */
export async function runEvalJob(job: EvalJob, onResult: (r: SystemTaskResult) => void, library?: EvalLibrary): Promise<EvalJobResult> {
  if (!library) await selectBackend(job.backend, { log: () => {} });
  const lib = library ?? (await EvalLibrary.load(job.libraryDir, { topK: job.settings.topK, temperature: job.settings.temperature, votes: job.settings.votes }));
  try {
    const families = lib.index.tasks.map((t) => t.family);
    const out: EvalJobResult = { results: [], routing: [] };
    for (const task of job.tasks) {
      const router = await lib.requestRouter();
      const routing = await router.route(task.examples.map((ex) => ex.input));
      out.routing.push(routingCounts(task, routing, lib.privates.ids, families, lib.index.baseModel));
      for (const system of job.systems) {
        if (!runsOn(system, task)) continue;
        const start = performance.now();
        const picked = system === 'family-oracle' ? chooseFamilyAdapter(lib, task, job.settings) : null;
        const adapter = lib.adapterFor(system, task, routing, picked?.adapter ?? null);
        const score = scoreTask(lib.model, lib.tokenizer, task.examples, adapter, { maxNewTokens: job.settings.maxNewTokens, samples: job.settings.samples });
        const id = (i: number) => lib.privates.ids[i]!;
        const choice = picked
          ? { choice: { adapter: id(picked.adapter), split: picked.split, candidates: picked.candidates.map((c) => ({ adapter: id(c.adapter), accuracy: c.accuracy, loss: c.loss })) } }
          : {};
        const result: SystemTaskResult = { system, task: task.name, ...score, ...choice, seconds: (performance.now() - start) / 1000 };
        out.results.push(result);
        onResult(result);
      }
    }
    return out;
  } finally {
    if (!library) lib.dispose();
  }
}
