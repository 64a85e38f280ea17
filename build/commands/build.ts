import { InvalidArgumentError, type Command } from 'commander';
import { availableParallelism } from 'node:os';
import { parsePositiveInt } from '../cli-options.js';
import { BACKEND_NAMES, type BackendName } from '../model/backend.js';
import { BUILD_CONFIG_FILE } from '../pipeline/build-config.js';
import { STAGES, type StageName } from '../pipeline/build-record.js';
import { runBuild } from '../pipeline/run-build.js';
import { formatDuration } from '../progress.js';
import { formatLibrarySummary } from '../train/library-summary.js';
import { parseShard, type Shard } from '../train/shard.js';
import { parseBackend } from './pretrain.js';

interface BuildCommandOptions {
  config: string;
  shard?: Shard;
  stages?: StageName[];
  redo?: StageName[];
  force?: boolean;
  jobs: number;
  backend?: BackendName;
  quiet?: boolean;
}

function parseStages(value: string): StageName[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !(STAGES as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0) throw new InvalidArgumentError(`"${value}" is not a list of stages (${STAGES.join(', ')}).`);
  return STAGES.filter((s) => names.includes(s));
}

/** `quiver build`: the whole library from one config file (build/pipeline/run-build.ts). */
export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description(
      'Build a library from one config file: pretrain → train → compile → eval, each stage resumable (done work is skipped). ' +
        'Writes <out>/build.json, the sha256 of every file each stage made. See README, "quiver build", for the file.',
    )
    .option('-c, --config <file>', 'the build config (paths in it are relative to the file)', BUILD_CONFIG_FILE)
    .option('--shard <i/N>', 'train only shard i of N after pretraining, then stop (no build.json); a run without --shard finishes', parseShard)
    .option('--stages <list>', `run only these stages (${STAGES.join(', ')})`, parseStages)
    .option('--redo <list>', 'run these stages even if build.json says they are up to date (compile, eval)', parseStages)
    .option('--force', 'train into a library built with another configuration, retraining its adapters in place')
    .option('-j, --jobs <n>', 'processes for pretrain, train and eval (one per core)', parsePositiveInt, availableParallelism())
    .option('--backend <name>', `force a TensorFlow.js backend (${BACKEND_NAMES.join(', ')})`, parseBackend)
    .option('-q, --quiet', 'no progress lines')
    .action(async (opts: BuildCommandOptions) => {
      const s = await runBuild({
        config: opts.config,
        jobs: opts.jobs,
        ...(opts.shard ? { shard: opts.shard } : {}),
        ...(opts.stages ? { stages: opts.stages } : {}),
        ...(opts.redo ? { redo: opts.redo } : {}),
        ...(opts.force ? { force: true } : {}),
        ...(opts.backend ? { backend: opts.backend } : {}),
        ...(opts.quiet ? { quiet: true } : {}),
      });
      if (s.library && !opts.quiet) process.stdout.write(`${formatLibrarySummary(s.library)}\n\n`);
      const width = Math.max(...s.stages.map((o) => o.stage.length));
      for (const o of s.stages) process.stdout.write(`${o.stage.padEnd(width)}  ${o.status.padEnd(10)}  ${formatDuration(o.seconds * 1000).padStart(8)}  ${o.detail}\n`);
      process.stdout.write(s.record ? `wrote ${s.record}\n` : s.complete ? '' : 'not finished: run quiver build again without --shard once every shard is done\n');
    });
}
