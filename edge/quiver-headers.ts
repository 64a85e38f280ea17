/** The headers on every routed answer: what the backend applied, and which manifest decided. */
export const ADAPTERS_HEADER = 'x-quiver-adapters';
export const MANIFEST_HEADER = 'x-quiver-manifest';
export const BASE_FALLBACK_HEADER = 'x-quiver-base-fallback';

/** `id=weight,...` (empty for the base model). */
export function adaptersHeader(applied: ReadonlyArray<{ id: string; weight: number }>): string {
  return applied.map((a) => `${a.id}=${Number(a.weight.toFixed(6))}`).join(',');
}

export function quiverHeaders(applied: ReadonlyArray<{ id: string; weight: number }>, checksum: string, baseFallback: boolean): Record<string, string> {
  return { [ADAPTERS_HEADER]: adaptersHeader(applied), [MANIFEST_HEADER]: checksum, [BASE_FALLBACK_HEADER]: String(baseFallback) };
}

/** `res` with the Quiver headers added (a fetch Response's headers may be immutable). */
export function withHeaders(res: Response, headers: Record<string, string>): Response {
  const h = new Headers(res.headers);
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
}
