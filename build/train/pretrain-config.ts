import { z } from 'zod';

const count = z.number().int().positive();

/**
 * The settings of `quiver pretrain`, named as its options, with the defaults that built the shipped
 * base (`library/base`). The type is inferred from this schema. The run hash that lets a rerun skip
 * covers this object (paths aside), so renaming a field re-pretrains every base.
 */
export const PretrainConfig = z
  .strictObject({
    // d 128 × 4 layers, byte vocabulary: small enough to pretrain on two cores in minutes, large
    // enough that rank-4 LoRAs on it learn the suite's tasks.
    /** Hidden size d. */
    hidden: count.default(128),
    /** Decoder layers. */
    layers: count.default(4),
    /** Attention heads (multi-head: as many key/value heads). */
    heads: count.default(4),
    /** SwiGLU width. */
    intermediate: count.default(384),
    /** Maximum sequence length in tokens (bytes + 2): every suite example (≤ 48 + 1 + 12 bytes + specials) fits with room to spare. */
    context: count.default(96),
    /** Optimizer steps: 450 of 32 lines took the default base from 5.55 to 1.63 nats per byte in 6.5 minutes. */
    steps: count.default(450),
    /** Sequences per step. */
    batchSize: count.default(32),
    /** Peak learning rate: a model trained from scratch wants far more than a LoRA. */
    lr: z.number().positive().default(2e-3),
    /** Seed of the initialisation and the data order. */
    seed: z.number().int().nonnegative().default(0),
    /** `_name_or_path` of the checkpoint, the id adapters name as base_model_name_or_path. */
    modelId: z.string().min(1).optional(),
  })
  .refine((c) => c.hidden % c.heads === 0, { path: ['hidden'], message: 'must be a multiple of heads' })
  .transform((c) => ({ ...c, modelId: c.modelId ?? `quiver/byte-llama-d${c.hidden}-l${c.layers}` }));
export type PretrainConfig = z.output<typeof PretrainConfig>;
