/** sha256 hex of some byte chunks, through Web Crypto (Node 20 and workerd both have it). */
export async function sha256Hex(chunks: ReadonlyArray<Uint8Array>): Promise<string> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
