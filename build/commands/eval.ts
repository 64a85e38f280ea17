import { InvalidArgumentError, Option, type Command } from 'commander';
import { availableParallelism } from 'node:os';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_ROUTING, type RoutingDefaults } from '../../shared/manifest/schema.js';
import { parsePositiveInt, parsePositiveNumber, parseVotes } from '../cli-options.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { BACKEND_NAMES, type BackendName } from '../model/backend.js';
import { readLibraryIndex } from '../io/library-index.js';
import { formatDuration } from '../progress.js';
import { EVAL_FILE } from '../eval/eval-report.js';
import { isSystemId, SYSTEM_IDS, type SystemId } from '../eval/eval-systems.js';
import { formatEvalMarkdown, formatEvalTable } from '../eval/eval-table.js';
import { renderReportHtml } from '../eval/report-html.js';
import { runEval, type EvalRun } from '../eval/run-eval.js';
import { HEATMAP_FILE } from './cluster.js';
import { parseBackend } from './pretrain.js';

export const REPORT_FILE = 'report.html';
export const SUMMARY_FILE = 'eval.md';

export interface EvalCommandOptions extends Pick<RoutingDefaults, 'topK' | 'temperature' | 'votes'> {
  out?: string;
  tasksSuite?: string;
  heldout?: string;
  limit?: number;
  jobs: number;
  maxNewTokens: number;
  systems: SystemId[];
  tasks?: string[];
  backend?: BackendName;
  quiet?: boolean;
}

export const EVAL_DEFAULTS = {
  // The manifest's defaults (DEFAULT_ROUTING), so that eval's request-level systems route as the
  // edge does with a manifest compiled by default.
  topK: DEFAULT_ROUTING.topK,
  temperature: DEFAULT_ROUTING.temperature,
  votes: DEFAULT_ROUTING.votes,
  // The suite's answers are at most 12 bytes; 16 leaves room for a model that runs on.
  maxNewTokens: 16,
} as const;

function parseSystems(value: string): SystemId[] {
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ids.filter((s) => !isSystemId(s));
  if (bad.length > 0 || ids.length === 0) throw new InvalidArgumentError(`unknown system${bad.length > 1 ? 's' : ''} ${bad.join(', ') || '(none given)'}: choose from ${SYSTEM_IDS.join(', ')}.`);
  return SYSTEM_IDS.filter((s) => ids.includes(s)); // canonical order
}

function parseList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** `quiver eval`: scores the systems on the library's tasks and the held-out ones; writes eval.json, report.html and eval.md (the summary as Markdown). */
export async function runEvalCommand(library: string, opts: EvalCommandOptions): Promise<EvalRun & { files: string[] }> {
  const libraryDir = resolve(library);
  const run = await runEval({
    libraryDir,
    suite: opts.tasksSuite,
    heldout: opts.heldout,
    limit: opts.limit,
    tasks: opts.tasks,
    systems: opts.systems,
    jobs: Math.max(1, opts.jobs),
    settings: { topK: opts.topK, temperature: opts.temperature, votes: opts.votes, maxNewTokens: opts.maxNewTokens, samples: 3 },
    backend: opts.backend,
    quiet: opts.quiet,
  });
  const outDir = resolve(opts.out ?? join(libraryDir, 'eval'));
  await mkdir(outDir, { recursive: true });
  const readOptional = (p: string) => readFile(p, 'utf8').catch(() => null);
  const index = await readLibraryIndex(libraryDir);
  const html = renderReportHtml(run.report, {
    similaritySvg: await readOptional(join(libraryDir, 'clusters', HEATMAP_FILE)),
    clusters: index.clusters,
    adapters: index.tasks.map((t) => ({ id: t.name, family: t.family })),
  });
  const files = [join(outDir, EVAL_FILE), join(outDir, REPORT_FILE), join(outDir, SUMMARY_FILE)];
  await writeFileAtomic(files[0]!, JSON.stringify(run.report, null, 2) + '\n');
  await writeFileAtomic(files[1]!, html);
  await writeFileAtomic(files[2]!, formatEvalMarkdown(run.report) + '\n');
  return { ...run, files };
}

export function registerEvalCommand(program: Command): void {
  const d = EVAL_DEFAULTS;
  program
    .command('eval')
    .description(
      'Evaluate a trained library: base, μ-merges, Arrow per token (the paper) and per request (what the edge serves), MBC and the oracle, ' +
        'on every training task\'s test split and on the held-out tasks. Prints the table; writes eval.json, report.html and eval.md (the summary in Markdown).',
    )
    .argument('<library>', 'library folder (library.json, as quiver train writes it)')
    .option('-o, --out <dir>', 'output folder (default: <library>/eval)')
    .option('--tasks-suite <file>', "suite.json naming the held-out tasks' families (default: the one in the library's task folder, data/tasks/suite.json, if any)")
    .option('--heldout <dir>', 'folder of held-out tasks, each <task>.jsonl or <task>/test.jsonl (default: heldout/ beside the suite\'s folder, data/heldout, if it exists)')
    .option('--limit <n>', 'score only the first n test examples of each task (quick runs)', parsePositiveInt)
    .option('-j, --jobs <n>', 'worker processes (one task at a time each)', parsePositiveInt, availableParallelism())
    .option('--top-k <k>', 'Arrow: adapters kept per token, and merged per request by private-req-topk', parsePositiveInt, d.topK)
    .option('--temperature <t>', 'Arrow: softmax temperature over the kept logits', parsePositiveNumber, d.temperature)
    .option('--votes <unit>', 'request-level Arrow: one vote per input site (site) or per routed module (module), as the compiled manifest counts', parseVotes, d.votes)
    .option('--max-new-tokens <n>', 'greedy generation stops at <eos> or after this many tokens', parsePositiveInt, d.maxNewTokens)
    .addOption(new Option('--systems <list>', `comma-separated systems to run, of ${SYSTEM_IDS.join(', ')}`).argParser(parseSystems).default([...SYSTEM_IDS], 'all'))
    .option('--tasks <list>', 'comma-separated tasks to score (default: all)', parseList)
    .option('--backend <name>', `force a TensorFlow.js backend (${BACKEND_NAMES.join(', ')})`, parseBackend)
    .option('-q, --quiet', 'no progress lines')
    .action(async (library: string, opts: EvalCommandOptions) => {
      const run = await runEvalCommand(library, opts);
      process.stdout.write(formatEvalTable(run.report) + '\n');
      const perSystem = Object.entries(run.systemSeconds)
        .map(([s, sec]) => `${s} ${formatDuration(sec * 1000)}`)
        .join(', ');
      process.stdout.write(`wrote ${run.files.join(', ')} in ${formatDuration(run.seconds * 1000)} (work per system: ${perSystem})\n`);
    });
}
