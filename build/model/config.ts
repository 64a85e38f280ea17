/**
 * The model config: Hugging Face's Llama `config.json` at the file boundary (snake_case, as
 * LlamaForCausalLM writes it), a camelCase `LlamaConfig` inside. Real checkpoints carry many keys
 * Quiver does not use (torch_dtype, transformers_version, ...), so unknown keys pass through; the
 * keys that change the math are checked, and settings Quiver does not implement are refused.
 */
import { z } from 'zod';
import { QuiverInputError } from '../../shared/errors.js';
import { formatZodError } from '../../shared/zod-error.js';

const count = z.number().int().positive();
const tokenId = z.number().int().nonnegative();

export const HfLlamaConfig = z
  .looseObject({
    model_type: z.literal('llama', { error: 'model_type must be "llama" (Quiver runs Llama-architecture models, e.g. SmolLM)' }),
    architectures: z.array(z.string()).optional(),
    vocab_size: count,
    hidden_size: count,
    intermediate_size: count,
    num_hidden_layers: count,
    num_attention_heads: count,
    // HF: absent means multi-head attention (as many KV heads as query heads).
    num_key_value_heads: count.nullish(),
    // HF: absent means hidden_size / num_attention_heads.
    head_dim: count.nullish(),
    rms_norm_eps: z.number().positive().default(1e-6),
    rope_theta: z.number().positive().default(10000),
    max_position_embeddings: count.default(2048),
    tie_word_embeddings: z.boolean().default(false),
    bos_token_id: tokenId.nullish(),
    eos_token_id: z.union([tokenId, z.array(tokenId)]).nullish(),
    pad_token_id: tokenId.nullish(),
    hidden_act: z.literal('silu', { error: 'hidden_act must be "silu" (the Llama SwiGLU MLP)' }).default('silu'),
    rope_scaling: z.null({ error: 'rope_scaling is not supported: only plain RoPE (rope_scaling: null) is implemented' }).optional(),
    attention_bias: z.literal(false, { error: 'attention_bias must be false: projections have no bias in this implementation' }).optional(),
    mlp_bias: z.literal(false, { error: 'mlp_bias must be false: projections have no bias in this implementation' }).optional(),
  })
  .superRefine((c, ctx) => {
    const heads = c.num_attention_heads;
    const kvHeads = c.num_key_value_heads ?? heads;
    if (c.head_dim == null && c.hidden_size % heads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['num_attention_heads'], message: `hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${heads}` });
    }
    if (heads % kvHeads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['num_key_value_heads'], message: `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}` });
    }
    const headDim = c.head_dim ?? c.hidden_size / heads;
    if (headDim % 2 !== 0) {
      ctx.addIssue({ code: 'custom', path: ['head_dim'], message: `head dimension ${headDim} must be even: rotary embeddings rotate pairs of dimensions` });
    }
  });
export type HfLlamaConfig = z.infer<typeof HfLlamaConfig>;

/**
 * The model's shape and constants, in the names of HF's LlamaConfig camelCased; the type is
 * inferred from this schema. Its defaults are for a model Quiver creates itself (quiver pretrain,
 * tests); reading a config.json, HfLlamaConfig's defaults (transformers' own) apply first and every
 * field arrives set.
 */
export const LlamaConfig = z
  .strictObject({
    vocabSize: count,
    hiddenSize: count,
    intermediateSize: count,
    numHiddenLayers: count,
    numAttentionHeads: count,
    /** Fewer than numAttentionHeads: grouped-query attention (each KV head serves a group of query heads). Default: as many (multi-head). */
    numKeyValueHeads: count.optional(),
    /** Default: hiddenSize / numAttentionHeads. */
    headDim: count.optional(),
    /** SmolLM and Llama 2 use 1e-5. */
    rmsNormEps: z.number().positive().default(1e-5),
    /** The Llama base of the rotary frequencies. */
    ropeTheta: z.number().positive().default(10000),
    maxPositionEmbeddings: count,
    /** lm_head shares model.embed_tokens.weight: small models do (SmolLM), saving vocab × hidden parameters. */
    tieWordEmbeddings: z.boolean().default(true),
    bosTokenId: tokenId.nullable().default(null),
    /** All end-of-sequence ids (Llama 3 lists several); empty when the config names none. */
    eosTokenIds: z.array(tokenId).default([]),
    padTokenId: tokenId.nullable().default(null),
  })
  .transform((c) => ({ ...c, numKeyValueHeads: c.numKeyValueHeads ?? c.numAttentionHeads, headDim: c.headDim ?? c.hiddenSize / c.numAttentionHeads }));
export type LlamaConfig = z.output<typeof LlamaConfig>;
export type LlamaConfigInput = z.input<typeof LlamaConfig>;

/** A complete config from the required sizes and LlamaConfig's defaults, checked as config.json is. */
export function llamaConfig(input: LlamaConfigInput): LlamaConfig {
  const config = LlamaConfig.parse(input);
  // Validate through the same schema that guards config.json (head sizes, divisibility).
  parseHfConfig(toHfConfig(config), 'llamaConfig()');
  return config;
}

/** Parses and checks a `config.json` object; `where` names the file in errors. */
export function parseHfConfig(json: unknown, where: string): { config: LlamaConfig; raw: HfLlamaConfig } {
  const parsed = HfLlamaConfig.safeParse(json);
  if (!parsed.success) throw new QuiverInputError(formatZodError(parsed.error), where);
  const c = parsed.data;
  const eos = c.eos_token_id;
  return {
    raw: c,
    config: LlamaConfig.parse({
      vocabSize: c.vocab_size,
      hiddenSize: c.hidden_size,
      intermediateSize: c.intermediate_size,
      numHiddenLayers: c.num_hidden_layers,
      numAttentionHeads: c.num_attention_heads,
      numKeyValueHeads: c.num_key_value_heads ?? undefined,
      headDim: c.head_dim ?? undefined,
      rmsNormEps: c.rms_norm_eps,
      ropeTheta: c.rope_theta,
      maxPositionEmbeddings: c.max_position_embeddings,
      tieWordEmbeddings: c.tie_word_embeddings,
      bosTokenId: c.bos_token_id ?? null,
      eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
      padTokenId: c.pad_token_id ?? null,
    }),
  };
}

/**
 * The `config.json` object for `config`. `base` (the file the model was loaded from) keeps the keys
 * Quiver does not model; the modelled keys are written over it.
 */
export function toHfConfig(config: LlamaConfig, base: Record<string, unknown> = {}): Record<string, unknown> {
  const eos = config.eosTokenIds;
  return {
    ...base,
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    num_key_value_heads: config.numKeyValueHeads,
    head_dim: config.headDim,
    hidden_act: 'silu',
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: null,
    max_position_embeddings: config.maxPositionEmbeddings,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: config.bosTokenId,
    eos_token_id: eos.length === 0 ? null : eos.length === 1 ? eos[0] : [...eos],
    pad_token_id: config.padTokenId,
  };
}
