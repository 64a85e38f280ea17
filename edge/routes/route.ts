import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { chatRoutedPrompt } from '../../shared/router/chat-prompt.js';
import type { GetDeps } from '../app-deps.js';
import { invalidRequest } from '../api/api-error.js';
import { BAD_REQUEST, UNAUTHORIZED } from '../api/error-responses.js';
import { routingResponse } from '../api/routing-response.js';
import { RouteRequest, RouteResponse } from '../api/schemas.js';
import { decideRoute } from '../route-decision.js';
import { quiverHeaders } from '../quiver-headers.js';

const route = createRoute({
  method: 'post',
  path: '/v1/route',
  summary: 'Route a prompt with Arrow: the adapters and weights chosen, every score, and the exact backend request',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: RouteRequest } } } },
  responses: {
    200: { content: { 'application/json': { schema: RouteResponse } }, description: 'The routing decision' },
    ...BAD_REQUEST,
    ...UNAUTHORIZED,
  },
});

export function registerRoute(app: OpenAPIHono<{ Bindings: Env }>, deps: GetDeps): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const { input, messages, ...overrides } = body;
    if ((input === undefined) === (messages === undefined)) throw invalidRequest('give exactly one of input or messages', input === undefined ? 'input' : 'messages', 'invalid_value');
    const d = deps();
    const { library } = await d.library.get();
    const md = library.manifest.metadata;
    const text = input ?? chatRoutedPrompt(messages!);
    if (text === null) throw invalidRequest('messages has no user message: there is nothing to route', 'messages', 'empty_input');
    const r = await decideRoute(library, text, overrides, input !== undefined ? 'input' : 'messages');
    // The body the configured backend would receive for this prompt as a plain completion request.
    const request = messages !== undefined ? { model: 'auto', messages } : { model: 'auto', prompt: input! };
    const call = d.backend.prepare(messages !== undefined ? 'chat' : 'completion', request, r.selected, md.baseModel);
    for (const [k, v] of Object.entries(quiverHeaders(call.applied, md.checksum, r.belowThreshold))) c.header(k, v);
    return c.json(
      {
        adapters: r.selected,
        scores: r.scores,
        base_fallback: r.belowThreshold,
        tokens: r.tokens,
        prompt_tokens: r.promptTokens,
        window: library.window,
        routing: routingResponse(r.routing),
        manifest: md.checksum,
        backend: { backend: d.backend.kind, target: call.target },
        backend_request: call.body,
      },
      200,
    );
  });
}
