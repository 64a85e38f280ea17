/**
 * The worker's HTTP surface: one OpenAPIHono app whose routes validate with the zod schemas of
 * api/schemas.ts (GET /openapi.json is generated from them), behind CORS, a 1 MiB body limit and
 * bearer keys, with one error handler that turns every failure into OpenAI's error shape: a
 * client's mistake is a 4xx naming the field, an operator's (configuration, a broken bundle) a 503.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { QuiverInputError } from '../shared/errors.js';
import { ApiError, invalidRequest } from './api/api-error.js';
import type { GetDeps } from './app-deps.js';
import { bearerAuth } from './auth.js';
import { ConfigError } from './config.js';
import { ADAPTERS_HEADER, BASE_FALLBACK_HEADER, MANIFEST_HEADER } from './quiver-headers.js';
import { registerAdapters } from './routes/adapters.js';
import { registerCompletions } from './routes/completions.js';
import { registerHealth } from './routes/health.js';
import { registerRoute } from './routes/route.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** The first problem of a failed validation as a 400 whose `param` is the field's dotted path. */
export function validationError(error: z.ZodError): ApiError {
  const issue = error.issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return invalidRequest(`unknown field "${key}"${path.length ? ` in ${path.join('.')}` : ''}`, [...path, key].join('.'), 'unknown_field');
  }
  const param = path.length > 0 ? path.join('.') : null;
  return invalidRequest(param ? `${param}: ${issue.message}` : issue.message, param, issue.code === 'invalid_type' ? 'invalid_type' : 'invalid_value');
}

export function createApp(deps: GetDeps): OpenAPIHono<{ Bindings: Env }> {
  const app = new OpenAPIHono<{ Bindings: Env }>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });

  app.use('*', async function quiverCors(c, next) {
    const origins = deps().config.CORS_ORIGINS;
    if (origins.length === 0) return next();
    return cors({
      origin: origins.includes('*') ? '*' : origins,
      allowHeaders: ['authorization', 'content-type'],
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      exposeHeaders: [ADAPTERS_HEADER, MANIFEST_HEADER, BASE_FALLBACK_HEADER],
      maxAge: 600,
    })(c, next);
  });
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes (1 MiB)`, 'invalid_request_error', null, 'request_too_large');
      },
    }),
  );
  app.use('/v1/*', bearerAuth(() => deps().config));

  registerHealth(app, deps);
  registerAdapters(app, deps);
  registerRoute(app, deps);
  registerCompletions(app, deps);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'One of the QUIVER_API_KEYS' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Quiver edge router', version: '1.0.0', description: 'Routes each request to the LoRA adapters Arrow picks, and forwards it to a multi-LoRA backend (vLLM, LoRAX, Workers AI).' },
  });

  app.notFound((c) => c.json(new ApiError(404, `no route ${c.req.method} ${c.req.path}; the API is in GET /openapi.json`, 'not_found_error', null, 'not_found').body(), 404));

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.body(), err.status);
    if (err instanceof HTTPException) {
      // Hono's own refusals: malformed JSON (400), a body without a JSON content type (415).
      const status = err.status as ContentfulStatusCode;
      const code = status === 400 ? 'invalid_json' : status === 415 ? 'unsupported_media_type' : 'http_error';
      const message = status === 415 ? 'send the body as JSON with `content-type: application/json`' : err.message || 'bad request';
      return c.json(new ApiError(status, message, 'invalid_request_error', null, code).body(), status);
    }
    if (err instanceof ConfigError) return c.json(new ApiError(503, err.message, 'service_unavailable', null, 'misconfigured').body(), 503);
    if (err instanceof QuiverInputError) return c.json(new ApiError(503, `the bundled library cannot be opened: ${err.message}`, 'service_unavailable', null, 'library_invalid').body(), 503);
    console.error(err);
    return c.json(new ApiError(500, 'internal error', 'internal_error', null, 'internal').body(), 500);
  });
  return app;
}
