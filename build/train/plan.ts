/**
 * What `quiver train` has to do: one private job per task, then (once every private adapter
 * exists) one MBC job per cluster. Each job's hash covers everything that decides its result —
 * the training config, the base checkpoint's bytes, the task data, the task list — so a rerun
 * skips exactly the adapters that are already done for these inputs.
 */
import { join } from 'node:path';
import { canonicalJson } from '../../shared/canonical-json.js';
import { sha256File, sha256Text } from '../io/file-hash.js';
import { CONFIG_FILE, WEIGHTS_FILE } from '../model/checkpoint.js';
import type { AdapterJob } from './adapter-job.js';
import type { LoadedTask } from './task-set.js';
import type { TrainConfig } from './train-config.js';

export interface PlanContext {
  baseDir: string;
  tasksDir: string;
  outDir: string;
  config: TrainConfig;
  baseHash: string;
  dataHashes: Map<string, string>;
  backend?: string;
}

export async function baseCheckpointHash(baseDir: string): Promise<string> {
  return sha256Text((await sha256File(join(baseDir, CONFIG_FILE))) + (await sha256File(join(baseDir, WEIGHTS_FILE))));
}

export function taskDataHash(task: LoadedTask): string {
  return sha256Text(canonicalJson(task.splits));
}

function job(ctx: PlanContext, kind: AdapterJob['kind'], id: string, tasks: string[], outDir: string, config: TrainConfig): AdapterJob {
  const jobHash = sha256Text(
    canonicalJson({ kind, tasks, config, base: ctx.baseHash, data: tasks.map((t) => ctx.dataHashes.get(t)!) }),
  );
  return { kind, id, tasks, outDir, baseDir: ctx.baseDir, tasksDir: ctx.tasksDir, config, jobHash, ...(ctx.backend ? { backend: ctx.backend } : {}) };
}

export function privateJobs(ctx: PlanContext, tasks: readonly LoadedTask[]): AdapterJob[] {
  return tasks.map((t) => job(ctx, 'private', t.name, [t.name], join(ctx.outDir, 'private', t.name), ctx.config));
}

export function mbcJobs(ctx: PlanContext, clusters: ReadonlyArray<{ id: string; tasks: string[] }>, config: TrainConfig): AdapterJob[] {
  return clusters.map((c) => job(ctx, 'mbc', c.id, c.tasks, join(ctx.outDir, 'mbc', c.id), config));
}
