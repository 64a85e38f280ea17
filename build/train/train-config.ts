import { z } from 'zod';
import { LoraConfig } from '../model/lora-config.js';

/**
 * Hyper-parameters of one adapter's training: the LoRA's (build/model/lora-config.ts) and the
 * optimiser's. The defaults are the configuration that built the shipped library
 * (`library/library.json`); where that differs from the paper (docs/method.md, "Private
 * adapters"), the comment says why. Unknown keys are refused. Every adapter's job hash covers
 * this object, so renaming a field retrains every library.
 */
export const TrainConfig = LoraConfig.extend({
  /**
   * Peak learning rate. Paper: 1e-4, for Phi-2 and Mistral-7B bases; the default library's tiny base
   * (d 128) and short runs (114 steps a task) were trained at 3e-3.
   */
  lr: z.number().positive().default(3e-3),
  /** Fraction of steps spent warming up linearly (paper: 6%), then linear decay to 0. */
  warmupRatio: z.number().min(0).max(1).default(0.06),
  /** Global gradient-norm clip (paper: 0.1). */
  gradClip: z.number().positive().default(0.1),
  /** Examples per step (paper: 16). */
  batchSize: z.number().int().positive().default(16),
  /** Passes over the training split. Paper: 5; the default library used 3 (114 steps a task on the default suite). */
  epochs: z.number().positive().default(3),
  /** Hard cap on optimizer steps, whatever the epochs give. */
  maxSteps: z.number().int().positive().default(100_000),
  /** Validation every this many steps; early stopping keeps the best. */
  evalEvery: z.number().int().positive().default(50),
  /** Stop after this many evaluations without improvement. */
  patience: z.number().int().positive().default(3),
  /** Validation examples used per evaluation (all when smaller). */
  evalExamples: z.number().int().positive().default(100),
  /**
   * How A starts (B is always zero): `eva`, the top-r right singular vectors of the base's inputs
   * to each module on the task's own training prompts (build/train/eva-init.ts); `eva-centred`, the
   * same after subtracting their mean; `kaiming`, PEFT's default (A ~ U(±1/√d_in)). The paper
   * uses PEFT's default; the data-aware start is what lets Arrow read a task back from its
   * adapter's weights (docs/method.md, "Initialisation of A").
   */
  init: z.enum(['eva', 'eva-centred', 'kaiming']).default('eva'),
  /** Training examples whose prompts the EVA init reads (spread evenly over the split, so over a cluster's tasks). */
  initExamples: z.number().int().positive().default(64),
  /** Seed of initialisation, dropout and batch order. */
  seed: z.number().int().nonnegative().default(0),
});
export type TrainConfig = z.infer<typeof TrainConfig>;
