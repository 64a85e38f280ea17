/**
 * The MBC sparsity threshold of one adapter (docs/method.md, "MBC"): the median of the magnitudes of
 * its flattened weights. Entries at or below it are zeroed, keeping the largest 50%.
 *
 * Exact, in O(n) expected time by quickselect, because an adapter of a 7B model flattens to
 * ~17M values: sorting a copy would cost seconds and a second copy's worth of memory for nothing.
 * For an even count the median is the mean of the two middle values (numpy's convention).
 */
export function medianMagnitude(values: ArrayLike<number>): number {
  // Same precision as the input: a float32 adapter's median is one of (or between two of) its values.
  const copy = values instanceof Float32Array ? Float32Array.from(values) : Float64Array.from(values);
  return medianMagnitudeInPlace(copy);
}

/**
 * As {@link medianMagnitude}, but overwrites `values` with a permutation of their magnitudes: the
 * streaming pass owns a scratch buffer per adapter and needs no second copy of ~17M floats.
 */
export function medianMagnitudeInPlace(values: Float32Array | Float64Array): number {
  const n = values.length;
  if (n === 0) throw new RangeError('median of an empty vector');
  for (let i = 0; i < n; i++) {
    const m = Math.abs(values[i]!);
    // `!(m <= Infinity)` is true only for NaN.
    if (!(m <= Infinity)) throw new RangeError(`value ${i} is NaN: the adapter's weights are corrupt`);
    values[i] = m;
  }
  if (n % 2 === 1) return select(values, (n - 1) >> 1);
  const lowerIndex = n / 2 - 1;
  const lower = select(values, lowerIndex);
  // After select, everything right of lowerIndex is >= lower: the next order statistic is their minimum.
  let upper = Infinity;
  for (let i = lowerIndex + 1; i < n; i++) if (values[i]! < upper) upper = values[i]!;
  return (lower + upper) / 2;
}

/**
 * Hoare's selection: permutes `a` so that a[k] is its k-th smallest value, everything left of k is
 * <= a[k] and everything right is >= a[k]. Pivot = median of three pseudo-random positions, so no
 * input order (sorted, organ-pipe, many ties such as a zero-initialised B) degrades it to O(n²).
 */
function select(a: Float32Array | Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let state = 0x9e3779b9;
  const randomIndex = (from: number, to: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return from + (state % (to - from + 1));
  };
  while (hi > lo) {
    const x = a[randomIndex(lo, hi)]!;
    const y = a[randomIndex(lo, hi)]!;
    const z = a[randomIndex(lo, hi)]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now a[lo..j] <= pivot, a[j+1..i-1] == pivot, a[i..hi] >= pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}
