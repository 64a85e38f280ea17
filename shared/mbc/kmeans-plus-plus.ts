import type { Rng } from '../random.js';

/**
 * Seeded k-means++ seeding (Arthur & Vassilvitskii 2007): the first centre uniformly at random,
 * each next one a point drawn with probability proportional to its squared distance to the
 * nearest centre chosen so far. Returns the indices of the chosen points, in order.
 *
 * Our own rather than ml-kmeans's: that one is unusable on long vectors (docs/environment.md, "Linear algebra and clustering") and
 * draws from its own generator; this one draws from the caller's `Rng`, so a seed fixes the
 * whole clustering. When every remaining point coincides with a centre (duplicates, k larger
 * than the number of distinct points) the next centre is drawn uniformly among the points not
 * yet chosen, so the k indices are always distinct.
 */
export function kmeansPlusPlus(points: ReadonlyArray<ArrayLike<number>>, k: number, rng: Rng): number[] {
  const n = points.length;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`k must be an integer in 1..${n}, got ${k}`);
  const chosen: number[] = [rng.int(n)];
  const isChosen = new Uint8Array(n);
  isChosen[chosen[0]!] = 1;
  const nearest = new Float64Array(n).fill(Infinity);
  while (chosen.length < k) {
    const last = points[chosen[chosen.length - 1]!]!;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (isChosen[i]) {
        nearest[i] = 0;
        continue;
      }
      const d = squaredDistance(points[i]!, last);
      if (d < nearest[i]!) nearest[i] = d;
      total += nearest[i]!;
    }
    let next = -1;
    if (total > 0) {
      let target = rng.next() * total;
      for (let i = 0; i < n; i++) {
        if (isChosen[i] || nearest[i] === 0) continue;
        next = i;
        target -= nearest[i]!;
        if (target < 0) break;
      }
    } else {
      let target = rng.int(n - chosen.length);
      for (let i = 0; i < n; i++) {
        if (isChosen[i]) continue;
        next = i;
        if (target-- === 0) break;
      }
    }
    chosen.push(next);
    isChosen[next] = 1;
  }
  return chosen;
}

export function squaredDistance(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let c = 0; c < x.length; c++) {
    const diff = x[c]! - y[c]!;
    s += diff * diff;
  }
  return s;
}
