/**
 * Server-sent events both ways, as streams: upstream bytes → the `data` of each event, and
 * objects → `data: …\n\n` bytes ending in OpenAI's `data: [DONE]`. Each event is passed on as
 * soon as it is complete, so a stream is translated without buffering it.
 */

/** Bytes of an event stream → the data field of each event (multi-line data joined with \n). */
export function sseDataEvents(): TransformStream<Uint8Array, string> {
  const decoder = new TextDecoder();
  let buf = '';
  let data: string[] = [];
  const line = (l: string, out: TransformStreamDefaultController<string>) => {
    if (l === '') {
      if (data.length > 0) out.enqueue(data.join('\n'));
      data = [];
    } else if (l.startsWith('data:')) {
      data.push(l.slice(l.startsWith('data: ') ? 6 : 5));
    } // comments (`:`), `event:`, `id:` and `retry:` carry nothing the translators use
  };
  return new TransformStream({
    transform(chunk, out) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.search(/\r\n|\r|\n/)) >= 0) {
        const nl = buf.startsWith('\r\n', i) ? 2 : 1;
        line(buf.slice(0, i), out);
        buf = buf.slice(i + nl);
      }
    },
    flush(out) {
      buf += decoder.decode();
      if (buf !== '') line(buf, out);
      line('', out);
    },
  });
}

const encoder = new TextEncoder();

/** One SSE event carrying `value` as JSON. */
export function sseEvent(value: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(value)}\n\n`);
}

export const SSE_DONE = encoder.encode('data: [DONE]\n\n');

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } as const;
