/**
 * Pretraining the small default base model (issue: the base must not know the tasks' mappings):
 * a byte-level Llama trained from scratch on plain text plus the training tasks' *inputs* — never
 * their outputs, never a held-out task — so it learns English bytes and the prompts' shapes.
 * Data-parallel over `jobs` processes: each step's lines are split into shards whose gradients are
 * computed side by side and combined as one batch's (gradient-shards.ts, pretrain-workers.ts).
 */
import { Rng } from '../../shared/random.js';
import { ByteTokenizer } from '../../shared/tokenizer/byte-tokenizer.js';
import { computesOnOneCore, type BackendName } from '../model/backend.js';
import { saveCheckpoint } from '../model/checkpoint.js';
import { llamaConfig, type LlamaConfig } from '../model/config.js';
import { LlamaModel } from '../model/llama.js';
import { combineShards, flatWeights, shardCount, shardGrads, splitShards, type ShardGrads } from './gradient-shards.js';
import type { PretrainConfig } from './pretrain-config.js';
import { compiledPretrainWorker, PretrainWorkers } from './pretrain-workers.js';
import { StepTrainer, type StepResult } from './step-trainer.js';
import { IGNORE_INDEX, type TrainBatch } from './train-batch.js';

export interface PretrainOptions {
  outDir: string;
  /** Lines of text to learn: corpus sentences and task inputs. */
  lines: readonly string[];
  config: PretrainConfig;
  /** Written into config.json as `quiver_pretrain.hash`, so a rerun with the same inputs can skip. */
  runHash?: string;
  /**
   * Processes computing each step's shards, this one included (default 1). Any number gives the
   * same weights, byte for byte: it only decides where the shards run. More than one needs the
   * compiled worker (dist/); from TypeScript sources every shard runs here.
   */
  jobs?: number;
  /**
   * The backend this process selected, which the workers load (default wasm). tfjs-node and
   * tfjs-node-gpu use every core or the GPU from one process: they get no workers.
   */
  backend?: BackendName;
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

/**
 * One step over `shards`: shard s runs in lane s mod lanes, lane 0 being this process and lane i
 * the pool's worker i; the results are combined in shard order, so where a shard ran never shows.
 */
async function dataParallelStep(trainer: StepTrainer, model: LlamaModel, shards: readonly TrainBatch[], pool: PretrainWorkers | null): Promise<StepResult> {
  const lanes = (pool?.size ?? 0) + 1;
  const laneShards = Array.from({ length: lanes }, (_, lane) => shards.filter((_, s) => s % lanes === lane));
  // The workers' requests are written out first; this process then computes its own shards.
  const remote = pool ? (await pool.dispatch(flatWeights(model), laneShards.slice(1))).results : Promise.resolve([]);
  const local = laneShards[0]!.map((b) => shardGrads(model, b));
  const fromWorkers = await remote;
  const results: ShardGrads[] = shards.map((_, s) => {
    const lane = s % lanes;
    const index = Math.floor(s / lanes);
    return lane === 0 ? local[index]! : fromWorkers[lane - 1]![index]!;
  });
  return trainer.update(() => combineShards(model, results));
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
  const shards = shardCount(p.batchSize);
  const backend = opts.backend ?? 'wasm';
  const lanes = computesOnOneCore(backend) ? Math.min(opts.jobs ?? 1, shards) : 1;
  const script = compiledPretrainWorker();
  const pool = lanes > 1 && script ? await PretrainWorkers.start(lanes - 1, script, config, backend) : null;
  const start = performance.now();
  let tokens = 0;
  let firstLoss = NaN;
  let recent = 0;
  let recentN = 0;
  try {
    for (let step = 1; step <= p.steps; step++) {
      const lines = nextLines();
      const batches = splitShards(lines, shards).map((part) => lineBatch(tok, part, p.context));
      const r = await dataParallelStep(trainer, model, batches, pool);
      if (step === 1) firstLoss = r.loss;
      // Positions of the step's lines padded to the longest, as one batch of them would hold.
      tokens += lines.length * Math.max(...batches.map((b) => b.seqLen));
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
  } finally {
    pool?.close();
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
