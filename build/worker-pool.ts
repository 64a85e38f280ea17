/**
 * Runs independent jobs in child processes, `concurrency` at a time (one per core by default):
 * tfjs-wasm is single-threaded, so processes are how training uses every core. Each job gets a
 * fresh process, so a crash or leak in one job cannot touch the others. Messages a worker sends
 * (`process.send`) reach `onMessage`; its last message must be `{ type: 'done', result }` or
 * `{ type: 'error', message }`.
 */
import { fork, type ChildProcess } from 'node:child_process';

export type WorkerMessage<P, R> =
  | { type: 'progress'; progress: P }
  | { type: 'done'; result: R }
  | { type: 'error'; message: string; inputError: boolean };

export interface PoolOptions<J, P, R> {
  /** Compiled worker module (it reads the job from `process.on('message')`). */
  workerScript: string;
  concurrency: number;
  onProgress?: (job: J, progress: P) => void;
  onDone?: (job: J, result: R) => void;
  /** Extra flags for the worker's node. */
  execArgv?: string[];
}

export class JobFailedError extends Error {
  override readonly name = 'JobFailedError';
  constructor(
    message: string,
    readonly inputError: boolean,
  ) {
    super(message);
  }
}

export async function runInWorkers<J, P, R>(jobs: readonly J[], opts: PoolOptions<J, P, R>): Promise<R[]> {
  const results: R[] = new Array(jobs.length);
  const live = new Set<ChildProcess>();
  let next = 0;
  let failed: Error | null = null;

  const runOne = (job: J): Promise<R> =>
    new Promise((resolve, reject) => {
      const child = fork(opts.workerScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: opts.execArgv ?? [] });
      live.add(child);
      let settled = false;
      child.on('message', (raw) => {
        const msg = raw as WorkerMessage<P, R>;
        if (msg.type === 'progress') opts.onProgress?.(job, msg.progress);
        else if (msg.type === 'done') {
          settled = true;
          resolve(msg.result);
        } else if (msg.type === 'error') {
          settled = true;
          reject(new JobFailedError(msg.message, msg.inputError));
        }
      });
      child.on('error', (err) => {
        if (!settled) reject(err);
        settled = true;
      });
      child.on('exit', (code, signal) => {
        live.delete(child);
        if (!settled) reject(new JobFailedError(`worker exited (${signal ?? `code ${code}`}) before finishing its job`, false));
        settled = true;
      });
      child.send(job as unknown as object);
    });

  const lane = async (): Promise<void> => {
    while (failed === null && next < jobs.length) {
      const i = next++;
      const job = jobs[i]!;
      try {
        results[i] = await runOne(job);
        opts.onDone?.(job, results[i]!);
      } catch (err) {
        failed ??= err as Error;
      }
    }
  };
  const stop = () => {
    for (const c of live) c.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, jobs.length)) }, lane));
  } finally {
    process.off('SIGINT', stop);
    stop();
  }
  if (failed) throw failed;
  return results;
}
