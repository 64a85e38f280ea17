/**
 * `quiver serve`'s HTTP app (Hono, as the edge worker): vLLM's OpenAI-compatible routes under
 * /v1, LoRAX's /generate and /generate_stream, and GET /health. One error handler: a failure on a
 * LoRAX route is LoRAX's `{error, error_type}`, anywhere else vLLM's `{error: {message, type,
 * param, code}}`; an unexpected error is a 500 (logged), never a crash.
 */
import { Hono, type Context } from 'hono';
import { registerLoraxRoutes, loraxErrorResponse } from './lorax-routes.js';
import { openAiErrorResponse, registerOpenAiRoutes } from './openai-routes.js';
import { notFound, ServeError } from './serve-error.js';
import type { ServeDeps } from './serve-deps.js';

const isLoraxPath = (path: string) => path === '/generate' || path === '/generate_stream';

function errorResponse(c: Context, err: unknown): Response {
  if (!(err instanceof ServeError)) console.error(err);
  return isLoraxPath(c.req.path) ? loraxErrorResponse(c, err) : openAiErrorResponse(c, err);
}

export function createServeApp(deps: ServeDeps): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.body(null, 200));
  registerOpenAiRoutes(app, deps);
  registerLoraxRoutes(app, deps);
  app.notFound((c) => errorResponse(c, notFound(`no route ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
