/**
 * Child-process entry of `quiver eval`: receives one EvalJob, reports each (system, task) result
 * as it finishes and the job's result at the end over IPC (build/worker-pool.ts), then exits.
 */
import { QuiverInputError } from '../../shared/errors.js';
import type { WorkerMessage } from '../worker-pool.js';
import { runEvalJob, type EvalJob, type EvalJobResult, type SystemTaskResult } from './eval-job.js';

type Msg = WorkerMessage<SystemTaskResult, EvalJobResult>;
const send = (m: Msg) => new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));

// The parent died or was killed: stop too.
process.once('disconnect', () => process.exit(1));

process.once('message', async (job: EvalJob) => {
  try {
    const result = await runEvalJob(job, (progress) => void send({ type: 'progress', progress }));
    await send({ type: 'done', result });
  } catch (err) {
    await send({ type: 'error', message: err instanceof Error ? err.message : String(err), inputError: err instanceof QuiverInputError });
  }
  process.removeAllListeners('disconnect');
  process.disconnect();
});
