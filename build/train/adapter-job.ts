/**
 * One unit of `quiver train` work: train one adapter (a private one for a task, or an MBC one for
 * a cluster) and write it as a PEFT folder with `quiver_adapter.json` beside the weights. The
 * folder appears atomically, so its existence with a matching `jobHash` means the job is done: a
 * rerun after a kill skips it, and a half-written adapter is never taken as finished.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { AdapterMetrics } from '../io/library-index.js';
import { readJsonFile } from '../io/read-json-file.js';
import type { TrainConfig } from './train-config.js';

export const ADAPTER_META_FILE = 'quiver_adapter.json';

export interface AdapterJob {
  kind: 'private' | 'mbc';
  /** Adapter id: the task name, or the cluster id. */
  id: string;
  /** Tasks whose training data the adapter learns (one for private). */
  tasks: string[];
  outDir: string;
  baseDir: string;
  tasksDir: string;
  config: TrainConfig;
  /** sha256 over everything that determines the result: config, kind, tasks, base and data content. */
  jobHash: string;
  backend?: string;
}

export interface JobProgress {
  step: number;
  totalSteps: number;
  loss: number;
  validLoss?: number;
}

export const AdapterMeta = z.strictObject({
  kind: z.enum(['private', 'mbc']),
  id: z.string(),
  tasks: z.array(z.string()),
  jobHash: z.string(),
  metrics: AdapterMetrics,
  /** Per task of the adapter: answer loss on its test split, base model vs. this adapter. */
  perTaskTest: z.record(z.string(), z.strictObject({ baseLoss: z.number(), loss: z.number() })),
});
export type AdapterMeta = z.infer<typeof AdapterMeta>;

/** The finished adapter's metadata when `dir` holds this very job's result, else null. */
export async function finishedAdapter(dir: string, jobHash: string): Promise<AdapterMeta | null> {
  const meta = await readJsonFile(join(dir, ADAPTER_META_FILE), AdapterMeta, { missing: null });
  return meta?.jobHash === jobHash ? meta : null;
}
