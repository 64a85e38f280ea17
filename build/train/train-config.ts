import { z } from 'zod';

/**
 * Hyper-parameters of one adapter's training. Defaults are the paper's (DESIGN.md, "Private
 * adapters") unless a comment says why not; unknown keys are refused.
 */
export const TrainConfig = z.strictObject({
  /** LoRA rank (paper: 4). */
  r: z.number().int().positive().default(4),
  /** LoRA α (paper: 16); the update is scaled by α/r. */
  loraAlpha: z.number().positive().default(16),
  /** Dropout on the LoRA input (paper: 0.05). */
  loraDropout: z.number().min(0).max(1).default(0.05),
  /** Wrapped modules (paper: attention projections). */
  targetModules: z.array(z.enum(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])).min(1).default(['q_proj', 'k_proj', 'v_proj', 'o_proj']),
  /** Peak learning rate (paper: 1e-4 for Phi-2-sized models). */
  lr: z.number().positive().default(1e-4),
  /** Fraction of steps spent warming up linearly (paper: 6%), then linear decay to 0. */
  warmupRatio: z.number().min(0).max(1).default(0.06),
  /** Global gradient-norm clip (paper: 0.1). */
  gradClip: z.number().positive().default(0.1),
  /** Examples per step (paper: 16). */
  batchSize: z.number().int().positive().default(16),
  /** Passes over the training split (paper: 5 for private adapters). */
  epochs: z.number().positive().default(5),
  /** Hard cap on optimizer steps, whatever the epochs give. */
  maxSteps: z.number().int().positive().default(100_000),
  /** Validation every this many steps; early stopping keeps the best. */
  evalEvery: z.number().int().positive().default(50),
  /** Stop after this many evaluations without improvement. */
  patience: z.number().int().positive().default(3),
  /** Validation examples used per evaluation (all when smaller). */
  evalExamples: z.number().int().positive().default(100),
  /** Seed of initialisation, dropout and batch order. */
  seed: z.number().int().nonnegative().default(0),
});
export type TrainConfig = z.infer<typeof TrainConfig>;
