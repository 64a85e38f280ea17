/**
 * `quiver eval`'s driver: loads the tasks, splits them into jobs of about equal cost, runs the jobs
 * in worker processes — one per core, each loading the library once per job — or in this process
 * (running from TypeScript sources, or -j 1), prints a line per (system, task) with an ETA, and
 * assembles the report.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuiverInputError } from '../../shared/errors.js';
import type { BackendName } from '../model/backend.js';
import { selectBackend } from '../model/backend.js';
import { formatDuration } from '../progress.js';
import { JobFailedError, runInWorkers } from '../worker-pool.js';
import { readLibraryIndex } from '../io/library-index.js';
import { EvalLibrary } from './eval-library.js';
import { runEvalJob, type EvalJob, type EvalJobResult, type EvalSettings, type SystemTaskResult } from './eval-job.js';
import { buildEvalReport, type EvalReport } from './eval-report.js';
import { runsOn, type SystemId } from './eval-systems.js';
import { loadEvalTasks, type EvalTask } from './eval-tasks.js';

export interface RunEvalOptions {
  libraryDir: string;
  suite?: string;
  heldout?: string;
  limit?: number;
  /** Only these tasks (names); default all. */
  tasks?: string[];
  systems: SystemId[];
  jobs: number;
  settings: EvalSettings;
  backend?: BackendName;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface EvalRun {
  report: EvalReport;
  seconds: number;
  /** Seconds spent per system, summed over tasks (all lanes). */
  systemSeconds: Record<string, number>;
}

function compiledWorker(): string | null {
  if (!import.meta.url.endsWith('.js')) return null;
  const path = fileURLToPath(new URL('./eval-worker.js', import.meta.url));
  return existsSync(path) ? path : null;
}

/** Rough forward-pass work of a task (bytes through the model): orders the jobs, longest first. */
function taskCost(task: EvalTask): number {
  let cost = 0;
  for (const ex of task.examples) {
    const p = ex.input.length + 2;
    const a = ex.output.length + 1;
    cost += ex.options ? ex.options.reduce((s, o) => s + p + o.length + 1, 0) : (p + a) * (a + 1);
  }
  return cost;
}

/**
 * Tasks in `n` chunks of about equal cost (longest task first onto the lightest chunk), heaviest
 * chunk first. Two chunks per worker: each loads the library once per chunk, and the pool still
 * evens out what the cost estimate gets wrong.
 */
export function balancedChunks(tasks: readonly EvalTask[], n: number): EvalTask[][] {
  const chunks = Array.from({ length: n }, () => ({ cost: 0, tasks: [] as EvalTask[] }));
  for (const t of [...tasks].sort((a, b) => taskCost(b) - taskCost(a))) {
    const lightest = chunks.reduce((m, c) => (c.cost < m.cost ? c : m));
    lightest.tasks.push(t);
    lightest.cost += taskCost(t);
  }
  return chunks.filter((c) => c.tasks.length > 0).sort((a, b) => b.cost - a.cost).map((c) => c.tasks);
}

export async function runEval(opts: RunEvalOptions): Promise<EvalRun> {
  const start = Date.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const libraryDir = resolve(opts.libraryDir);
  const index = await readLibraryIndex(libraryDir);
  const backend = await selectBackend(opts.backend, { log: opts.quiet ? () => {} : log });
  const loaded = await loadEvalTasks(libraryDir, index, { suite: opts.suite, heldout: opts.heldout, limit: opts.limit });
  let tasks = loaded.tasks;
  if (opts.tasks) {
    const unknown = opts.tasks.filter((n) => !tasks.some((t) => t.name === n));
    if (unknown.length > 0) throw new QuiverInputError(`unknown task${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (the library and the suite have ${tasks.map((t) => t.name).join(', ')})`, '--tasks');
    tasks = tasks.filter((t) => opts.tasks!.includes(t.name));
  }
  const units = tasks.reduce((n, t) => n + opts.systems.filter((s) => runsOn(s, t)).length, 0);
  const heldOut = tasks.filter((t) => t.split === 'held-out').length;
  if (!opts.quiet) {
    log(`evaluating ${opts.systems.length} systems on ${tasks.length - heldOut} in-distribution and ${heldOut} held-out tasks` +
      `${opts.limit !== undefined ? ` (at most ${opts.limit} examples each)` : ''}: ${units} (system, task) runs, ${Math.min(opts.jobs, tasks.length)} worker${opts.jobs > 1 ? 's' : ''}`);
  }

  let done = 0;
  const systemSeconds: Record<string, number> = {};
  const onResult = (r: SystemTaskResult) => {
    done++;
    systemSeconds[r.system] = (systemSeconds[r.system] ?? 0) + r.seconds;
    if (opts.quiet) return;
    const elapsed = Date.now() - start;
    const eta = done < units ? `  ETA ${formatDuration((elapsed / done) * (units - done))}` : '';
    log(`[eval ${done}/${units}] ${r.system.padEnd(21)} ${r.task.padEnd(26)} acc ${(100 * r.accuracy).toFixed(1).padStart(5)}%  loss ${r.loss.toFixed(3)}  ${r.seconds.toFixed(1)}s${eta}`);
  };

  const base: Omit<EvalJob, 'tasks'> = { libraryDir, systems: opts.systems, settings: opts.settings, ...(opts.backend ? { backend: opts.backend } : {}) };
  const worker = compiledWorker();
  let results: EvalJobResult[];
  if (worker && opts.jobs > 1 && tasks.length > 1) {
    const jobs: EvalJob[] = balancedChunks(tasks, Math.min(tasks.length, 2 * opts.jobs)).map((chunk) => ({ ...base, tasks: chunk }));
    try {
      results = await runInWorkers<EvalJob, SystemTaskResult, EvalJobResult>(jobs, { workerScript: worker, concurrency: opts.jobs, onProgress: (_job, r) => onResult(r) });
    } catch (err) {
      if (err instanceof JobFailedError && err.inputError) throw new QuiverInputError(err.message);
      throw err;
    }
  } else {
    const library = await EvalLibrary.load(libraryDir, { topK: opts.settings.topK, temperature: opts.settings.temperature, votes: opts.settings.votes });
    try {
      results = [await runEvalJob({ ...base, tasks }, onResult, library)];
    } finally {
      library.dispose();
    }
  }
  const report = buildEvalReport({
    libraryDir,
    index,
    backend: backend.name,
    tasks,
    systems: opts.systems,
    settings: opts.settings,
    limit: opts.limit ?? null,
    results: results.flatMap((r) => r.results),
    routing: results.flatMap((r) => r.routing),
  });
  return { report, seconds: (Date.now() - start) / 1000, systemSeconds };
}
