/**
 * Pretraining the small default base model (issue: the base must not know the tasks' mappings):
 * a byte-level Llama trained from scratch on plain text plus the training tasks' *inputs* — never
 * their outputs, never a held-out task — so it learns English bytes and the prompts' shapes.
 */
import { Rng } from '../../shared/random.js';
import { ByteTokenizer } from '../../shared/tokenizer/byte-tokenizer.js';
import { saveCheckpoint } from '../model/checkpoint.js';
import { llamaConfig, type LlamaConfig } from '../model/config.js';
import { LlamaModel } from '../model/llama.js';
import { StepTrainer } from './step-trainer.js';
import { IGNORE_INDEX, type TrainBatch } from './train-batch.js';

export interface PretrainOptions {
  outDir: string;
  /** Lines of text to learn: corpus sentences and task inputs. */
  lines: readonly string[];
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  context: number;
  steps: number;
  batchSize: number;
  /** Peak LR; 1e-3: a tiny model trained from scratch wants far more than LoRA's 1e-4. */
  lr: number;
  seed: number;
  /** Id written as `_name_or_path`; adapters name it in base_model_name_or_path. */
  modelId: string;
  /** Written into config.json as `quiver_pretrain.hash`, so a rerun with the same inputs can skip. */
  runHash?: string;
  onProgress?: (p: { step: number; steps: number; loss: number; tokensPerSecond: number }) => void;
}

export interface PretrainResult {
  config: LlamaConfig;
  firstLoss: number;
  finalLoss: number;
  tokensPerSecond: number;
  seconds: number;
}

/** A batch of whole lines, <bos> line <eos>, loss on every real token. */
function lineBatch(tok: ByteTokenizer, lines: readonly string[], maxLen: number): TrainBatch {
  const seqs = lines.map((l) => [tok.bosId, ...tok.encode(l).slice(0, maxLen - 2), tok.eosId]);
  const T = Math.max(...seqs.map((s) => s.length));
  const inputIds = new Int32Array(seqs.length * T).fill(tok.padId);
  const labels = new Int32Array(seqs.length * T).fill(IGNORE_INDEX);
  seqs.forEach((s, b) => {
    inputIds.set(s, b * T);
    labels.set(s, b * T);
  });
  return { batchSize: seqs.length, seqLen: T, inputIds, labels };
}

/**
 * One epoch of batches, each of lines of similar length (a batch pads to its longest line, so
 * mixing 20- and 90-byte lines would waste most of the compute), in random order.
 */
export function lengthBucketedBatches(lines: readonly string[], batchSize: number, rng: Rng): string[][] {
  const order = Array.from(lines.keys());
  shuffle(order, rng);
  const batches: string[][] = [];
  const window = batchSize * 64;
  for (let w = 0; w < order.length; w += window) {
    const chunk = order.slice(w, w + window).sort((x, y) => lines[x]!.length - lines[y]!.length);
    for (let i = 0; i + batchSize <= chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize).map((k) => lines[k]!));
  }
  shuffle(batches, rng);
  return batches;
}

function shuffle<T>(xs: T[], rng: Rng): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}

export async function pretrainBase(opts: PretrainOptions): Promise<PretrainResult> {
  const tok = new ByteTokenizer();
  const config = llamaConfig({
    vocabSize: tok.vocabSize,
    hiddenSize: opts.hiddenSize,
    intermediateSize: opts.intermediateSize,
    numHiddenLayers: opts.layers,
    numAttentionHeads: opts.heads,
    maxPositionEmbeddings: opts.context,
    tieWordEmbeddings: true,
    bosTokenId: tok.bosId,
    eosTokenIds: [tok.eosId],
    padTokenId: tok.padId,
  });
  const model = LlamaModel.random(config, opts.seed, { trainable: true });
  const trainer = new StepTrainer(model, 'base', { totalSteps: opts.steps, lr: opts.lr, maxGradNorm: 1 });
  const rng = new Rng(opts.seed);
  const batches = lengthBucketedBatches(opts.lines, opts.batchSize, rng);
  let cursor = 0;
  const nextLines = (): readonly string[] => {
    if (cursor >= batches.length) {
      batches.splice(0, batches.length, ...lengthBucketedBatches(opts.lines, opts.batchSize, rng));
      cursor = 0;
    }
    return batches[cursor++]!;
  };
  const start = performance.now();
  let tokens = 0;
  let firstLoss = NaN;
  let recent = 0;
  let recentN = 0;
  for (let step = 1; step <= opts.steps; step++) {
    const batch = lineBatch(tok, nextLines(), opts.context);
    const r = trainer.trainStep(batch);
    if (step === 1) firstLoss = r.loss;
    tokens += batch.batchSize * batch.seqLen;
    recent += r.loss;
    recentN++;
    if (step % 25 === 0 || step === opts.steps) {
      opts.onProgress?.({ step, steps: opts.steps, loss: recent / recentN, tokensPerSecond: tokens / ((performance.now() - start) / 1000) });
      if (step !== opts.steps) {
        recent = 0;
        recentN = 0;
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  trainer.dispose();
  const finalLoss = recent / recentN;
  const record = { hash: opts.runHash ?? null, steps: opts.steps, firstLoss, finalLoss, tokensPerSecond: tokens / seconds, seconds };
  await saveCheckpoint(opts.outDir, model, { tokenizer: tok, hfConfig: { _name_or_path: opts.modelId, quiver_pretrain: record } });
  model.dispose();
  return { config, firstLoss, finalLoss, tokensPerSecond: tokens / seconds, seconds };
}
