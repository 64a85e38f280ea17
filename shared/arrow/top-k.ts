/**
 * The one top-k of routing, and its tie rule: larger values first; equal values in index order
 * (the lower index wins); NaN ranks below every number. Every top-k and argmax of routing — per
 * token (logit-routing.ts), per request (request-routing.ts), eval's per-layer winners, the order
 * `quiver route` prints, calibration — goes through `selectTopK`; the TensorFlow.js graph
 * (build/model/arrow-router.ts) implements the same rule and is tested against it.
 *
 * Insertion into k slots rather than a sort: it runs for every token of every routed module of
 * every request at the edge, where k is a few and the adapters tens to hundreds.
 */

/** `a` ranks before `b` when b is NaN and a is not, or a > b (equal values keep index order). */
function before(a: number, b: number): boolean {
  return a > b || (b !== b && a === a);
}

/**
 * The k best of `values[offset .. offset + length)`, best first, written to `index` (positions
 * relative to `offset`) and `value`; returns how many were written, min(k, length). `index` and
 * `value` need room for that many.
 */
export function selectTopK(values: ArrayLike<number>, offset: number, length: number, k: number, index: Int32Array, value: Float64Array): number {
  const kk = Math.max(0, Math.min(k, length));
  if (index.length < kk || value.length < kk) throw new RangeError(`top-${kk} needs ${kk} slots, got ${Math.min(index.length, value.length)}`);
  let n = 0;
  for (let e = 0; e < length; e++) {
    const v = values[offset + e]!;
    // A value only enters a full list by ranking strictly before its last entry: a tie keeps the earlier index.
    if (n === kk && !before(v, value[kk - 1]!)) continue;
    let j = n < kk ? n++ : kk - 1;
    while (j > 0 && before(v, value[j - 1]!)) {
      value[j] = value[j - 1]!;
      index[j] = index[j - 1]!;
      j--;
    }
    value[j] = v;
    index[j] = e;
  }
  return kk;
}

/** Indices of the k largest values, largest first, by the tie rule above. k is clamped to [0, values.length]. */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  const kk = Math.max(0, Math.min(k, values.length));
  const index = new Int32Array(kk);
  selectTopK(values, 0, values.length, kk, index, new Float64Array(kk));
  return Array.from(index);
}

/** Index of the largest value by the tie rule above; -1 for no values. */
export function argmax(values: ArrayLike<number>): number {
  return values.length === 0 ? -1 : topKIndices(values, 1)[0]!;
}
