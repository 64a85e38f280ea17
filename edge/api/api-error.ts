/**
 * The worker's one error type: an HTTP status and OpenAI's error object
 * `{error: {message, type, param, code}}`. Handlers throw it; the app's one error handler writes
 * it. A backend failure also carries the routing decision, so a client still learns what was chosen.
 */
import type { z } from '@hono/zod-openapi';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { RoutingSummary } from './schemas.js';

export type ErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'backend_error' | 'service_unavailable' | 'internal_error';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly type: ErrorType,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly routing: z.infer<typeof RoutingSummary> | null = null,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    const error = { message: this.message, type: this.type, param: this.param, code: this.code };
    return this.routing ? { error, routing: this.routing } : { error };
  }
}

/** A 400 naming the field at fault. */
export function invalidRequest(message: string, param: string | null, code = 'invalid_value'): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}
