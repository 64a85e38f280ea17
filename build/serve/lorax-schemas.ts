/**
 * LoRAX's native bodies (predibase/lorax router/src/lib.rs: GenerateRequest, GenerateParameters,
 * AdapterParameters, GenerateResponse, Details, StreamResponse, Token), as far as `quiver serve`
 * implements them. The schemas check types only (a wrong type is a 400 naming the field); LoRAX's
 * own semantic checks (router/src/validation.rs) are lorax-validation.ts, with LoRAX's 422.
 * Like serde without deny_unknown_fields, unknown fields are ignored.
 */
import { z } from 'zod';

export const MergedAdapters = z.object({
  ids: z.array(z.string()),
  /** serde default: [] (which then fails the length check, as in LoRAX). */
  weights: z.array(z.number()).default([]),
  merge_strategy: z.string().nullish(),
  density: z.number().default(0),
  majority_sign_method: z.string().nullish(),
});

export const GenerateParameters = z.object({
  adapter_id: z.string().nullish(),
  adapter_source: z.string().nullish(),
  merged_adapters: MergedAdapters.nullish(),
  api_token: z.string().nullish(),
  best_of: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  repetition_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  presence_penalty: z.number().nullish(),
  top_k: z.number().int().nullish(),
  top_p: z.number().nullish(),
  typical_p: z.number().nullish(),
  do_sample: z.boolean().default(false),
  max_new_tokens: z.number().int().nonnegative().nullish(),
  ignore_eos_token: z.boolean().default(false),
  return_full_text: z.boolean().nullish(),
  stop: z.array(z.string()).default([]),
  truncate: z.number().int().nonnegative().nullish(),
  watermark: z.boolean().default(false),
  details: z.boolean().default(false),
  decoder_input_details: z.boolean().default(false),
  return_k_alternatives: z.number().int().nullish(),
  apply_chat_template: z.boolean().default(false),
  seed: z.number().int().nonnegative().nullish(),
  response_format: z.unknown().optional(),
});
export type GenerateParameters = z.infer<typeof GenerateParameters>;

export const GenerateRequest = z.object({
  inputs: z.string(),
  parameters: GenerateParameters.default(GenerateParameters.parse({})),
});
export type GenerateRequest = z.infer<typeof GenerateRequest>;

export const FinishReason = z.enum(['length', 'eos_token', 'stop_sequence']);
export type FinishReason = z.infer<typeof FinishReason>;

export const Token = z.object({ id: z.number().int(), text: z.string(), logprob: z.number(), special: z.boolean(), skipped: z.boolean() });
export type Token = z.infer<typeof Token>;

export const Details = z.object({
  finish_reason: FinishReason,
  prompt_tokens: z.number().int(),
  generated_tokens: z.number().int(),
  skipped_tokens: z.number().int(),
  seed: z.number().int().nullable(),
  prefill: z.array(z.object({ id: z.number().int(), text: z.string(), logprob: z.number().nullable() })),
  tokens: z.array(Token),
});

export const GenerateResponse = z.object({ generated_text: z.string(), details: Details.optional() });
export type GenerateResponse = z.infer<typeof GenerateResponse>;

export const StreamDetails = z.object({ finish_reason: FinishReason, prompt_tokens: z.number().int(), generated_tokens: z.number().int(), seed: z.number().int().nullable() });

export const StreamResponse = z.object({ token: Token, generated_text: z.string().nullable(), details: StreamDetails.nullable() });
export type StreamResponse = z.infer<typeof StreamResponse>;
