/**
 * LoRAX's native API (`POST /generate`, `/generate_stream`), the one that merges adapters per
 * request: k > 1 adapters go as `merged_adapters {ids, weights, merge_strategy: "linear"}` (LoRAX
 * merges A and B separately, Σw·A and Σw·B: the reference Arrow code's parameter mix), one as
 * `adapter_id`, none for the base model — never both, and always one weight per id. Weights are
 * rounded (shared/router/merge-weights.ts) so LoRAX's merge cache hits. Answers are translated
 * into OpenAI's shape, streamed chunks included (docs/interfaces.md, "Serving backends").
 */
import { invalidRequest } from '../api/api-error.js';
import { ChunkWriter, completionObject, type Endpoint, type Usage } from '../api/openai-shapes.js';
import type { ChatCompletionRequest, CompletionRequest } from '../api/schemas.js';
import { chatRoutedPrompt } from '../../shared/router/chat-prompt.js';
import { roundMergeWeights } from '../../shared/router/merge-weights.js';
import { PROMPT_SEPARATOR } from '../../shared/router/prompt-ids.js';
import { ApiError } from '../api/api-error.js';
import { SSE_DONE, SSE_HEADERS, sseDataEvents, sseEvent } from './sse.js';
import { BackendFailure, postJson, upstreamMessage, withTimeout, type Backend, type PreparedCall, type SendContext, type Weighted } from './backend.js';

export interface LoraxOptions {
  baseUrl: string | undefined;
  apiKey: string | undefined;
  /** LoRAX `adapter_source` (hub, local, s3, pbase); unset: LoRAX's default. */
  adapterSource: string | undefined;
  /** Prepended to every adapter id (e.g. the library's folder on the LoRAX host, for `local`). */
  adapterPrefix: string;
}

/** OpenAI fields LoRAX's /generate has no equivalent for: refused rather than silently dropped. */
function refuseUnsupported(request: Record<string, unknown>): void {
  const unsupported: Array<[string, (v: unknown) => boolean]> = [
    ['n', (v) => typeof v === 'number' && v > 1],
    ['best_of', (v) => typeof v === 'number' && v > 1],
    ['logprobs', (v) => v === true || (typeof v === 'number' && v > 0)],
    ['top_logprobs', (v) => typeof v === 'number' && v > 0],
    ['tools', (v) => Array.isArray(v) && v.length > 0],
    ['logit_bias', (v) => v !== null && v !== undefined],
    ['suffix', (v) => typeof v === 'string' && v !== ''],
    ['presence_penalty', (v) => typeof v === 'number' && v !== 0],
    ['frequency_penalty', (v) => typeof v === 'number' && v !== 0],
    ['response_format', (v) => typeof v === 'object' && v !== null && (v as { type?: string }).type !== 'text'],
  ];
  for (const [field, bad] of unsupported) {
    if (bad(request[field])) throw invalidRequest(`${field} is not supported by the lorax backend (LoRAX's /generate has no such parameter)`, field, 'unsupported_parameter');
  }
}

function loraxFinish(reason: unknown): string {
  return reason === 'length' ? 'length' : 'stop';
}

interface LoraxDetails {
  finish_reason?: string;
  generated_tokens?: number;
  prompt_tokens?: number;
}

function usageOf(d: LoraxDetails | null | undefined): Usage | undefined {
  if (!d || typeof d.generated_tokens !== 'number') return undefined;
  const prompt = typeof d.prompt_tokens === 'number' ? d.prompt_tokens : 0;
  return { prompt_tokens: prompt, completion_tokens: d.generated_tokens, total_tokens: prompt + d.generated_tokens };
}

export class LoraxBackend implements Backend {
  readonly kind = 'lorax' as const;
  constructor(private readonly options: LoraxOptions) {}

  get target(): string | null {
    return this.options.baseUrl ?? null;
  }

  prepare(endpoint: Endpoint, request: ChatCompletionRequest | CompletionRequest, adapters: Weighted[], _baseModel: string): PreparedCall {
    refuseUnsupported(request as Record<string, unknown>);
    const inputs =
      'messages' in request
        ? // The default library's chat template: the last user turn, then the training separator.
          `${chatRoutedPrompt(request.messages) ?? ''}${PROMPT_SEPARATOR}`
        : typeof request.prompt === 'string'
          ? request.prompt
          : request.prompt[0]!;
    const applied = roundMergeWeights(adapters);
    const id = (a: Weighted) => `${this.options.adapterPrefix}${a.id}`;
    const parameters: Record<string, unknown> = { details: true };
    if (applied.length === 1) parameters.adapter_id = id(applied[0]!);
    if (applied.length > 1) parameters.merged_adapters = { ids: applied.map(id), weights: applied.map((a) => a.weight), merge_strategy: 'linear' };
    if (applied.length > 0 && this.options.adapterSource) parameters.adapter_source = this.options.adapterSource;
    const maxTokens = request.max_tokens ?? ('max_completion_tokens' in request ? request.max_completion_tokens : undefined);
    if (typeof maxTokens === 'number') parameters.max_new_tokens = maxTokens;
    // OpenAI's temperature 0 (and its absence, for a router that must be reproducible) is greedy.
    if (typeof request.temperature === 'number' && request.temperature > 0) {
      parameters.do_sample = true;
      parameters.temperature = request.temperature;
    } else {
      parameters.do_sample = false;
    }
    if (typeof request.top_p === 'number' && request.top_p < 1) parameters.top_p = request.top_p;
    if (typeof request.top_k === 'number' && request.top_k > 0) parameters.top_k = request.top_k;
    if (typeof request.seed === 'number') parameters.seed = request.seed;
    if (typeof request.repetition_penalty === 'number') parameters.repetition_penalty = request.repetition_penalty;
    if (request.stop !== undefined && request.stop !== null) parameters.stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
    if ('echo' in request && request.echo) parameters.return_full_text = true;
    const path = request.stream ? '/generate_stream' : '/generate';
    return { target: `${(this.options.baseUrl ?? '').replace(/\/+$/, '')}${path}`, body: { inputs, parameters }, applied };
  }

  async send(call: PreparedCall, ctx: SendContext): Promise<Response> {
    if (!this.options.baseUrl) throw new BackendFailure(503, 'backend_not_configured', 'QUIVER_BACKEND_URL is not set: point it at the LoRAX server');
    return withTimeout(ctx.timeoutMs, `LoRAX at ${this.options.baseUrl}`, async (signal) => {
      const res = await postJson(call.target, call.body, this.options.apiKey, signal);
      if (res.status >= 500) throw new BackendFailure(502, 'backend_error', `LoRAX answered ${res.status}: ${await upstreamMessage(res)}`);
      if (!res.ok) return loraxError(res);
      if (ctx.stream) {
        if (!res.body) throw new BackendFailure(502, 'backend_error', 'LoRAX answered a stream request with no body');
        return new Response(res.body.pipeThrough(sseDataEvents()).pipeThrough(loraxToOpenAiStream(ctx)), { status: 200, headers: SSE_HEADERS });
      }
      const body = (await res.json().catch(() => null)) as { generated_text?: unknown; details?: LoraxDetails } | null;
      if (!body || typeof body.generated_text !== 'string') throw new BackendFailure(502, 'backend_error', 'LoRAX answered without generated_text');
      return Response.json(completionObject(ctx.endpoint, ctx.model, body.generated_text, loraxFinish(body.details?.finish_reason), usageOf(body.details)));
    });
  }
}

/** LoRAX's 4xx `{error, error_type}` as an OpenAI error with the same status. */
async function loraxError(res: Response): Promise<Response> {
  const text = await res.text();
  let message = text.slice(0, 500);
  let code: string | null = 'backend_refused';
  try {
    const b = JSON.parse(text) as { error?: unknown; error_type?: unknown };
    if (typeof b.error === 'string') message = b.error;
    if (typeof b.error_type === 'string') code = b.error_type;
  } catch {
    // plain text: kept as the message
  }
  const err = new ApiError(res.status === 404 ? 404 : res.status === 429 ? 429 : 400, `LoRAX refused the request (${res.status}): ${message}`, 'invalid_request_error', null, code);
  return Response.json(err.body(), { status: err.status });
}

/** `/generate_stream` events → OpenAI chunks, one event in, its chunks out, then `[DONE]`. */
function loraxToOpenAiStream(ctx: SendContext): TransformStream<string, Uint8Array> {
  const writer = new ChunkWriter(ctx.endpoint, ctx.model);
  let finished = false;
  return new TransformStream({
    transform(data, out) {
      if (finished) return;
      let ev: { token?: { text?: unknown; special?: unknown }; generated_text?: unknown; details?: LoraxDetails | null; error?: unknown } | null;
      try {
        ev = JSON.parse(data) as typeof ev;
      } catch {
        return; // not an event LoRAX documents
      }
      if (!ev) return;
      if (ev.error !== undefined) {
        out.enqueue(sseEvent({ error: { message: `LoRAX: ${String(ev.error)}`, type: 'backend_error', param: null, code: 'backend_error' } }));
        finished = true;
        return;
      }
      if (ev.token && ev.token.special !== true && typeof ev.token.text === 'string') for (const c of writer.text(ev.token.text)) out.enqueue(sseEvent(c));
      if (typeof ev.generated_text === 'string') {
        for (const c of writer.finish(loraxFinish(ev.details?.finish_reason), usageOf(ev.details), ctx.includeUsage)) out.enqueue(sseEvent(c));
        finished = true;
      }
    },
    flush(out) {
      if (!finished) for (const c of writer.finish('stop', undefined, false)) out.enqueue(sseEvent(c));
      out.enqueue(SSE_DONE);
    },
  });
}
