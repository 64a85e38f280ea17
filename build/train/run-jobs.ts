/**
 * Runs adapter jobs: skips those already finished for the same inputs, trains the rest in worker
 * processes (one per core) when running compiled, in this process otherwise (tests, --jobs 1),
 * and prints progress lines: `[private 3/29] reverse-word-arrow  step 120/188  loss 0.412  valid 0.398  ETA 6m 10s`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { QuiverInputError } from '../../shared/errors.js';
import { formatDuration } from '../progress.js';
import { finishedAdapter, type AdapterJob, type AdapterMeta, type JobProgress } from './adapter-job.js';
import { trainAdapterJob, type TrainedAdapter } from './adapter-trainer.js';
import { JobFailedError, runInWorkers } from '../worker-pool.js';

/** The compiled worker next to this module, or null when running from TypeScript sources. */
function compiledWorker(): string | null {
  if (!import.meta.url.endsWith('.js')) return null;
  const path = fileURLToPath(new URL('./train-worker.js', import.meta.url));
  return existsSync(path) ? path : null;
}

export interface RunJobsOptions {
  label: string;
  concurrency: number;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface JobsOutcome {
  /** Every job's adapter metadata, skipped or trained now. */
  metas: Map<string, AdapterMeta>;
  /** How many were trained by this call. */
  trained: number;
}

export async function runAdapterJobs(jobs: readonly AdapterJob[], opts: RunJobsOptions): Promise<JobsOutcome> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const done = new Map<string, AdapterMeta>();
  const todo: AdapterJob[] = [];
  for (const j of jobs) {
    const meta = await finishedAdapter(j.outDir, j.jobHash);
    if (meta) done.set(j.id, meta);
    else todo.push(j);
  }
  if (done.size > 0) log(`${opts.label}: ${done.size} of ${jobs.length} adapters already trained (same config, base and data): skipped`);
  if (todo.length === 0) return { metas: done, trained: 0 };
  const start = Date.now();
  let finished = 0;
  const index = new Map(todo.map((j, i) => [j.id, i + 1]));
  // Jobs finished per wall-clock second already counts the parallel lanes.
  const etaText = () => (finished === 0 ? '' : `  ETA ${formatDuration(((Date.now() - start) / finished) * (todo.length - finished))}`);
  const onProgress = (job: AdapterJob, p: JobProgress) => {
    if (opts.quiet || p.validLoss === undefined) return;
    log(`[${opts.label} ${index.get(job.id)}/${todo.length}] ${job.id}  step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(3)}  valid ${p.validLoss.toFixed(3)}${etaText()}`);
  };
  const onDone = (job: AdapterJob, { meta, timing }: TrainedAdapter) => {
    finished++;
    done.set(job.id, meta);
    if (!opts.quiet) {
      const m = meta.metrics;
      log(`[${opts.label} ${index.get(job.id)}/${todo.length}] ${job.id}  done: test loss ${m.baseTestLoss.toFixed(3)} (base) → ${m.testLoss.toFixed(3)}, ${m.steps} steps, ${Math.round(timing.tokensPerSecond)} tok/s, ${formatDuration(timing.seconds * 1000)}${etaText()}`);
    }
  };
  const worker = compiledWorker();
  if (worker && opts.concurrency > 1 && todo.length > 1) {
    try {
      await runInWorkers<AdapterJob, JobProgress, TrainedAdapter>(todo, { workerScript: worker, concurrency: opts.concurrency, onProgress, onDone });
    } catch (err) {
      if (err instanceof JobFailedError && err.inputError) throw new QuiverInputError(err.message);
      throw err;
    }
  } else {
    for (const job of todo) onDone(job, await trainAdapterJob(job, (p) => onProgress(job, p)));
  }
  return { metas: done, trained: todo.length };
}
