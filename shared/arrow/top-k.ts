/**
 * Indices of the k largest values, largest first; ties go to the lower index so results are
 * deterministic. k is clamped to [0, values.length].
 */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  const kk = Math.max(0, Math.min(k, n));
  if (kk === 0) return [];
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((i, j) => values[j]! - values[i]! || i - j);
  return order.slice(0, kk);
}
