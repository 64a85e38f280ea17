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
import type { PretrainConfig } from './pretrain-config.js';
import { StepTrainer } from './step-trainer.js';
import { IGNORE_INDEX, type TrainBatch } from './train-batch.js';

export interface PretrainOptions {
  outDir: string;
  /** Lines of text to learn: corpus sentences and task inputs. */
  lines: readonly string[];
  config: PretrainConfig;
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
  const p = opts.config;
  const config = llamaConfig({
    vocabSize: tok.vocabSize,
    hiddenSize: p.hidden,
    intermediateSize: p.intermediate,
    numHiddenLayers: p.layers,
    numAttentionHeads: p.heads,
    maxPositionEmbeddings: p.context,
    tieWordEmbeddings: true,
    bosTokenId: tok.bosId,
    eosTokenIds: [tok.eosId],
    padTokenId: tok.padId,
  });
  const model = LlamaModel.random(config, p.seed, { trainable: true });
  // Clip at 1, nanoGPT's grad_clip for a model trained from scratch; warm-up as the LoRAs'.
  const trainer = new StepTrainer(model, 'base', { totalSteps: p.steps, lr: p.lr, gradClip: 1 });
  const rng = new Rng(p.seed);
  const batches = lengthBucketedBatches(opts.lines, p.batchSize, rng);
  let cursor = 0;
  const nextLines = (): readonly string[] => {
    if (cursor >= batches.length) {
      batches.splice(0, batches.length, ...lengthBucketedBatches(opts.lines, p.batchSize, rng));
      cursor = 0;
    }
    return batches[cursor++]!;
  };
  const start = performance.now();
  let tokens = 0;
  let firstLoss = NaN;
  let recent = 0;
  let recentN = 0;
  for (let step = 1; step <= p.steps; step++) {
    const batch = lineBatch(tok, nextLines(), p.context);
    const r = trainer.trainStep(batch);
    if (step === 1) firstLoss = r.loss;
    tokens += batch.batchSize * batch.seqLen;
    recent += r.loss;
    recentN++;
    if (step % 25 === 0 || step === p.steps) {
      opts.onProgress?.({ step, steps: p.steps, loss: recent / recentN, tokensPerSecond: tokens / ((performance.now() - start) / 1000) });
      if (step !== p.steps) {
        recent = 0;
        recentN = 0;
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  trainer.dispose();
  const finalLoss = recent / recentN;
  // What the checkpoint records of its run: deterministic facts only (speed is printed, not stored).
  const record = { hash: opts.runHash ?? null, steps: p.steps, firstLoss, finalLoss };
  await saveCheckpoint(opts.outDir, model, { tokenizer: tok, hfConfig: { _name_or_path: p.modelId, quiver_pretrain: record } });
  model.dispose();
  return { config, firstLoss, finalLoss, tokensPerSecond: tokens / seconds, seconds };
}
