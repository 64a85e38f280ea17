import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../../shared/canonical-json.js';
import { sha256Text } from '../io/file-hash.js';
import { CONFIG_FILE } from '../model/checkpoint.js';
import { QuiverInputError } from '../../shared/errors.js';
import { decodeUtf8Text } from '../../shared/utf8-text.js';
import { formatZodError } from '../../shared/zod-error.js';
import { readJsonFile } from '../io/read-json-file.js';
import { parsePositiveInt, parsePositiveNumber, parseNonNegativeInt } from '../cli-options.js';
import { BACKEND_NAMES, selectBackend, type BackendName } from '../model/backend.js';
import { formatDuration } from '../progress.js';
import { pretrainBase, type PretrainResult } from '../train/pretrain.js';
import { PretrainConfig } from '../train/pretrain-config.js';
import { loadTaskSet } from '../train/task-set.js';

export type PretrainCommandOptions = z.input<typeof PretrainConfig> & {
  out: string;
  tasks: string;
  corpus: string;
  jobs: number;
  backend?: BackendName;
  quiet?: boolean;
};

export const PRETRAIN_PATHS = {
  tasks: 'data/tasks',
  corpus: 'data/corpus/sotu.txt',
} as const;

export function parseBackend(value: string): BackendName {
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${BACKEND_NAMES.join(', ')}.`);
  return value as BackendName;
}

/** The training text: corpus lines plus the training tasks' inputs (train split only, no outputs). */
export async function pretrainingLines(corpusPath: string, tasksDir: string): Promise<{ lines: string[]; corpus: number; inputs: number }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(corpusPath);
  } catch {
    throw new QuiverInputError('cannot read the corpus (a text file, one passage per line)', corpusPath);
  }
  const text = decodeUtf8Text(bytes, corpusPath);
  const corpus = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const inputs = (await loadTaskSet(tasksDir)).flatMap((t) => t.splits.train.map((x) => x.input));
  return { lines: [...corpus, ...inputs], corpus: corpus.length, inputs: inputs.length };
}

/**
 * What decides a pretraining run's result: the settings and the text. Paths are left out (the
 * text itself is hashed, wherever it lives); a checkpoint that records this hash is not redone.
 */
export function pretrainRunHash(config: PretrainConfig, lines: readonly string[]): string {
  return sha256Text(canonicalJson({ settings: config, lines: sha256Text(lines.join('\n')) }));
}

/** The part of a checkpoint's config.json that says how quiver pretrain made it. */
const PretrainRecord = z.looseObject({ quiver_pretrain: z.looseObject({ hash: z.string(), finalLoss: z.number() }).optional() });

/** The `quiver_pretrain` record of an existing checkpoint in `dir`, if any. */
async function previousPretrain(dir: string): Promise<{ hash: string; finalLoss: number } | null> {
  const config = await readJsonFile(join(dir, CONFIG_FILE), PretrainRecord, { missing: null });
  return config?.quiver_pretrain ?? null;
}

export interface RunPretrainOptions {
  out: string;
  tasks: string;
  corpus: string;
  config: PretrainConfig;
  /** Processes computing each step (data-parallel; the result does not depend on it). Default 1. */
  jobs?: number;
  backend?: BackendName;
  quiet?: boolean;
}

export type PretrainRun = ({ skipped: true } | ({ skipped: false } & PretrainResult)) & { finalLoss: number };

/**
 * `quiver pretrain` without the command line: pretrains `out` unless it already holds a checkpoint
 * made with these settings and this text (then `skipped`).
 */
export async function runPretrain(opts: RunPretrainOptions): Promise<PretrainRun> {
  const backend = await selectBackend(opts.backend);
  const text = await pretrainingLines(opts.corpus, opts.tasks);
  const runHash = pretrainRunHash(opts.config, text.lines);
  const previous = await previousPretrain(opts.out);
  if (previous?.hash === runHash) return { skipped: true, finalLoss: previous.finalLoss };
  process.stderr.write(`pretraining on ${text.corpus} corpus lines + ${text.inputs} task inputs\n`);
  const start = Date.now();
  const r = await pretrainBase({
    outDir: opts.out,
    lines: text.lines,
    config: opts.config,
    runHash,
    jobs: opts.jobs ?? 1,
    backend: backend.name,
    onProgress: opts.quiet
      ? undefined
      : (p) => {
          const elapsed = Date.now() - start;
          process.stderr.write(
            `[${p.step}/${p.steps}] loss ${p.loss.toFixed(3)}  ${Math.round(p.tokensPerSecond)} tok/s  ${formatDuration(elapsed)}  ETA ${formatDuration((elapsed / p.step) * (p.steps - p.step))}\n`,
          );
        },
  });
  return { skipped: false, ...r };
}

export function registerPretrainCommand(program: Command): void {
  const d = PretrainConfig.parse({});
  program
    .command('pretrain')
    .description(
      'Pretrain a small byte-level Llama base model from scratch on a text corpus plus the training tasks\' inputs ' +
        '(never their outputs), and save it as a Hugging Face checkpoint (config.json, model.safetensors, tokenizer.json).',
    )
    .requiredOption('-o, --out <dir>', 'checkpoint folder to write')
    .option('--tasks <dir>', 'task folder whose training inputs join the text', PRETRAIN_PATHS.tasks)
    .option('--corpus <file>', 'plain-text corpus, one passage per line', PRETRAIN_PATHS.corpus)
    .option('--hidden <n>', 'hidden size d', parsePositiveInt, d.hidden)
    .option('--layers <n>', 'decoder layers', parsePositiveInt, d.layers)
    .option('--heads <n>', 'attention heads', parsePositiveInt, d.heads)
    .option('--intermediate <n>', 'SwiGLU width', parsePositiveInt, d.intermediate)
    .option('--context <n>', 'maximum sequence length in tokens (bytes + 2)', parsePositiveInt, d.context)
    .option('--steps <n>', 'optimizer steps', parsePositiveInt, d.steps)
    .option('--batch-size <n>', 'sequences per step', parsePositiveInt, d.batchSize)
    .option('--lr <lr>', 'peak learning rate (warm-up 6%, then linear decay)', parsePositiveNumber, d.lr)
    .option('--seed <n>', 'seed of the initialisation and data order', parseNonNegativeInt, d.seed)
    .option('--model-id <id>', 'the id adapters name as their base_model_name_or_path (default: quiver/byte-llama-d<hidden>-l<layers>)')
    .option('-j, --jobs <n>', 'processes computing each step, one per core (the weights come out the same for any number)', parsePositiveInt, availableParallelism())
    .option('--backend <name>', `force a TensorFlow.js backend (${BACKEND_NAMES.join(', ')})`, parseBackend)
    .option('-q, --quiet', 'no progress lines')
    .action(async (opts: PretrainCommandOptions) => {
      const { out, tasks, corpus, jobs, backend, quiet, ...settings } = opts;
      const parsed = PretrainConfig.safeParse(settings);
      if (!parsed.success) throw new QuiverInputError(formatZodError(parsed.error), 'options');
      const r = await runPretrain({ out, tasks, corpus, config: parsed.data, jobs, ...(backend ? { backend } : {}), ...(quiet ? { quiet } : {}) });
      if (r.skipped) {
        process.stdout.write(`${out} is already pretrained with these settings and data (loss ${r.finalLoss.toFixed(3)}): nothing to do\n`);
        return;
      }
      process.stdout.write(
        [
          `wrote ${out}`,
          `  model     d ${r.config.hiddenSize}, ${r.config.numHiddenLayers} layers, ${r.config.numAttentionHeads} heads, vocab ${r.config.vocabSize}, context ${r.config.maxPositionEmbeddings}`,
          `  loss      ${r.firstLoss.toFixed(3)} → ${r.finalLoss.toFixed(3)} (nats per byte)`,
          `  speed     ${Math.round(r.tokensPerSecond)} tokens/s`,
          `  time      ${formatDuration(r.seconds * 1000)}`,
        ].join('\n') + '\n',
      );
    });
}
