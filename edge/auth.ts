/**
 * Bearer keys for /v1: `Authorization: Bearer <key>` must be one of QUIVER_API_KEYS (a secret,
 * comma-separated). Keys are compared as SHA-256 digests, byte by byte without an early exit and
 * against every key, so the time taken says nothing about how much of a key was right. The worker
 * is open only when QUIVER_AUTH=none is set and no key is configured.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './api/api-error.js';
import type { EdgeConfig } from './config.js';

async function digest(s: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s)));
}

/** True when `given` equals one of `keys`, in time independent of where they differ. */
export async function matchesAnyKey(given: string, keys: readonly string[]): Promise<boolean> {
  const g = await digest(given);
  let any = 0;
  for (const key of keys) {
    const k = await digest(key);
    let diff = 0;
    for (let i = 0; i < g.length; i++) diff |= g[i]! ^ k[i]!;
    any |= diff === 0 ? 1 : 0;
  }
  return any === 1;
}

export function bearerAuth(config: () => EdgeConfig): MiddlewareHandler {
  return async function quiverBearerAuth(c, next) {
    if (c.req.method === 'OPTIONS') return next(); // CORS preflight carries no credentials
    const { QUIVER_API_KEYS: keys, QUIVER_AUTH: mode } = config();
    if (keys.length === 0) {
      if (mode === 'none') return next();
      throw new ApiError(401, 'this worker has no API keys: set the secret QUIVER_API_KEYS (wrangler secret put QUIVER_API_KEYS), or QUIVER_AUTH=none to run it open', 'authentication_error', null, 'no_keys_configured');
    }
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S.*)$/i.exec(header);
    if (!m) throw new ApiError(401, 'missing API key: send `Authorization: Bearer <key>`', 'authentication_error', null, 'missing_api_key');
    if (!(await matchesAnyKey(m[1]!.trim(), keys))) throw new ApiError(401, 'incorrect API key', 'authentication_error', null, 'invalid_api_key');
    await next();
  };
}
