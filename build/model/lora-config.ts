import { z } from 'zod';
import { PROJECTION_NAMES } from './projections.js';

/**
 * A LoRA's hyper-parameters, in PEFT's names camelCased (`lora_alpha` → `loraAlpha`), with the
 * paper's defaults (docs/method.md, "Private adapters"). The type is inferred from this schema;
 * TrainConfig extends it, so these defaults are the only ones.
 */
export const LoraConfig = z.strictObject({
  /** Rank (paper: 4). */
  r: z.number().int().positive().default(4),
  /** α (paper: 16); the update is scaled by α/r. */
  loraAlpha: z.number().positive().default(16),
  /** Dropout on the LoRA input while training (paper: 0.05). */
  loraDropout: z.number().min(0).lt(1).default(0.05),
  /** Projections that get a LoRA (paper: the attention projections; the MLP is optional). */
  targetModules: z.array(z.enum(PROJECTION_NAMES)).min(1).default(['q_proj', 'k_proj', 'v_proj', 'o_proj']),
});
export type LoraConfig = z.output<typeof LoraConfig>;
export type LoraConfigInput = z.input<typeof LoraConfig>;
