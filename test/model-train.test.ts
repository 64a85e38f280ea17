import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../build/model/backend.js';
import { LlamaModel } from '../build/model/llama.js';
import { Lora, type LoraModule } from '../build/model/lora.js';
import { moduleKey, PROJECTION_NAMES, projectionShape } from '../build/model/projections.js';
import { AdamW } from '../build/train/adamw.js';
import { lossAndGrads } from '../build/train/backprop.js';
import { causalLmLoss } from '../build/train/causal-lm-loss.js';
import { clipFactor } from '../build/train/clip-grad-norm.js';
import { linearWarmupDecay, warmupSteps } from '../build/train/lr-schedule.js';
import { StepTrainer } from '../build/train/step-trainer.js';
import { countLossTokens, IGNORE_INDEX, promptAnswerBatch, type TrainBatch } from '../build/train/train-batch.js';
import { Rng } from '../shared/random.js';
import { tinyConfig, tinyWeights } from './helpers/tiny-llama.js';

beforeAll(async () => {
  await selectBackend('wasm', { log: () => undefined });
});

function toyBatch(vocab: number, seed: number, batchSize = 6): TrainBatch {
  const rng = new Rng(seed);
  const pairs = Array.from({ length: batchSize }, () => {
    const prompt = Array.from({ length: 3 + rng.int(5) }, () => 1 + rng.int(vocab - 1));
    // The answer is a function of the prompt: its first token repeated, then its last.
    return { prompt, answer: [prompt[0]!, prompt[0]!, prompt[prompt.length - 1]!] };
  });
  return promptAnswerBatch(pairs, 0);
}

describe('training batches', () => {
  it('put the loss on answer tokens only, HF style (labels aligned, shifted in the loss)', () => {
    const b = promptAnswerBatch([{ prompt: [5, 6], answer: [7, 8] }, { prompt: [9], answer: [3] }], 0, 5);
    expect(Array.from(b.inputIds)).toEqual([5, 6, 7, 8, 0, 9, 3, 0, 0, 0]);
    expect(Array.from(b.labels)).toEqual([IGNORE_INDEX, IGNORE_INDEX, 7, 8, IGNORE_INDEX, IGNORE_INDEX, 3, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]);
    expect(countLossTokens(b)).toBe(3);
  });
});

describe('optimizer pieces', () => {
  it('linear schedule with 6% warmup matches transformers’ get_linear_schedule_with_warmup', () => {
    const w = warmupSteps(100, 0.06);
    expect(w).toBe(6);
    expect([0, 3, 6, 53, 100, 120].map((s) => linearWarmupDecay(s, 100, w))).toEqual([0, 0.5, 1, 0.5, 0, 0]);
  });

  it('AdamW follows torch.optim.AdamW step for step', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const opt = new AdamW([p], { weightDecay: 0.1 });
    const grads = [
      [0.5, 0.25],
      [-0.2, 1.0],
    ];
    // The update written out as torch's docs state it.
    let ref = [1, -2];
    let m = [0, 0];
    let v = [0, 0];
    grads.forEach((g, t) => {
      const lr = 0.1;
      ref = ref.map((x) => x * (1 - lr * 0.1));
      m = m.map((x, i) => 0.9 * x + 0.1 * g[i]!);
      v = v.map((x, i) => 0.999 * x + 0.001 * g[i]! ** 2);
      ref = ref.map((x, i) => x - (lr * (m[i]! / (1 - 0.9 ** (t + 1)))) / (Math.sqrt(v[i]! / (1 - 0.999 ** (t + 1))) + 1e-8));
      tf.tidy(() => opt.apply([tf.tensor1d(g)], null, lr));
    });
    const got = p.dataSync();
    ref.forEach((x, i) => expect(got[i]).toBeCloseTo(x, 6));
    opt.dispose();
    p.dispose();
  });

  it('clips by the global norm as torch.nn.utils.clip_grad_norm_', () => {
    tf.tidy(() => {
      const { norm, factor } = clipFactor([tf.tensor1d([3]), tf.tensor2d([[4]])], 1);
      expect(norm.dataSync()[0]).toBeCloseTo(5, 6);
      expect(factor.dataSync()[0]).toBeCloseTo(1 / (5 + 1e-6), 7);
      expect(clipFactor([tf.tensor1d([0.03, 0.04])], 1).factor.dataSync()[0]).toBe(1);
    });
  });
});

/**
 * ⟨∇L, d⟩ from the written-out backward pass (build/train/backprop.ts) against
 * (L(θ + εd) − L(θ − εd)) / 2ε of the model's own forward loss, for d along the gradient and for a
 * random d. The forward pass is checked against numpy elsewhere, so this checks every gradient
 * (matmuls, attention, rope, RMSNorm, SwiGLU, LoRA, row gather, cross-entropy).
 */
function checkGradient(params: tf.Variable[], grads: () => tf.Tensor[], loss: () => tf.Scalar): void {
  const g = tf.tidy(grads);
  const gNorm = Math.sqrt(g.reduce((s, t) => s + tf.sum(tf.square(t)).dataSync()[0]!, 0));
  expect(gNorm).toBeGreaterThan(1e-3);
  const rng = new Rng(17);
  const random = params.map((p) => tf.tensor(rng.normals(p.size), p.shape));
  const rNorm = Math.sqrt(random.reduce((s, t) => s + tf.sum(tf.square(t)).dataSync()[0]!, 0));
  const directions = [g.map((t) => tf.div(t, gNorm)), random.map((t) => tf.div(t, rNorm))];
  const original = params.map((p) => p.clone());
  const lossAt = (dir: tf.Tensor[], eps: number): number => {
    params.forEach((p, i) => p.assign(tf.add(original[i]!, tf.mul(dir[i]!, eps))));
    return tf.tidy(() => loss().dataSync()[0]!);
  };
  for (const dir of directions) {
    const analytic = g.reduce((s, t, i) => s + tf.sum(tf.mul(t, dir[i]!)).dataSync()[0]!, 0);
    const eps = 2e-3; // truncation error ∝ eps², float32 rounding ∝ 1/eps
    const numeric = (lossAt(dir, eps) - lossAt(dir, -eps)) / (2 * eps);
    expect(Math.abs(numeric - analytic)).toBeLessThan(2e-3 * gNorm + 1e-4);
  }
  params.forEach((p, i) => p.assign(original[i]!));
  tf.dispose([...g, ...random, ...directions.flat(), ...original]);
}

describe('gradients', () => {
  it('LoRA on every projection of a GQA model (B ≠ 0)', () => {
    const config = tinyConfig({ numKeyValueHeads: 2 });
    const weights = tinyWeights(config, 4);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
    const rng = new Rng(8);
    const modules: LoraModule[] = [];
    for (let l = 0; l < config.numHiddenLayers; l++) {
      for (const n of PROJECTION_NAMES) {
        const { dIn, dOut } = projectionShape(config, n);
        modules.push({ key: moduleKey(l, n), a: rng.normals(2 * dIn, 0.2), b: rng.normals(dOut * 2, 0.2) });
      }
    }
    // No dropout: the finite differences run the deterministic forward pass.
    const lora = Lora.fromModules(config, { r: 2, loraAlpha: 4, loraDropout: 0 }, modules);
    const batch = toyBatch(config.vocabSize, 1);
    checkGradient(lora.variables(), () => lossAndGrads(model, lora, batch).grads, () => causalLmLoss(model, batch, { adapter: lora }).loss);
    lora.dispose();
    model.dispose();
  });

  it('LoRA on q and v only: the frozen layers below need no input gradient', () => {
    const config = tinyConfig({ tieWordEmbeddings: false });
    const weights = tinyWeights(config, 3);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
    const rng = new Rng(2);
    const modules: LoraModule[] = [];
    for (let l = 0; l < config.numHiddenLayers; l++) {
      for (const n of ['q_proj', 'v_proj'] as const) {
        const { dIn, dOut } = projectionShape(config, n);
        modules.push({ key: moduleKey(l, n), a: rng.normals(2 * dIn, 0.2), b: rng.normals(dOut * 2, 0.2) });
      }
    }
    const lora = Lora.fromModules(config, { r: 2, loraAlpha: 4, loraDropout: 0 }, modules);
    const batch = toyBatch(config.vocabSize, 6);
    checkGradient(lora.variables(), () => lossAndGrads(model, lora, batch).grads, () => causalLmLoss(model, batch, { adapter: lora }).loss);
    lora.dispose();
    model.dispose();
  });

  it('every weight of a trainable base (tied embeddings: lookup and LM head)', () => {
    const config = tinyConfig();
    const weights = tinyWeights(config, 5);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data, { trainable: true });
    const batch = toyBatch(config.vocabSize, 2);
    checkGradient(model.variables(), () => lossAndGrads(model, null, batch).grads, () => causalLmLoss(model, batch).loss);
    model.dispose();
  });

  it('every weight of a trainable GQA base with an untied LM head, a loss on every position', () => {
    const config = tinyConfig({ numKeyValueHeads: 2, tieWordEmbeddings: false });
    const weights = tinyWeights(config, 9);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data, { trainable: true });
    // Dense labels: the last layer keeps every row (backprop.ts narrows only to few loss rows).
    const rng = new Rng(3);
    const inputIds = Int32Array.from({ length: 3 * 7 }, () => rng.int(config.vocabSize));
    const batch: TrainBatch = { batchSize: 3, seqLen: 7, inputIds, labels: inputIds.slice() };
    checkGradient(model.variables(), () => lossAndGrads(model, null, batch).grads, () => causalLmLoss(model, batch).loss);
    model.dispose();
  });
});

describe('StepTrainer', () => {
  it('LoRA training lowers the loss on a toy batch, with no tensor leak over 50 steps', () => {
    const config = tinyConfig();
    const weights = tinyWeights(config, 6);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
    const lora = Lora.init(config, {}, 3);
    const trainer = new StepTrainer(model, lora, { totalSteps: 50, lr: 1e-2 });
    const batch = toyBatch(config.vocabSize, 3);
    const first = trainer.evaluateLoss([batch]);
    expect(first.tokens).toBe(countLossTokens(batch));
    let after5 = 0;
    let last = trainer.trainStep(batch);
    expect(last.lr).toBe(0); // transformers' warmup starts at 0
    for (let i = 1; i < 50; i++) {
      last = trainer.trainStep(batch);
      if (i === 5) after5 = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(after5);
    expect(trainer.step).toBe(50);
    const final = trainer.evaluateLoss([batch]);
    expect(final.loss).toBeLessThan(first.loss * 0.5);
    expect(last.gradNorm).toBeGreaterThan(0);
    trainer.dispose();
    lora.dispose();
    model.dispose();
  });

  it('evaluateLoss is the token-weighted mean cross-entropy of the forward logits', () => {
    const config = tinyConfig();
    const weights = tinyWeights(config, 7);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
    const lora = Lora.init(config, {}, 1);
    const trainer = new StepTrainer(model, lora, { totalSteps: 1 });
    const batches = [toyBatch(config.vocabSize, 4, 3), toyBatch(config.vocabSize, 5, 2)];
    let sum = 0;
    let n = 0;
    for (const b of batches) {
      const { logits } = model.forward({ ids: b.inputIds, batchSize: b.batchSize, seqLen: b.seqLen });
      const l = logits.dataSync();
      const V = config.vocabSize;
      for (let row = 0; row < b.batchSize; row++) {
        for (let t = 0; t + 1 < b.seqLen; t++) {
          const label = b.labels[row * b.seqLen + t + 1]!;
          if (label === IGNORE_INDEX) continue;
          const off = (row * b.seqLen + t) * V;
          let max = -Infinity;
          for (let v = 0; v < V; v++) max = Math.max(max, l[off + v]!);
          let z = 0;
          for (let v = 0; v < V; v++) z += Math.exp(l[off + v]! - max);
          sum += Math.log(z) + max - l[off + label]!;
          n++;
        }
      }
      logits.dispose();
    }
    const got = trainer.evaluateLoss(batches);
    expect(got.tokens).toBe(n);
    expect(got.loss).toBeCloseTo(sum / n, 4);
    trainer.dispose();
    lora.dispose();
    model.dispose();
  });

  it('pretrains a whole base model on wasm (embedding gradient without UnsortedSegmentSum), no leak', () => {
    const config = tinyConfig({ tieWordEmbeddings: false });
    const model = LlamaModel.random(config, 2, { trainable: true });
    const trainer = new StepTrainer(model, 'base', { totalSteps: 30, lr: 3e-2, gradClip: 1 });
    const batch = toyBatch(config.vocabSize, 9);
    const first = trainer.evaluateLoss([batch]).loss;
    let after5 = 0;
    for (let i = 0; i < 30; i++) {
      trainer.trainStep(batch);
      if (i === 5) after5 = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(after5);
    expect(trainer.evaluateLoss([batch]).loss).toBeLessThan(first * 0.5);
    trainer.dispose();
    model.dispose();
  });
});
