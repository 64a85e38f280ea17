import { squaredDistance } from './kmeans-plus-plus.js';

/**
 * Silhouette of a clustering under Euclidean distance (Rousseeuw 1987; sklearn's
 * silhouette_samples): for point i, a = mean distance to the other members of its cluster,
 * b = the smallest mean distance to the members of another cluster, s = (b − a) / max(a, b);
 * s = 0 for a point alone in its cluster. `--auto` picks the k with the highest mean.
 *
 * O(n² d), fine for the few hundred adapters of a library.
 */
export function silhouetteSamples(points: ReadonlyArray<ArrayLike<number>>, labels: readonly number[]): Float64Array {
  const n = points.length;
  if (labels.length !== n) throw new RangeError(`${labels.length} labels for ${n} points`);
  const k = new Set(labels).size;
  if (k < 2 || k > n - 1) throw new RangeError(`silhouette needs 2..${n - 1} clusters, got ${k}`);
  const clusterIds = [...new Set(labels)];
  const index = new Map(clusterIds.map((id, c) => [id, c]));
  const sizes = new Float64Array(k);
  for (const label of labels) {
    const c = index.get(label)!;
    sizes[c] = sizes[c]! + 1;
  }
  const out = new Float64Array(n);
  const sums = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const own = index.get(labels[i]!)!;
    if (sizes[own] === 1) continue;
    sums.fill(0);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const c = index.get(labels[j]!)!;
      sums[c] = sums[c]! + Math.sqrt(squaredDistance(points[i]!, points[j]!));
    }
    const a = sums[own]! / (sizes[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own) b = Math.min(b, sums[c]! / sizes[c]!);
    const denominator = Math.max(a, b);
    out[i] = denominator > 0 ? (b - a) / denominator : 0;
  }
  return out;
}

/** Mean silhouette over all points. */
export function silhouetteScore(points: ReadonlyArray<ArrayLike<number>>, labels: readonly number[]): number {
  const samples = silhouetteSamples(points, labels);
  let sum = 0;
  for (const s of samples) sum += s;
  return sum / samples.length;
}
