/**
 * Weights as a merging backend receives them. LoRAX caches a merged adapter by its ids and
 * weights, so weights that differ in the ninth decimal would each build a new merge: they are
 * rounded to hundredths (largest remainder, so they still sum to exactly 1), and an adapter whose
 * share rounds to 0 is dropped rather than sent with weight 0.
 */
export const MERGE_WEIGHT_STEP = 100;

export function roundMergeWeights(selected: ReadonlyArray<{ id: string; weight: number }>): Array<{ id: string; weight: number }> {
  if (selected.length === 0) return [];
  const total = selected.reduce((s, a) => s + a.weight, 0);
  const exact = selected.map((a) => (total > 0 ? a.weight / total : 1 / selected.length) * MERGE_WEIGHT_STEP);
  const units = exact.map(Math.floor);
  let left = MERGE_WEIGHT_STEP - units.reduce((s, u) => s + u, 0);
  // Hand the remaining hundredths to the largest remainders; ties go to the better-ranked adapter.
  const order = exact.map((x, i) => ({ i, r: x - units[i]! })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    units[i] = units[i]! + 1;
    left--;
  }
  return selected.flatMap((a, i) => (units[i]! > 0 ? [{ id: a.id, weight: units[i]! / MERGE_WEIGHT_STEP }] : []));
}
