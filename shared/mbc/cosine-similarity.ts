/**
 * Cosine similarity between every pair of rows (docs/method.md, "MBC": L2-normalise the reduced
 * vectors, then build the task × task cosine-similarity matrix).
 *
 * An all-zero row (an adapter whose weights are all zero) has no direction: its normalised row
 * stays zero and its similarities, the diagonal included, are 0.
 */
export function l2NormalizeRows(rows: ArrayLike<number>, n: number, d: number): Float64Array {
  if (rows.length !== n * d) throw new RangeError(`rows has ${rows.length} values, expected ${n} × ${d}`);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let c = 0; c < d; c++) sq += rows[i * d + c]! * rows[i * d + c]!;
    const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let c = 0; c < d; c++) out[i * d + c] = rows[i * d + c]! * scale;
  }
  return out;
}

/** Row-major [n, n] matrix S with S[i][j] = cos(row i, row j), exactly symmetric, entries clamped to [-1, 1]. */
export function cosineSimilarityMatrix(rows: ArrayLike<number>, n: number, d: number): Float64Array {
  const unit = l2NormalizeRows(rows, n, d);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += unit[i * d + c]! * unit[j * d + c]!;
      const v = Math.max(-1, Math.min(1, dot));
      s[i * n + j] = v;
      s[j * n + i] = v;
    }
  }
  return s;
}
