/**
 * `POST /v1/chat/completions` and `POST /v1/completions` in OpenAI's shapes: the adapters are
 * chosen (choose-adapters.ts), the backend gets its own form of the request, and its answer comes
 * back in OpenAI's shape — streamed answers piped through as they arrive — with the Quiver headers.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { chatRoutedPrompt } from '../../shared/router/chat-prompt.js';
import type { GetDeps } from '../app-deps.js';
import { ApiError } from '../api/api-error.js';
import type { Endpoint } from '../api/openai-shapes.js';
import { BAD_REQUEST, NO_SUCH_MODEL, UNAUTHORIZED } from '../api/error-responses.js';
import { BackendErrorBody, ChatCompletion, ChatCompletionRequest, Completion, CompletionRequest } from '../api/schemas.js';
import { BackendFailure, type OpenAiRequest } from '../backends/backend.js';
import { chooseAdapters } from '../choose-adapters.js';
import { quiverHeaders, withHeaders } from '../quiver-headers.js';

const errors = {
  ...BAD_REQUEST,
  ...UNAUTHORIZED,
  ...NO_SUCH_MODEL,
  502: { content: { 'application/json': { schema: BackendErrorBody } }, description: 'The backend is unreachable or failed; the routing decision is included' },
  504: { content: { 'application/json': { schema: BackendErrorBody } }, description: 'The backend was slower than QUIVER_BACKEND_TIMEOUT_MS; the routing decision is included' },
} as const;

const chat = createRoute({
  method: 'post',
  path: '/v1/chat/completions',
  summary: 'Chat completion, routed to the adapters chosen for the last user message',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: ChatCompletionRequest } } } },
  responses: { 200: { content: { 'application/json': { schema: ChatCompletion }, 'text/event-stream': { schema: ChatCompletion } }, description: 'The completion' }, ...errors },
});

const completion = createRoute({
  method: 'post',
  path: '/v1/completions',
  summary: 'Text completion, routed to the adapters chosen for the prompt',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: CompletionRequest } } } },
  responses: { 200: { content: { 'application/json': { schema: Completion }, 'text/event-stream': { schema: Completion } }, description: 'The completion' }, ...errors },
});

async function serve(deps: GetDeps, endpoint: Endpoint, request: OpenAiRequest): Promise<Response> {
  const d = deps();
  const { library } = await d.library.get();
  const md = library.manifest.metadata;
  const prompt = () =>
    'messages' in request
      ? { text: chatRoutedPrompt(request.messages), param: 'messages' }
      : { text: typeof request.prompt === 'string' ? request.prompt : request.prompt[0]!, param: 'prompt' };
  const choice = await chooseAdapters(library, request.model, prompt, request.quiver);
  const call = d.backend.prepare(endpoint, request, choice.adapters, md.baseModel);
  const headers = quiverHeaders(call.applied, md.checksum, choice.baseFallback);
  const model = call.applied[0]?.id ?? md.baseModel;
  try {
    const res = await d.backend.send(call, {
      endpoint,
      stream: request.stream === true,
      includeUsage: request.stream_options?.include_usage === true,
      timeoutMs: d.config.QUIVER_BACKEND_TIMEOUT_MS,
      model,
    });
    return withHeaders(res, headers);
  } catch (err) {
    if (!(err instanceof BackendFailure)) throw err;
    const e = new ApiError(err.status, err.message, 'backend_error', null, err.code, { adapters: call.applied, base_fallback: choice.baseFallback, manifest: md.checksum });
    return withHeaders(Response.json(e.body(), { status: e.status }), headers);
  }
}

export function registerCompletions(app: OpenAPIHono<{ Bindings: Env }>, deps: GetDeps): void {
  app.openapi(chat, (c) => serve(deps, 'chat', c.req.valid('json')));
  app.openapi(completion, (c) => serve(deps, 'completion', c.req.valid('json')));
}
