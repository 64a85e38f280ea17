import { InvalidArgumentError, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../../shared/canonical-json.js';
import { sha256Text } from '../io/file-hash.js';
import { CONFIG_FILE } from '../model/checkpoint.js';
import { QuiverInputError } from '../../shared/errors.js';
import { parsePositiveInt, parsePositiveNumber, parseNonNegativeInt } from '../cli-options.js';
import { BACKEND_NAMES, selectBackend, type BackendName } from '../model/backend.js';
import { formatDuration } from '../progress.js';
import { pretrainBase } from '../train/pretrain.js';
import { loadTaskSet } from '../train/task-set.js';

export interface PretrainCommandOptions {
  out: string;
  tasks: string;
  corpus: string;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  context: number;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  modelId?: string;
  backend?: BackendName;
  quiet?: boolean;
}

export const PRETRAIN_DEFAULTS = {
  tasks: 'data/tasks',
  corpus: 'data/corpus/sotu.txt',
  // d 128 × 4 layers, byte vocabulary: small enough to pretrain here in minutes (issue), large
  // enough that rank-4 LoRAs on it learn the suite's tasks.
  hidden: 128,
  layers: 4,
  heads: 4,
  intermediate: 384,
  // Every suite example (≤ 48 + 1 + 12 bytes + specials) fits with room to spare.
  context: 96,
  steps: 1500,
  batchSize: 32,
  lr: 2e-3,
  seed: 0,
} as const;

export function parseBackend(value: string): BackendName {
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${BACKEND_NAMES.join(', ')}.`);
  return value as BackendName;
}

/** The training text: corpus lines plus the training tasks' inputs (train split only, no outputs). */
export async function pretrainingLines(corpusPath: string, tasksDir: string): Promise<{ lines: string[]; corpus: number; inputs: number }> {
  let text: string;
  try {
    text = await readFile(corpusPath, 'utf8');
  } catch {
    throw new QuiverInputError('cannot read the corpus (a text file, one passage per line)', corpusPath);
  }
  const corpus = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const inputs = (await loadTaskSet(tasksDir)).flatMap((t) => t.splits.train.map((x) => x.input));
  return { lines: [...corpus, ...inputs], corpus: corpus.length, inputs: inputs.length };
}

/** The `quiver_pretrain` record of an existing checkpoint in `dir`, if any. */
async function previousPretrain(dir: string): Promise<{ hash: string; finalLoss: number } | null> {
  try {
    const json = JSON.parse(await readFile(join(dir, CONFIG_FILE), 'utf8')) as { quiver_pretrain?: { hash?: unknown; finalLoss?: unknown } };
    const r = json.quiver_pretrain;
    return typeof r?.hash === 'string' && typeof r.finalLoss === 'number' ? { hash: r.hash, finalLoss: r.finalLoss } : null;
  } catch {
    return null;
  }
}

export function registerPretrainCommand(program: Command): void {
  const d = PRETRAIN_DEFAULTS;
  program
    .command('pretrain')
    .description(
      'Pretrain a small byte-level Llama base model from scratch on a text corpus plus the training tasks\' inputs ' +
        '(never their outputs), and save it as a Hugging Face checkpoint (config.json, model.safetensors, tokenizer.json).',
    )
    .requiredOption('-o, --out <dir>', 'checkpoint folder to write')
    .option('--tasks <dir>', 'task folder whose training inputs join the text', d.tasks)
    .option('--corpus <file>', 'plain-text corpus, one passage per line', d.corpus)
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
    .option('--backend <name>', `force a TensorFlow.js backend (${BACKEND_NAMES.join(', ')})`, parseBackend)
    .option('-q, --quiet', 'no progress lines')
    .action(async (opts: PretrainCommandOptions) => {
      if (opts.hidden % opts.heads !== 0) throw new QuiverInputError(`--hidden ${opts.hidden} is not a multiple of --heads ${opts.heads}`, '--hidden');
      await selectBackend(opts.backend);
      const text = await pretrainingLines(opts.corpus, opts.tasks);
      const modelId = opts.modelId ?? `quiver/byte-llama-d${opts.hidden}-l${opts.layers}`;
      // Paths are left out: the text itself is hashed, wherever it lives.
      const { out: _out, quiet: _quiet, backend: _backend, tasks: _tasks, corpus: _corpus, ...settings } = opts;
      const runHash = sha256Text(canonicalJson({ settings: { ...settings, modelId }, lines: sha256Text(text.lines.join('\n')) }));
      const previous = await previousPretrain(opts.out);
      if (previous?.hash === runHash) {
        process.stdout.write(`${opts.out} is already pretrained with these settings and data (loss ${previous.finalLoss.toFixed(3)}): nothing to do\n`);
        return;
      }
      process.stderr.write(`pretraining on ${text.corpus} corpus lines + ${text.inputs} task inputs\n`);
      const start = Date.now();
      const r = await pretrainBase({
        outDir: opts.out,
        lines: text.lines,
        hiddenSize: opts.hidden,
        layers: opts.layers,
        heads: opts.heads,
        intermediateSize: opts.intermediate,
        context: opts.context,
        steps: opts.steps,
        batchSize: opts.batchSize,
        lr: opts.lr,
        seed: opts.seed,
        modelId,
        runHash,
        onProgress: opts.quiet
          ? undefined
          : (p) => {
              const elapsed = Date.now() - start;
              process.stderr.write(
                `[${p.step}/${p.steps}] loss ${p.loss.toFixed(3)}  ${Math.round(p.tokensPerSecond)} tok/s  ${formatDuration(elapsed)}  ETA ${formatDuration((elapsed / p.step) * (p.steps - p.step))}\n`,
              );
            },
      });
      process.stdout.write(
        [
          `wrote ${opts.out}`,
          `  model     d ${r.config.hiddenSize}, ${r.config.numHiddenLayers} layers, ${r.config.numAttentionHeads} heads, vocab ${r.config.vocabSize}, context ${r.config.maxPositionEmbeddings}`,
          `  loss      ${r.firstLoss.toFixed(3)} → ${r.finalLoss.toFixed(3)} (nats per byte)`,
          `  speed     ${Math.round(r.tokensPerSecond)} tokens/s`,
          `  time      ${formatDuration(r.seconds * 1000)}`,
        ].join('\n') + '\n',
      );
    });
}
