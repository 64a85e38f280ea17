/**
 * Server-sent events for a generation that has already started: `data: <line>\n\n` per event
 * (Hono's streamSSE). Writing waits for the client, which is fine here: the engine never waits for
 * this writer (its tokens queue up in between). When the client goes away, `abort` fires, which
 * cancels the generation.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';

export function sseResponse(c: Context, abort: AbortController, write: (send: (data: string) => Promise<void>) => Promise<void>): Response {
  // Proxies (nginx) must not buffer a token stream; LoRAX sends the same header.
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (stream) => {
    stream.onAbort(() => abort.abort());
    try {
      await write((data) => stream.writeSSE({ data }));
    } catch (err) {
      // A write after the client left, or a bug in a writer: end this stream only.
      abort.abort();
      if (!stream.aborted) console.error(err);
    }
  });
}

/** An AbortController that also fires when the HTTP request's own signal does (client gone). */
export function requestAbort(c: Context): AbortController {
  const abort = new AbortController();
  const signal = c.req.raw.signal;
  if (signal.aborted) abort.abort();
  else signal.addEventListener('abort', () => abort.abort(), { once: true });
  return abort;
}
