/**
 * A few short training runs whose per-step losses pin the training step down: LoRA on q/k/v/o of a
 * grouped-query model with padded answer-only batches (the library's case), LoRA on q and v with a
 * loss on every position and an untied LM head (the bench's case), LoRA on every projection, and
 * pretraining a whole base. test/train-step-losses.test.ts compares them with the losses the step
 * gave before it was made faster (test/fixtures/train-step-losses.json).
 */
import { LlamaModel } from '../../build/model/llama.js';
import { Lora } from '../../build/model/lora.js';
import type { LoraConfigInput } from '../../build/model/lora-config.js';
import { StepTrainer } from '../../build/train/step-trainer.js';
import { IGNORE_INDEX, promptAnswerBatch, type TrainBatch } from '../../build/train/train-batch.js';
import { Rng } from '../../shared/random.js';
import { tinyConfig, tinyWeights } from './tiny-llama.js';

export interface Curve {
  /** Loss of each step, before its update. */
  losses: number[];
  /** Global gradient norm of each step, before clipping. */
  gradNorms: number[];
  /** evaluateLoss over the run's batches after the last step (no dropout). */
  finalLoss: number;
}

/** Prompt/answer pairs of varied length, right-padded: loss on the answers only. */
function answerBatch(vocab: number, rng: Rng, size: number): TrainBatch {
  const pairs = Array.from({ length: size }, () => {
    const prompt = Array.from({ length: 2 + rng.int(7) }, () => 1 + rng.int(vocab - 1));
    const answer = Array.from({ length: 1 + rng.int(4) }, (_, i) => prompt[(i * 3) % prompt.length]!);
    return { prompt, answer };
  });
  return promptAnswerBatch(pairs, 0);
}

/** Random ids with a loss on every next token (the bench's batch). */
function denseBatch(vocab: number, rng: Rng, batchSize: number, seqLen: number): TrainBatch {
  const inputIds = new Int32Array(batchSize * seqLen);
  for (let i = 0; i < inputIds.length; i++) inputIds[i] = rng.int(vocab);
  return { batchSize, seqLen, inputIds, labels: inputIds.slice() };
}

/** Lines of different lengths, <bos>-like first id, padding without loss (pretraining's batch). */
function lineBatch(vocab: number, rng: Rng, size: number): TrainBatch {
  const lens = Array.from({ length: size }, () => 3 + rng.int(8));
  const T = Math.max(...lens);
  const inputIds = new Int32Array(size * T);
  const labels = new Int32Array(size * T).fill(IGNORE_INDEX);
  lens.forEach((n, b) => {
    for (let t = 0; t < n; t++) {
      const id = t === 0 ? 1 : 2 + rng.int(vocab - 2);
      inputIds[b * T + t] = id;
      labels[b * T + t] = id;
    }
  });
  return { batchSize: size, seqLen: T, inputIds, labels };
}

function run(trainer: StepTrainer, batches: readonly TrainBatch[], steps: number): Curve {
  const losses: number[] = [];
  const gradNorms: number[] = [];
  for (let s = 0; s < steps; s++) {
    const r = trainer.trainStep(batches[s % batches.length]!);
    losses.push(r.loss);
    gradNorms.push(r.gradNorm);
  }
  return { losses, gradNorms, finalLoss: trainer.evaluateLoss(batches).loss };
}

function loraCurve(configOverrides: Parameters<typeof tinyConfig>[0], lora: LoraConfigInput, batches: (vocab: number, rng: Rng) => TrainBatch[], steps: number): Curve {
  const config = tinyConfig(configOverrides);
  const weights = tinyWeights(config, 11);
  const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
  const adapter = Lora.init(config, lora, 3);
  const trainer = new StepTrainer(model, adapter, { totalSteps: steps, lr: 1e-2 });
  const curve = run(trainer, batches(config.vocabSize, new Rng(5)), steps);
  trainer.dispose();
  adapter.dispose();
  model.dispose();
  return curve;
}

export const TRAIN_CURVES: Record<string, () => Curve> = {
  'lora-qkvo-gqa-padded': () => loraCurve({ numKeyValueHeads: 2 }, {}, (v, rng) => [answerBatch(v, rng, 6), answerBatch(v, rng, 5)], 8),
  'lora-qv-dense-untied': () =>
    loraCurve({ tieWordEmbeddings: false }, { targetModules: ['q_proj', 'v_proj'] }, (v, rng) => [denseBatch(v, rng, 4, 12), denseBatch(v, rng, 4, 12)], 8),
  'lora-all-modules': () =>
    loraCurve({}, { targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, (v, rng) => [answerBatch(v, rng, 6)], 6),
  pretrain: () => {
    const config = tinyConfig();
    const model = LlamaModel.random(config, 2, { trainable: true });
    const trainer = new StepTrainer(model, 'base', { totalSteps: 8, lr: 3e-2, gradClip: 1 });
    const rng = new Rng(9);
    const curve = run(trainer, [lineBatch(config.vocabSize, rng, 6), lineBatch(config.vocabSize, rng, 6)], 8);
    trainer.dispose();
    model.dispose();
    return curve;
  },
};
