/**
 * Cloudflare Workers AI through the worker's AI binding: `env.AI.run(model, {messages | prompt,
 * lora, stream, …})`, one LoRA per request (the top adapter; none below the threshold). The
 * adapters must have been uploaded under their ids (`wrangler ai finetune create`). Answers
 * (`{response}`, or an event stream of them) are translated into OpenAI's shape
 * (docs/interfaces.md, "Serving backends").
 */
import { ChunkWriter, completionObject, type Endpoint, type Usage } from '../api/openai-shapes.js';
import type { ChatCompletionRequest, CompletionRequest } from '../api/schemas.js';
import { messageText } from '../../shared/router/chat-prompt.js';
import { SSE_DONE, SSE_HEADERS, sseDataEvents, sseEvent } from './sse.js';
import { BackendFailure, withTimeout, type Backend, type PreparedCall, type SendContext, type Weighted } from './backend.js';

/** The part of the AI binding the backend uses (`Ai` satisfies it). */
export interface AiBinding {
  run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
}

export class WorkersAiBackend implements Backend {
  readonly kind = 'workers-ai' as const;
  constructor(
    private readonly ai: AiBinding | undefined,
    private readonly model: string,
  ) {}

  get target(): string {
    return this.model;
  }

  prepare(_endpoint: Endpoint, request: ChatCompletionRequest | CompletionRequest, adapters: Weighted[], _baseModel: string): PreparedCall {
    const top = adapters[0];
    const body: Record<string, unknown> =
      'messages' in request
        ? { messages: request.messages.map((m) => ({ role: m.role, content: messageText(m.content) })) }
        : { prompt: typeof request.prompt === 'string' ? request.prompt : request.prompt[0]!, raw: true };
    if (top) body.lora = top.id;
    if (request.stream) body.stream = true;
    const maxTokens = request.max_tokens ?? ('max_completion_tokens' in request ? request.max_completion_tokens : undefined);
    if (typeof maxTokens === 'number') body.max_tokens = maxTokens;
    for (const k of ['temperature', 'top_p', 'top_k', 'seed', 'repetition_penalty', 'frequency_penalty', 'presence_penalty'] as const) {
      const v = request[k];
      if (typeof v === 'number') body[k] = v;
    }
    return { target: this.model, body, applied: top ? [{ id: top.id, weight: 1 }] : [] };
  }

  async send(call: PreparedCall, ctx: SendContext): Promise<Response> {
    const ai = this.ai;
    if (!ai) throw new BackendFailure(503, 'backend_not_configured', 'QUIVER_BACKEND is workers-ai but the worker has no AI binding: deploy with `--env workers-ai` (wrangler.toml)');
    return withTimeout(ctx.timeoutMs, `Workers AI (${this.model})`, async (signal) => {
      const out = await Promise.race([
        ai.run(call.target, call.body),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
      ]);
      if (ctx.stream) {
        if (!(out instanceof ReadableStream)) throw new BackendFailure(502, 'backend_error', 'Workers AI answered a stream request without a stream');
        return new Response((out as ReadableStream<Uint8Array>).pipeThrough(sseDataEvents()).pipeThrough(workersAiToOpenAiStream(ctx)), { status: 200, headers: SSE_HEADERS });
      }
      const r = out as { response?: unknown; usage?: Usage } | null;
      if (!r || typeof r.response !== 'string') throw new BackendFailure(502, 'backend_error', 'Workers AI answered without a response text');
      return Response.json(completionObject(ctx.endpoint, ctx.model, r.response, 'stop', r.usage));
    });
  }
}

/** Workers AI events `{response}` … `[DONE]` → OpenAI chunks. */
function workersAiToOpenAiStream(ctx: SendContext): TransformStream<string, Uint8Array> {
  const writer = new ChunkWriter(ctx.endpoint, ctx.model);
  let usage: Usage | undefined;
  return new TransformStream({
    transform(data, out) {
      if (data.trim() === '[DONE]') return;
      try {
        const ev = JSON.parse(data) as { response?: unknown; usage?: Usage };
        if (ev.usage) usage = ev.usage;
        if (typeof ev.response === 'string') for (const c of writer.text(ev.response)) out.enqueue(sseEvent(c));
      } catch {
        // not an event Workers AI documents
      }
    },
    flush(out) {
      for (const c of writer.finish('stop', usage, ctx.includeUsage)) out.enqueue(sseEvent(c));
      out.enqueue(SSE_DONE);
    },
  });
}
