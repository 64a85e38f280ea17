import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { formatZodError } from '../../shared/zod-error.js';
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber, parseUnitInterval } from '../cli-options.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { BACKEND_NAMES, computesOnOneCore, selectBackend, type BackendName } from '../model/backend.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { formatDuration } from '../progress.js';
import { finishedAdapter, type AdapterJob, type AdapterMeta } from '../train/adapter-job.js';
import { LIBRARY_FILE, LibraryIndex, readLibraryIndex } from '../io/library-index.js';
import { formatLibrarySummary } from '../train/library-summary.js';
import { baseCheckpointHash, mbcJobs, privateJobs, taskDataHash, type PlanContext } from '../train/plan.js';
import { runAdapterJobs } from '../train/run-jobs.js';
import { inShard, parseShard, type Shard } from '../train/shard.js';
import { loadTaskSet } from '../train/task-set.js';
import { fitsContext } from '../train/encode-examples.js';
import { TrainConfig } from '../train/train-config.js';
import { readJsonFile } from '../io/read-json-file.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import { MBC_DEFAULTS } from '../../shared/mbc/mbc.js';
import { runCluster } from './cluster.js';
import { parseBackend } from './pretrain.js';

/** Commander's options: TrainConfig's fields that have a flag (target modules as one comma-separated string), and the library's own. */
export interface TrainCommandOptions extends Pick<TrainConfig, 'r' | 'loraAlpha' | 'loraDropout' | 'init' | 'initExamples' | 'lr' | 'epochs' | 'batchSize' | 'maxSteps' | 'evalEvery' | 'patience' | 'seed'> {
  base: string;
  tasks: string;
  out: string;
  targetModules: string;
  mbcEpochs: number;
  k: number;
  jobs: number;
  shard?: Shard;
  backend?: BackendName;
  quiet?: boolean;
  /** Retrain in place a library that was built with another configuration. */
  force?: boolean;
}

export interface TrainSummary {
  complete: boolean;
  libraryPath: string | null;
  privateTrained: number;
  mbcTrained: number;
  seconds: number;
}

const rel = (from: string, to: string) => relative(from, to) || '.';

/** `known` plus every job of `jobs` whose finished adapter is on disk. */
async function withFinished(jobs: readonly AdapterJob[], known: ReadonlyMap<string, AdapterMeta>): Promise<Map<string, AdapterMeta>> {
  const out = new Map(known);
  for (const j of jobs) {
    if (out.has(j.id)) continue;
    const meta = await finishedAdapter(j.outDir, j.jobHash);
    if (meta) out.set(j.id, meta);
  }
  return out;
}

/** `lr 0.003 → 0.0001`: the fields of `want` that differ from `had`. */
function configChanges(had: TrainConfig, want: TrainConfig, prefix = ''): string[] {
  return (Object.keys(want) as Array<keyof TrainConfig>)
    .filter((k) => canonicalJson(had[k]) !== canonicalJson(want[k]))
    .map((k) => `${prefix}${k} ${canonicalJson(had[k])} → ${canonicalJson(want[k])}`);
}

/**
 * A rerun with the library's own configuration resumes; one with another would retrain the
 * adapters in place and overwrite the library, so it needs --force.
 */
async function refuseOtherConfiguration(outDir: string, config: TrainConfig, mbcConfig: TrainConfig): Promise<void> {
  const existing = await readJsonFile(join(outDir, LIBRARY_FILE), LibraryIndex, { missing: null });
  if (!existing) return;
  const own = configChanges(existing.config, config);
  // An MBC field that changed with the private config is named once.
  const changes = [...own, ...configChanges(existing.mbcConfig, mbcConfig, 'MBC ').filter((c) => !own.includes(c.slice('MBC '.length)))];
  if (changes.length === 0) return;
  throw new QuiverInputError(
    `holds a library trained with another configuration (${changes.join(', ')}); training into it would retrain its adapters in place. Pass --force to do that, or --out another folder`,
    outDir,
  );
}

/** What trainLibrary needs: the command's options with the hyper-parameters parsed. */
export interface TrainLibraryOptions extends Omit<TrainCommandOptions, keyof TrainConfig | 'targetModules'> {
  config: TrainConfig;
}

/** `quiver train`'s options → TrainConfig (errors name the option), then trainLibrary. */
export async function runTrain(opts: TrainCommandOptions): Promise<TrainSummary> {
  const parsedConfig = TrainConfig.safeParse({
    r: opts.r,
    loraAlpha: opts.loraAlpha,
    loraDropout: opts.loraDropout,
    targetModules: opts.targetModules.split(',').map((s) => s.trim()).filter(Boolean),
    init: opts.init,
    initExamples: opts.initExamples,
    lr: opts.lr,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    maxSteps: opts.maxSteps,
    evalEvery: opts.evalEvery,
    patience: opts.patience,
    seed: opts.seed,
  });
  if (!parsedConfig.success) throw new QuiverInputError(formatZodError(parsedConfig.error), 'options');
  return trainLibrary({ ...opts, config: parsedConfig.data });
}

/**
 * `quiver train`: private adapters (one per task) → MBC clustering of their weights → one adapter
 * per cluster from a fresh init → library.json. Resumable and shardable (build/train/plan.ts).
 */
export async function trainLibrary(opts: TrainLibraryOptions): Promise<TrainSummary> {
  const start = Date.now();
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const { config } = opts;
  const mbcConfig = { ...config, epochs: opts.mbcEpochs };
  const baseDir = resolve(opts.base);
  const tasksDir = resolve(opts.tasks);
  const outDir = resolve(opts.out);
  if (!opts.force) await refuseOtherConfiguration(outDir, config, mbcConfig);
  // The workers pick the same backend; this prints it once.
  const backend = await selectBackend(opts.backend);
  // Load once here: a bad checkpoint or a bad task line fails before any worker starts.
  const base = await loadCheckpoint(baseDir);
  const baseModel = base.modelId;
  base.model.dispose();
  // Every example must fit the base model's context; one that does not is refused by file and line.
  const tasks = await loadTaskSet(tasksDir, { check: fitsContext(base.tokenizer, base.config.maxPositionEmbeddings) });
  const ctx: PlanContext = {
    baseDir,
    tasksDir,
    outDir,
    config,
    baseHash: await baseCheckpointHash(baseDir),
    dataHashes: new Map(tasks.map((t) => [t.name, taskDataHash(t)])),
    ...(opts.backend ? { backend: opts.backend } : {}),
  };
  await mkdir(outDir, { recursive: true });
  // One process per core for backends that compute on one; tfjs-node threads itself, and processes
  // on one GPU would each claim its memory (README, "On a GPU").
  const concurrency = computesOnOneCore(backend.name) ? Math.max(1, opts.jobs) : 1;
  const shardText = opts.shard ? ` (shard ${opts.shard.index}/${opts.shard.count})` : '';
  log(`training ${tasks.length} tasks from ${rel(process.cwd(), tasksDir)} on ${baseModel}, ${concurrency} worker${concurrency > 1 ? 's' : ''}${shardText}`);

  const allPrivate = privateJobs(ctx, tasks);
  const privateRun = await runAdapterJobs(inShard(allPrivate, opts.shard), { label: 'private', concurrency, quiet: opts.quiet });
  // Adapters trained by other shards (or earlier runs) count too: clustering needs all of them.
  const privateDone = await withFinished(allPrivate, privateRun.metas);
  const summary = { privateTrained: privateRun.trained, mbcTrained: 0 };
  if (privateDone.size < allPrivate.length) {
    log(`${privateDone.size} of ${allPrivate.length} private adapters exist; run again once every shard has finished (or without --shard) to cluster them and train the MBC adapters`);
    return { complete: false, libraryPath: null, ...summary, seconds: (Date.now() - start) / 1000 };
  }

  const privateDirs = allPrivate.map((j) => j.outDir);
  let clusters: Array<{ id: string; tasks: string[] }>;
  if (privateDirs.length < 2) clusters = [{ id: 'cluster-0', tasks: tasks.map((t) => t.name) }];
  else {
    const k = Math.max(1, Math.min(opts.k, privateDirs.length - 1));
    if (k !== opts.k) log(`--k ${opts.k} is too many for ${privateDirs.length} tasks: using ${k}`);
    const c = await runCluster(privateDirs, { out: join(outDir, 'clusters'), k, seed: config.seed, ...MBC_DEFAULTS, quiet: true });
    clusters = c.clusters.clusters.map((cl) => ({ id: cl.id, tasks: cl.adapters }));
    log(`MBC: ${clusters.length} clusters: ${clusters.map((cl) => `${cl.id} = {${cl.tasks.join(', ')}}`).join('; ')}`);
  }
  const allMbc = mbcJobs(ctx, clusters, mbcConfig);
  const mbcRun = await runAdapterJobs(inShard(allMbc, opts.shard), { label: 'mbc', concurrency, quiet: opts.quiet });
  summary.mbcTrained = mbcRun.trained;
  const mbcDone = await withFinished(allMbc, mbcRun.metas);
  if (mbcDone.size < allMbc.length) {
    log(`${mbcDone.size} of ${allMbc.length} MBC adapters exist; run again once every shard has finished (or without --shard) to finish the library`);
    return { complete: false, libraryPath: null, ...summary, seconds: (Date.now() - start) / 1000 };
  }

  const clusterOf = new Map(clusters.flatMap((c) => c.tasks.map((t) => [t, c.id] as const)));
  const index: LibraryIndex = {
    format: 'quiver.library',
    version: 1,
    base: rel(outDir, baseDir),
    baseModel,
    tasksDir: rel(outDir, tasksDir),
    config,
    mbcConfig,
    tasks: tasks.map((t) => {
      const j = allPrivate.find((x) => x.id === t.name)!;
      return { name: t.name, family: t.family, adapter: rel(outDir, j.outDir), cluster: clusterOf.get(t.name) ?? null, metrics: privateDone.get(t.name)!.metrics };
    }),
    clusters: clusters.map((c) => {
      const j = allMbc.find((x) => x.id === c.id)!;
      return { id: c.id, tasks: c.tasks, adapter: rel(outDir, j.outDir), metrics: mbcDone.get(c.id)!.metrics };
    }),
  };
  const checked = LibraryIndex.parse(index);
  const libraryPath = join(outDir, LIBRARY_FILE);
  await writeFileAtomic(libraryPath, JSON.stringify(checked, null, 2) + '\n');
  return { complete: true, libraryPath, ...summary, seconds: (Date.now() - start) / 1000 };
}

/** quiver train's own defaults; each adapter's hyper-parameters default as TrainConfig says (the shipped library's configuration). */
export const LIBRARY_DEFAULTS = {
  base: 'library/base',
  tasks: 'data/tasks',
  out: 'library',
  // The paper clusters its 256 tasks into 10; 10 keeps that ratio's spirit for our ~30.
  k: 10,
  // One pass over a cluster's union of training splits: a cluster of n tasks gets n times a task's
  // steps per pass. The shipped library's MBC adapters were trained so.
  mbcEpochs: 1,
} as const;

export function registerTrainCommand(program: Command): void {
  const d = TrainConfig.parse({});
  const t = LIBRARY_DEFAULTS;
  program
    .command('train')
    .description(
      'Train the library: one private LoRA per task (early stopping on validation loss), MBC clustering of their weights, ' +
        'then one LoRA per cluster on the union of its tasks, from a fresh init. Writes PEFT folders and library.json. ' +
        'Resumable: a rerun skips adapters already trained with the same config, base and data.',
    )
    .option('--base <dir>', 'base model: a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json)', t.base)
    .option('--tasks <dir>', 'task folder: <task>.jsonl files or <task>/{train,valid,test}.jsonl folders', t.tasks)
    .option('-o, --out <dir>', 'library folder to write (private/, clusters/, mbc/, library.json)', t.out)
    .option('--r <r>', 'LoRA rank', parsePositiveInt, d.r)
    .option('--lora-alpha <a>', 'LoRA alpha (scale alpha/r)', parsePositiveNumber, d.loraAlpha)
    .option('--lora-dropout <p>', 'dropout on the LoRA input', parseUnitInterval, d.loraDropout)
    .option('--target-modules <list>', 'comma-separated projections to wrap', d.targetModules.join(','))
    .option('--init <how>', `how each LoRA's A starts: ${TrainConfig.shape.init.unwrap().options.join(', ')} (eva: the top singular vectors of the task's module inputs)`, d.init)
    .option('--init-examples <n>', 'training prompts the eva init reads', parsePositiveInt, d.initExamples)
    .option('--lr <lr>', 'peak learning rate (6% warm-up, linear decay)', parsePositiveNumber, d.lr)
    .option('--epochs <n>', 'passes over each task\'s training split', parsePositiveNumber, d.epochs)
    .option('--mbc-epochs <n>', 'passes over a cluster\'s union of training splits', parsePositiveNumber, t.mbcEpochs)
    .option('--batch-size <n>', 'examples per step', parsePositiveInt, d.batchSize)
    .option('--max-steps <n>', 'cap on steps per adapter', parsePositiveInt, d.maxSteps)
    .option('--eval-every <n>', 'steps between validation checks', parsePositiveInt, d.evalEvery)
    .option('--patience <n>', 'stop after this many validation checks without improvement', parsePositiveInt, d.patience)
    .option('--seed <n>', 'seed of initialisation, dropout, data order and clustering', parseNonNegativeInt, d.seed)
    .option('--k <k>', 'number of MBC clusters (capped at tasks − 1)', parsePositiveInt, t.k)
    .option('-j, --jobs <n>', 'adapters trained at once, one process each', parsePositiveInt, availableParallelism())
    .option('--shard <i/N>', 'train only shard i of N (deterministic); a later run without --shard finishes the library', parseShard)
    .option('--backend <name>', `force a TensorFlow.js backend (${BACKEND_NAMES.join(', ')})`, parseBackend)
    .option('--force', 'train into a library built with another configuration, retraining its adapters in place')
    .option('-q, --quiet', 'no progress lines')
    .action(async (opts: TrainCommandOptions) => {
      const s = await runTrain(opts);
      if (s.complete && !opts.quiet) {
        const index = await readLibraryIndex(resolve(opts.out));
        process.stdout.write(`${formatLibrarySummary(index)}\n\n`);
      }
      process.stdout.write(
        s.complete
          ? `wrote ${s.libraryPath}: ${s.privateTrained} private and ${s.mbcTrained} MBC adapters trained in ${formatDuration(s.seconds * 1000)}\n`
          : `partial library in ${resolve(opts.out)}: ${s.privateTrained} private and ${s.mbcTrained} MBC adapters trained in ${formatDuration(s.seconds * 1000)}\n`,
      );
    });
}
