/**
 * `quiver build`: pretrain → train → compile → eval from one config file (build-config.ts), each
 * stage the command's own code (runPretrain, trainLibrary, runCompile, runEvalCommand). Resumable
 * at every level: pretrain skips a base made with the same settings and text, train skips every
 * adapter already trained for the same config, base and data (both by their own hashes), and
 * compile and eval are skipped when build.json records the same inputs and their files are
 * unchanged. `--shard i/N` runs train's shard only (after pretraining, if that is asked for) and
 * writes no build.json: a later run without it finishes the library, then compiles and evaluates.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import { runCompile } from '../commands/compile.js';
import { runEvalCommand } from '../commands/eval.js';
import { runPretrain } from '../commands/pretrain.js';
import { trainLibrary } from '../commands/train.js';
import { SYSTEM_IDS } from '../eval/eval-systems.js';
import { sha256File } from '../io/file-hash.js';
import { LIBRARY_FILE, readLibraryIndex, type LibraryIndex } from '../io/library-index.js';
import type { BackendName } from '../model/backend.js';
import { CONFIG_FILE } from '../model/checkpoint.js';
import { formatDuration } from '../progress.js';
import type { Shard } from '../train/shard.js';
import { readBuildConfig, type ResolvedBuildConfig } from './build-config.js';
import { BUILD_RECORD_FILE, inputsHash, readBuildRecord, STAGES, writeBuildRecord, type BuildRecord, type StageName, type StageRecord } from './build-record.js';
import { checksumsHold, treeChecksums, type Checksums } from './tree-checksums.js';

export interface RunBuildOptions {
  config: string;
  shard?: Shard;
  /** Only these stages (default: all, in order). */
  stages?: readonly StageName[];
  /** Run compile or eval even when build.json says they are up to date. */
  redo?: readonly StageName[];
  /** Train into a library built with another configuration (quiver train --force). */
  force?: boolean;
  jobs: number;
  backend?: BackendName;
  quiet?: boolean;
  log?: (line: string) => void;
}

export type StageStatus = 'ran' | 'up to date' | 'partial' | 'skipped';

export interface StageOutcome {
  stage: StageName;
  status: StageStatus;
  seconds: number;
  detail: string;
}

export interface BuildSummary {
  /** Every asked-for stage finished (a shard run never is). */
  complete: boolean;
  /** build.json, when written. */
  record: string | null;
  /** library.json, once train has finished the library. */
  library: LibraryIndex | null;
  stages: StageOutcome[];
}

/** The files of the library train wrote: library.json, clusters/, every adapter folder it lists. */
async function libraryChecksums(cfg: ResolvedBuildConfig): Promise<Checksums> {
  const index = await readLibraryIndex(cfg.out);
  const dirs = [join(cfg.out, 'clusters'), ...index.tasks.map((t) => resolve(cfg.out, t.adapter)), ...index.clusters.map((c) => resolve(cfg.out, c.adapter))];
  const out: Checksums = { [LIBRARY_FILE]: await sha256File(join(cfg.out, LIBRARY_FILE)) };
  for (const d of dirs) Object.assign(out, await treeChecksums(cfg.out, d));
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function runBuild(opts: RunBuildOptions): Promise<BuildSummary> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cfg = await readBuildConfig(opts.config);
  const asked = (s: StageName) => !opts.stages || opts.stages.includes(s);
  const previous = await readBuildRecord(cfg.out);
  const record: BuildRecord = { format: 'quiver.build', version: 1, config: cfg.parsed, stages: { ...(previous?.stages ?? {}) } };
  const outcomes: StageOutcome[] = [];
  const writesRecord = opts.shard === undefined;
  const save = async () => {
    if (!writesRecord) return;
    await mkdir(cfg.out, { recursive: true });
    await writeBuildRecord(cfg.out, record);
  };
  const stage = async (name: StageName, run: () => Promise<{ status: StageStatus; detail: string; record?: StageRecord }>): Promise<StageStatus> => {
    if (!asked(name)) return 'skipped';
    const start = Date.now();
    log(`== ${name}`);
    const r = await run();
    const seconds = (Date.now() - start) / 1000;
    outcomes.push({ stage: name, status: r.status, seconds, detail: r.detail });
    log(`== ${name}: ${r.status} in ${formatDuration(seconds * 1000)}${r.detail ? ` (${r.detail})` : ''}`);
    if (r.record) {
      record.stages[name] = r.record;
      await save();
    }
    return r.status;
  };
  const common = { ...(opts.backend ? { backend: opts.backend } : {}), ...(opts.quiet ? { quiet: true } : {}) };
  const baseChecksums = () => treeChecksums(cfg.out, cfg.base);
  const dataChecksums = () => treeChecksums(cfg.out, cfg.tasks);

  await stage('pretrain', async () => {
    if (cfg.pretrain === null) {
      await sha256File(join(cfg.base, CONFIG_FILE)).catch(() => {
        throw new QuiverInputError(`"pretrain" is null, so "base" must be a checkpoint folder; ${cfg.base} has no ${CONFIG_FILE}`, cfg.file);
      });
      return { status: 'skipped', detail: `pretrain is null: the base is ${cfg.base}` };
    }
    const r = await runPretrain({ out: cfg.base, tasks: cfg.tasks, corpus: cfg.corpus, config: cfg.pretrain, jobs: opts.jobs, ...common });
    const inputs = inputsHash({ stage: 'pretrain', settings: cfg.pretrain, corpus: await sha256File(cfg.corpus), tasks: await dataChecksums() });
    return { status: r.skipped ? 'up to date' : 'ran', detail: `loss ${r.finalLoss.toFixed(3)}`, record: { inputs, files: await baseChecksums() } };
  });

  const trained = await stage('train', async () => {
    const t = cfg.train;
    const s = await trainLibrary({ base: cfg.base, tasks: cfg.tasks, out: cfg.out, config: t.config, mbcEpochs: t.mbcEpochs, k: t.k, jobs: opts.jobs, ...(opts.shard ? { shard: opts.shard } : {}), ...(opts.force ? { force: true } : {}), ...common });
    const detail = `${s.privateTrained} private and ${s.mbcTrained} MBC adapters trained`;
    if (!s.complete) return { status: 'partial', detail };
    const inputs = inputsHash({ stage: 'train', settings: cfg.parsed.train, base: await baseChecksums(), tasks: await dataChecksums() });
    return { status: s.privateTrained + s.mbcTrained > 0 ? 'ran' : 'up to date', detail, record: { inputs, files: await libraryChecksums(cfg) } };
  });
  if (trained === 'partial' || opts.shard) return { complete: false, record: null, library: null, stages: outcomes };
  const library = asked('train') ? await readLibraryIndex(cfg.out) : null;

  /** A stage that build.json may already hold: skipped when its inputs and files are unchanged. */
  const cached = async (name: StageName, inputs: string, outDir: string, run: () => Promise<string>) => {
    const had = previous?.stages[name];
    if (!opts.redo?.includes(name) && had?.inputs === inputs && (await checksumsHold(cfg.out, had.files))) {
      return { status: 'up to date' as const, detail: `${Object.keys(had.files).length} files unchanged`, record: had };
    }
    const detail = await run();
    return { status: 'ran' as const, detail, record: { inputs, files: await treeChecksums(cfg.out, outDir) } };
  };

  const c = cfg.compile;
  if (c) {
    await stage('compile', async () => {
      const { out, ...settings } = c;
      const inputs = inputsHash({ stage: 'compile', settings: cfg.parsed.compile, library: await libraryChecksums(cfg), base: await baseChecksums() });
      return cached('compile', inputs, out, async () => {
        const s = await runCompile(cfg.out, { out, ...settings, ...common });
        return `${s.adapters.private + s.adapters.mbc} adapters, ${s.modules} modules, embedder ${s.layers} layer(s)`;
      });
    });
  }

  const e = cfg.eval;
  if (e) {
    await stage('eval', async () => {
      const inputs = inputsHash({
        stage: 'eval',
        settings: cfg.parsed.eval,
        heldout: cfg.heldout === null ? null : await treeChecksums(cfg.out, cfg.heldout),
        tasks: await dataChecksums(),
        library: await libraryChecksums(cfg),
        base: await baseChecksums(),
      });
      return cached('eval', inputs, e.out, async () => {
        const run = await runEvalCommand(cfg.out, {
          out: e.out,
          ...(e.suite ? { tasksSuite: e.suite } : {}),
          ...(cfg.heldout ? { heldout: cfg.heldout } : {}),
          ...(e.limit ? { limit: e.limit } : {}),
          jobs: opts.jobs,
          topK: e.topK,
          temperature: e.temperature,
          votes: e.votes,
          maxNewTokens: e.maxNewTokens,
          systems: e.systems ?? [...SYSTEM_IDS],
          ...common,
        });
        return `${run.report.systems.length} systems`;
      });
    });
  }
  const complete = STAGES.every((s) => !asked(s) || outcomes.some((o) => o.stage === s && o.status !== 'partial') || (s === 'compile' && !c) || (s === 'eval' && !e));
  return { complete, record: writesRecord ? join(cfg.out, BUILD_RECORD_FILE) : null, library, stages: outcomes };
}
