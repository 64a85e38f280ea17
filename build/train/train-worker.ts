/**
 * Child-process entry of `quiver train`: receives one AdapterJob, trains it, reports progress and
 * the result over IPC (build/worker-pool.ts), then exits.
 */
import { QuiverInputError } from '../../shared/errors.js';
import type { AdapterJob, JobProgress } from './adapter-job.js';
import { trainAdapterJob, type TrainedAdapter } from './adapter-trainer.js';
import type { WorkerMessage } from '../worker-pool.js';

type Msg = WorkerMessage<JobProgress, TrainedAdapter>;
const send = (m: Msg) => new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));

// The parent died or was killed: stop too, rather than train on as an orphan. The adapter folder
// is written atomically, so nothing half-written stays behind.
process.once('disconnect', () => process.exit(1));

process.once('message', async (job: AdapterJob) => {
  try {
    const trained = await trainAdapterJob(job, (progress) => void send({ type: 'progress', progress }));
    await send({ type: 'done', result: trained });
  } catch (err) {
    await send({ type: 'error', message: err instanceof Error ? err.message : String(err), inputError: err instanceof QuiverInputError });
  }
  process.removeAllListeners('disconnect');
  process.disconnect();
});
