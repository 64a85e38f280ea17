/**
 * A downstream inference server that serves many LoRAs, as the worker sees it: `prepare` turns an
 * OpenAI request and the routing choice into the exact body the server takes (the same body
 * `/v1/route` shows as `backend_request`), `send` delivers it and answers in OpenAI's shape.
 */
import type { Endpoint } from '../api/openai-shapes.js';
import type { ChatCompletionRequest, CompletionRequest } from '../api/schemas.js';

export type BackendKind = 'vllm' | 'lorax' | 'workers-ai';

export interface Weighted {
  id: string;
  weight: number;
}

export type OpenAiRequest = ChatCompletionRequest | CompletionRequest;

export interface PreparedCall {
  /** A URL, or the Workers AI model. */
  target: string;
  body: Record<string, unknown>;
  /** What the backend will apply, best first (the `x-quiver-adapters` header); empty: the base model. */
  applied: Weighted[];
}

export interface SendContext {
  endpoint: Endpoint;
  stream: boolean;
  includeUsage: boolean;
  timeoutMs: number;
  /** The `model` an answer built by the worker reports. */
  model: string;
}

export interface Backend {
  readonly kind: BackendKind;
  /** Where requests go, for /healthz; null when not configured. */
  readonly target: string | null;
  /** `adapters`: the routing choice, best first; empty for the base model, whose id is `baseModel`. */
  prepare(endpoint: Endpoint, request: OpenAiRequest, adapters: Weighted[], baseModel: string): PreparedCall;
  send(call: PreparedCall, ctx: SendContext): Promise<Response>;
}

/** The backend could not be reached (502) or was too slow (504); the caller adds the routing. */
export class BackendFailure extends Error {
  override readonly name = 'BackendFailure';
  constructor(
    readonly status: 502 | 503 | 504,
    readonly code: 'backend_unreachable' | 'backend_error' | 'backend_timeout' | 'backend_not_configured',
    message: string,
  ) {
    super(message);
  }
}

/** Runs `call` with an abort signal that fires after `ms`; a timeout becomes a 504 BackendFailure. */
export async function withTimeout<T>(ms: number, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new BackendFailure(504, 'backend_timeout', `${what} did not answer within ${ms} ms (QUIVER_BACKEND_TIMEOUT_MS)`)), ms);
  try {
    return await call(ac.signal);
  } catch (err) {
    if (ac.signal.aborted && ac.signal.reason instanceof BackendFailure) throw ac.signal.reason;
    if (err instanceof BackendFailure) throw err;
    throw new BackendFailure(502, 'backend_unreachable', `${what} is unreachable: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** `fetch` of a JSON POST to an HTTP backend, failing as BackendFailure. */
export async function postJson(url: string, body: unknown, apiKey: string | undefined, signal: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  return fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
}

/** The text of an upstream error body, short enough for a message. */
export async function upstreamMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
