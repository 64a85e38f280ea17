/**
 * vLLM's OpenAI-compatible bodies (vllm/entrypoints/openai: CompletionRequest, ChatCompletionRequest,
 * their responses and stream chunks, the LoRA load/unload requests), as far as `quiver serve`
 * implements them. Like vLLM (extra="allow"), unknown fields are ignored; a known field this server
 * does not implement is refused with a 400 naming it rather than silently ignored.
 * Defaults are vLLM's: completions max_tokens 16, chat max_tokens = what the context leaves,
 * temperature 1 (sampling; 0 = greedy), top_p 1, top_k all.
 */
import { z } from 'zod';

const Stop = z.union([z.string(), z.array(z.string())]).nullish();

/** Fields only some values of which this server implements: a value other than these is a 400. */
const ONLY = (what: string) => ({ message: `quiver serve does not support ${what}` });

const SamplingFields = {
  model: z.string().nullish(),
  temperature: z.number().min(0).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  /** -1 or 0: every token (vLLM accepts both). */
  top_k: z.number().int().min(-1).nullish(),
  seed: z.number().int().nullish(),
  stop: Stop,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish(), continuous_usage_stats: z.boolean().nullish() }).nullish(),
  n: z.number().int().nullish().refine((n) => n == null || n === 1, ONLY('n other than 1 (one choice per request)')),
  use_beam_search: z.boolean().nullish().refine((b) => !b, ONLY('beam search')),
  frequency_penalty: z.number().nullish().refine((p) => !p, ONLY('frequency_penalty')),
  presence_penalty: z.number().nullish().refine((p) => !p, ONLY('presence_penalty')),
  repetition_penalty: z.number().nullish().refine((p) => p == null || p === 1, ONLY('repetition_penalty')),
  logit_bias: z.record(z.string(), z.number()).nullish().refine((b) => !b || Object.keys(b).length === 0, ONLY('logit_bias')),
  min_tokens: z.number().int().nullish().refine((m) => !m, ONLY('min_tokens')),
  ignore_eos: z.boolean().nullish(),
};

export const CompletionRequest = z
  .object({
    ...SamplingFields,
    /** One prompt: a string, a list of one string, or token ids. */
    prompt: z.union([z.string(), z.array(z.string()).length(1), z.array(z.number().int().nonnegative()).min(1)], {
      error: 'expected one prompt: a string, a list of one string (quiver serve takes one prompt per request), or a list of token ids',
    }),
    max_tokens: z.number().int().positive().nullish(),
    echo: z.boolean().nullish().refine((b) => !b, ONLY('echo')),
    logprobs: z.number().int().nullish().refine((l) => l == null, ONLY('logprobs')),
    suffix: z.string().nullish().refine((s) => !s, ONLY('suffix')),
    best_of: z.number().int().nullish().refine((b) => b == null || b === 1, ONLY('best_of')),
  })
  .refine((r) => r.stream_options == null || r.stream === true, { message: 'Stream options can only be defined when `stream=True`.', path: ['stream_options'] });
export type CompletionRequest = z.infer<typeof CompletionRequest>;

const Part = z.object({ type: z.string(), text: z.string().optional() }).refine((p) => p.type === 'text' && typeof p.text === 'string', ONLY('content parts other than text'));

export const ChatMessage = z.object({
  role: z.string().min(1),
  content: z.union([z.string(), z.array(Part)]).nullish(),
  name: z.string().nullish(),
});

export const ChatCompletionRequest = z
  .object({
    ...SamplingFields,
    messages: z.array(ChatMessage).min(1),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    logprobs: z.boolean().nullish().refine((l) => !l, ONLY('logprobs')),
    top_logprobs: z.number().int().nullish().refine((l) => !l, ONLY('top_logprobs')),
    tools: z.array(z.unknown()).nullish().refine((t) => !t || t.length === 0, ONLY('tools')),
    response_format: z.object({ type: z.string() }).nullish().refine((f) => !f || f.type === 'text', ONLY('response_format other than text')),
    chat_template: z.string().nullish().refine((t) => t == null, ONLY("a request's own chat_template")),
  })
  .refine((r) => r.stream_options == null || r.stream === true, { message: 'Stream options can only be defined when `stream=True`.', path: ['stream_options'] });
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const LoadLoraAdapterRequest = z.object({ lora_name: z.string().min(1), lora_path: z.string().min(1), load_inplace: z.boolean().nullish() });
export const UnloadLoraAdapterRequest = z.object({ lora_name: z.string().min(1), lora_int_id: z.number().int().nullish() });

export const Usage = z.object({
  prompt_tokens: z.number().int(),
  total_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  prompt_tokens_details: z.null(),
});
export type Usage = z.infer<typeof Usage>;

const FinishReason = z.enum(['stop', 'length']);
/** vLLM's extra: the stop string that ended the text (null at <eos> or length). */
const StopReason = z.string().nullable();

export const CompletionResponse = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(z.object({ index: z.number().int(), text: z.string(), logprobs: z.null(), finish_reason: FinishReason.nullable(), stop_reason: StopReason })),
  usage: Usage.nullable(),
  system_fingerprint: z.null(),
});
export type CompletionResponse = z.infer<typeof CompletionResponse>;

export const ChatCompletionResponse = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
      logprobs: z.null(),
      finish_reason: FinishReason,
      stop_reason: StopReason,
    }),
  ),
  usage: Usage,
  system_fingerprint: z.null(),
});
export type ChatCompletionResponse = z.infer<typeof ChatCompletionResponse>;

export const ChatCompletionChunk = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
      logprobs: z.null(),
      finish_reason: FinishReason.nullable(),
      stop_reason: StopReason.optional(),
    }),
  ),
  usage: Usage.nullable().optional(),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;
