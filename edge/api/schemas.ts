/**
 * Every body the worker takes or gives, as zod schemas: handlers validate with them and
 * `GET /openapi.json` is generated from them, so the document cannot drift from the code. JSON is
 * snake_case, as OpenAI's. Request objects are strict: an unknown field is a 400 naming it.
 */
import { z } from '@hono/zod-openapi';
import { RoutingResponse } from './routing-response.js';

export const ErrorBody = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string().openapi({ example: 'invalid_request_error' }),
      param: z.string().nullable().openapi({ description: 'The request field at fault, dotted (e.g. `messages.0.content`); null when none' }),
      code: z.string().nullable(),
    }),
  })
  .openapi('Error');

const Weighted = z.object({ id: z.string(), weight: z.number() });

/** The routing decision carried by 502/504 errors and the route response. */
export const RoutingSummary = z
  .object({
    adapters: z.array(Weighted).openapi({ description: 'What the backend was (or would be) asked to apply, best first' }),
    base_fallback: z.boolean(),
    manifest: z.string().openapi({ description: 'Checksum of the manifest that routed' }),
  })
  .openapi('RoutingSummary');

export const BackendErrorBody = ErrorBody.extend({ routing: RoutingSummary }).openapi('BackendError');

export const RoutingOverrides = z.strictObject({
  top_k: z.number().int().min(1).optional().openapi({ description: "Adapters kept (1..number of adapters); default: the manifest's" }),
  temperature: z.number().positive().optional().openapi({ description: "Softmax temperature over the kept Arrow logits; default: the manifest's" }),
  threshold: z.number().min(0).max(1).optional().openapi({ description: "Below this best score the base model is served; default: the manifest's" }),
});

const TextPart = z.object({ type: z.literal('text'), text: z.string() }).loose();
const OtherPart = z.object({ type: z.string() }).loose();

export const ChatMessage = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: z.union([z.string(), z.array(z.union([TextPart, OtherPart]))]).nullable().optional(),
    name: z.string().optional(),
    tool_calls: z.array(z.unknown()).optional(),
    tool_call_id: z.string().optional(),
    refusal: z.string().nullable().optional(),
  })
  .openapi('ChatMessage');

export const RouteRequest = RoutingOverrides.extend({
  input: z.string().optional().openapi({ description: 'A prompt, routed as a task input', example: 'Reverse the word: apple' }),
  messages: z.array(ChatMessage).optional().openapi({ description: 'A conversation, routed on its last user message' }),
}).openapi('RouteRequest');

export const BackendRequest = z
  .object({
    backend: z.enum(['vllm', 'lorax', 'workers-ai']),
    target: z.string().openapi({ description: 'Where the body goes: a URL, or the Workers AI model' }),
  })
  .openapi('BackendTarget');

export const RouteResponse = z
  .object({
    adapters: z.array(Weighted).openapi({ description: 'The adapters chosen, best first, weights summing to 1; empty below the threshold' }),
    scores: z.array(z.object({ id: z.string(), score: z.number() })).openapi({ description: "Every adapter's aggregated Arrow score, in manifest order" }),
    base_fallback: z.boolean().openapi({ description: 'The best score was under the threshold: the base model serves' }),
    tokens: z.number().int().openapi({ description: 'Prompt tokens routed on (at most the window)' }),
    prompt_tokens: z.number().int().openapi({ description: 'Prompt tokens before the window' }),
    window: z.number().int().nullable().openapi({ description: "The embedder's window: longer prompts are routed on their first `window` tokens" }),
    routing: RoutingResponse,
    manifest: z.string().openapi({ description: 'Checksum of the manifest that routed' }),
    backend: BackendRequest,
    backend_request: z.record(z.string(), z.unknown()).openapi({ description: 'The exact JSON body the configured backend would receive' }),
  })
  .openapi('RouteResponse');

export const QuiverExtension = RoutingOverrides.openapi('QuiverRoutingOverrides', { description: 'Quiver only: routing overrides for `model: "auto"`' });

const Stop = z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional();

/** OpenAI's sampling fields both endpoints share, plus vLLM's common extras. */
const SamplingFields = {
  model: z.string().min(1).openapi({ description: '`auto` (or `quiver`) routes; an adapter id or the base model id is passed through unrouted', example: 'auto' }),
  max_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  n: z.number().int().min(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
  stop: Stop,
  seed: z.number().int().nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  logprobs: z.union([z.boolean(), z.number().int()]).nullable().optional(),
  user: z.string().optional(),
  top_k: z.number().int().nullable().optional().openapi({ description: "vLLM's sampling top-k (not routing: see `quiver.top_k`)" }),
  min_p: z.number().min(0).max(1).nullable().optional(),
  repetition_penalty: z.number().positive().nullable().optional(),
  quiver: QuiverExtension.optional(),
};

export const ChatCompletionRequest = z
  .strictObject({
    ...SamplingFields,
    messages: z.array(ChatMessage).min(1),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
    response_format: z.object({ type: z.string() }).loose().optional(),
    tools: z.array(z.unknown()).optional(),
    tool_choice: z.unknown().optional(),
    parallel_tool_calls: z.boolean().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    store: z.boolean().nullable().optional(),
  })
  .openapi('ChatCompletionRequest');
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const CompletionRequest = z
  .strictObject({
    ...SamplingFields,
    prompt: z.union([z.string(), z.array(z.string()).length(1)]).openapi({ description: 'One prompt (a string, or an array of one string)' }),
    echo: z.boolean().nullable().optional(),
    suffix: z.string().nullable().optional(),
    best_of: z.number().int().min(1).nullable().optional(),
  })
  .openapi('CompletionRequest');
export type CompletionRequest = z.infer<typeof CompletionRequest>;

const Usage = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() }).loose();

export const ChatCompletion = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({ role: z.literal('assistant'), content: z.string().nullable() }).loose(),
        finish_reason: z.string().nullable(),
        logprobs: z.unknown().nullable(),
      }),
    ),
    usage: Usage.optional(),
  })
  .loose()
  .openapi('ChatCompletion', { description: "OpenAI's shape; `text/event-stream` of `chat.completion.chunk` objects ending in `data: [DONE]` when `stream` is true" });

export const Completion = z
  .object({
    id: z.string(),
    object: z.literal('text_completion'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(z.object({ index: z.number().int(), text: z.string(), finish_reason: z.string().nullable(), logprobs: z.unknown().nullable() })),
    usage: Usage.optional(),
  })
  .loose()
  .openapi('Completion', { description: "OpenAI's shape; `text/event-stream` of `text_completion` chunks ending in `data: [DONE]` when `stream` is true" });

export const Health = z
  .object({
    ok: z.boolean(),
    checksum: z.string().nullable(),
    source: z.enum(['bundled', 'r2']).nullable(),
    adapters: z.number().int(),
    modules: z.number().int(),
    refusal: z
      .object({ reason: z.string(), key: z.string(), etag: z.string().nullable(), since: z.string() })
      .nullable()
      .openapi({ description: 'The last manifest found in R2 that was refused, until a good one arrives' }),
    backend: z.object({ kind: z.enum(['vllm', 'lorax', 'workers-ai']), target: z.string().nullable() }),
  })
  .openapi('Health');

export const AdapterTable = z
  .object({
    version: z.literal(1),
    base_model: z.string(),
    checksum: z.string(),
    source: z.enum(['bundled', 'r2']),
    routing: RoutingResponse,
    adapters: z.array(
      z.object({ id: z.string(), kind: z.enum(['private', 'mbc', 'imported']), tasks: z.array(z.string()), cluster: z.string().nullable(), r: z.number().int() }),
    ),
    clusters: z
      .array(z.object({ id: z.string(), adapters: z.array(z.string()), tasks: z.array(z.string()) }))
      .openapi({ description: 'MBC clusters: the routed adapters in each, and their tasks' }),
  })
  .openapi('AdapterTable');

export const ModelList = z
  .object({
    object: z.literal('list'),
    data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() })),
  })
  .openapi('ModelList');
