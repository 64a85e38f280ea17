/**
 * One optimisation step at a time, for a LoRA on a frozen base (the paper's adapters) or for the
 * whole base model (pretraining a tiny base). Loss, gradients (backprop.ts), clipping and the AdamW
 * update run in one tf.tidy, and only two numbers come back to JavaScript per step. Epochs, data order and
 * checkpoints belong to the caller.
 */
import * as tf from '@tensorflow/tfjs';
import type { LlamaModel } from '../model/llama.js';
import type { Lora } from '../model/lora.js';
import { z } from 'zod';
import { AdamW, AdamWConfig } from './adamw.js';
import { lossAndGrads, type LossAndGrads } from './backprop.js';
import { causalLmLoss } from './causal-lm-loss.js';
import { clipFactor } from './clip-grad-norm.js';
import { linearWarmupDecay, warmupSteps } from './lr-schedule.js';
import type { TrainBatch } from './train-batch.js';
import { TrainConfig } from './train-config.js';

/**
 * One optimisation run's settings: the schedule's length, TrainConfig's optimiser fields under
 * their names there (and so with its defaults: lr, warmupRatio, gradClip) and AdamW's constants.
 * Pretraining a base passes its own lr and gradClip.
 */
export const StepTrainerConfig = TrainConfig.pick({ lr: true, warmupRatio: true, gradClip: true })
  .extend(AdamWConfig.shape)
  .extend({
    /** Steps the schedule spans (it decays to 0 at this step). */
    totalSteps: z.number().int().positive(),
  });
export type StepTrainerConfig = z.output<typeof StepTrainerConfig>;

export interface StepResult {
  /** Mean loss over the batch's answer tokens, before the update. */
  loss: number;
  tokens: number;
  /** Learning rate used by this step. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export class StepTrainer {
  readonly hyper: StepTrainerConfig;
  private readonly model: LlamaModel;
  private readonly lora: Lora | null;
  private readonly params: tf.Variable[];
  private readonly optimizer: AdamW;
  private readonly warmup: number;

  /**
   * @param target the LoRA to train (the base stays frozen), or 'base' to train every weight of a
   *   model built with { trainable: true }
   */
  constructor(model: LlamaModel, target: Lora | 'base', hyper: z.input<typeof StepTrainerConfig>) {
    this.hyper = StepTrainerConfig.parse(hyper);
    this.model = model;
    if (target === 'base') {
      if (!model.trainable) throw new Error("training 'base' needs a model built with { trainable: true }");
      this.lora = null;
      this.params = model.variables();
    } else {
      this.lora = target;
      this.params = target.variables();
    }
    this.optimizer = new AdamW(this.params, this.hyper);
    this.warmup = warmupSteps(this.hyper.totalSteps, this.hyper.warmupRatio);
  }

  /** Optimizer steps taken so far. */
  get step(): number {
    return this.optimizer.step;
  }

  trainStep(batch: TrainBatch): StepResult {
    return this.update(() => lossAndGrads(this.model, this.lora, batch));
  }

  /**
   * One step from the loss and gradients `compute` gives (called inside the step's tidy), one
   * gradient per trainable variable in their order. trainStep computes them here; data-parallel
   * pretraining (gradient-shards.ts) combines them from several processes.
   */
  update(compute: () => LossAndGrads): StepResult {
    const lr = this.hyper.lr * linearWarmupDecay(this.optimizer.step, this.hyper.totalSteps, this.warmup);
    let tokens = 0;
    const [loss, norm] = tf.tidy(() => {
      const out = compute();
      tokens = out.tokens;
      const { norm, factor } = clipFactor(out.grads, this.hyper.gradClip);
      this.optimizer.apply(out.grads, factor, lr);
      return [out.loss, norm];
    });
    const result = { loss: loss.dataSync()[0]!, tokens, lr, gradNorm: norm.dataSync()[0]! };
    tf.dispose([loss, norm]);
    return result;
  }

  /** Token-weighted mean loss over batches (no dropout, no update); batches without labels are skipped. */
  evaluateLoss(batches: Iterable<TrainBatch>): { loss: number; tokens: number } {
    let sum = 0;
    let tokens = 0;
    for (const batch of batches) {
      if (!batch.labels.some((l, i) => l !== -100 && i % batch.seqLen !== 0)) continue;
      const { loss, n } = tf.tidy(() => {
        const out = causalLmLoss(this.model, batch, { adapter: this.lora, training: false });
        return { loss: out.loss.dataSync()[0]!, n: out.tokens };
      });
      sum += loss * n;
      tokens += n;
    }
    return { loss: tokens === 0 ? Number.NaN : sum / tokens, tokens };
  }

  /** Frees the optimizer state (the model and LoRA belong to the caller). */
  dispose(): void {
    this.optimizer.dispose();
  }
}
