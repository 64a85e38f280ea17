/** Server-sent events as a client reads them: POST a JSON body, collect every `data:` payload. */
export async function postSse(url: string, body: unknown, init: { signal?: AbortSignal } = {}): Promise<{ status: number; contentType: string | null; data: string[] }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), data: parseSse(text) };
}

/** The `data:` payloads of an SSE stream, in order (multi-line data joined with "\n"). */
export function parseSse(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim().length > 0)
    .map((block) =>
      block
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n'),
    );
}
