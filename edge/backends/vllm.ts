/**
 * vLLM's OpenAI-compatible server (`vllm serve <base> --enable-lora --lora-modules id=path …`):
 * one adapter per request, named by `model`. The routed request goes on unchanged but for
 * `model` — the top adapter, or the base model below the threshold — and Quiver's own field.
 * Answers, streamed or not, are vLLM's own, passed through.
 */
import { ApiError } from '../api/api-error.js';
import { SSE_HEADERS } from './sse.js';
import { BackendFailure, postJson, upstreamMessage, withTimeout, type Backend, type PreparedCall, type SendContext } from './backend.js';

export class VllmBackend implements Backend {
  readonly kind = 'vllm' as const;
  constructor(
    private readonly baseUrl: string | undefined,
    private readonly apiKey: string | undefined,
  ) {}

  get target(): string | null {
    return this.baseUrl ?? null;
  }

  prepare(endpoint: 'chat' | 'completion', request: Record<string, unknown>, adapters: Array<{ id: string; weight: number }>, baseModel: string): PreparedCall {
    const { quiver: _routing, ...rest } = request;
    const top = adapters[0];
    const path = endpoint === 'chat' ? '/v1/chat/completions' : '/v1/completions';
    return { target: `${(this.baseUrl ?? '').replace(/\/+$/, '')}${path}`, body: { ...rest, model: top?.id ?? baseModel }, applied: top ? [{ id: top.id, weight: 1 }] : [] };
  }

  async send(call: PreparedCall, ctx: SendContext): Promise<Response> {
    if (!this.baseUrl) throw new BackendFailure(503, 'backend_not_configured', 'QUIVER_BACKEND_URL is not set: point it at the vLLM server');
    return withTimeout(ctx.timeoutMs, `vLLM at ${this.baseUrl}`, async (signal) => {
      const res = await postJson(call.target, call.body, this.apiKey, signal);
      if (res.status >= 500) throw new BackendFailure(502, 'backend_error', `vLLM answered ${res.status}: ${await upstreamMessage(res)}`);
      if (!res.ok) return passError(res);
      if (ctx.stream) return new Response(res.body, { status: 200, headers: SSE_HEADERS }); // headers arrived: the timeout ends here
      return new Response(await res.text(), { status: 200, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
    });
  }
}

/** vLLM's 4xx answers are OpenAI errors already; anything else becomes one with the same status. */
async function passError(res: Response): Promise<Response> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (body && typeof body === 'object' && body.error) return Response.json(body, { status: res.status });
  } catch {
    // not JSON: wrapped below
  }
  const err = new ApiError(res.status === 404 ? 404 : 400, `vLLM refused the request (${res.status}): ${text.slice(0, 500)}`, 'invalid_request_error', null, 'backend_refused');
  return Response.json(err.body(), { status: err.status });
}
