import { kmeans } from 'ml-kmeans';
import { Rng } from '../random.js';
import { kmeansPlusPlus, squaredDistance } from './kmeans-plus-plus.js';

/**
 * k-means with several seeded k-means++ restarts, keeping the lowest inertia (docs/method.md, "MBC":
 * k-means++ seeding, several restarts with a fixed seed; sklearn's n_init does the same). Lloyd iterations
 * are ml-kmeans's; the initial centres are ours (see kmeans-plus-plus.ts).
 */
export interface KMeansOptions {
  /** Seeds the one generator that draws every restart's centres: same seed, same clustering. */
  seed: number;
  /** Independent k-means++ initialisations; 10 as sklearn's classic n_init. */
  restarts: number;
  /** Lloyd iterations per restart; 300 as sklearn (ml-kmeans's own default is 100). */
  maxIterations?: number;
}

export interface KMeansClustering {
  /** Cluster of each point, numbered by first appearance: point 0 is in cluster 0, the first point outside it opens cluster 1, … */
  labels: number[];
  /** Number of non-empty clusters; below the requested k only when the points have fewer than k distinct values. */
  k: number;
  /** Sum of squared distances of the points to their cluster's mean. */
  inertia: number;
  /** Which restart (0-based) won. */
  restart: number;
}

export function clusterKMeans(points: number[][], k: number, options: KMeansOptions): KMeansClustering {
  const n = points.length;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`k must be an integer in 1..${n}, got ${k}`);
  if (!Number.isInteger(options.restarts) || options.restarts < 1) {
    throw new RangeError(`restarts must be a positive integer, got ${options.restarts}`);
  }
  const rng = new Rng(options.seed);
  let best: KMeansClustering | undefined;
  for (let restart = 0; restart < options.restarts; restart++) {
    const initialization = kmeansPlusPlus(points, k, rng).map((i) => [...points[i]!]);
    const result = kmeans(points, k, { initialization, maxIterations: options.maxIterations ?? 300, tolerance: 1e-12 });
    const labels = renumberByFirstAppearance(result.clusters);
    const candidate: KMeansClustering = { labels, k: Math.max(...labels) + 1, inertia: inertia(points, labels), restart };
    // A restart that lost a cluster (possible only with duplicate points) loses to one that kept k.
    if (!best || candidate.k > best.k || (candidate.k === best.k && candidate.inertia < best.inertia)) best = candidate;
  }
  return best!;
}

/** Relabels so clusters are numbered in the order of their smallest member index: a clustering has one spelling. */
export function renumberByFirstAppearance(labels: readonly number[]): number[] {
  const map = new Map<number, number>();
  return labels.map((label) => {
    let id = map.get(label);
    if (id === undefined) {
      id = map.size;
      map.set(label, id);
    }
    return id;
  });
}

function inertia(points: number[][], labels: readonly number[]): number {
  const k = Math.max(...labels) + 1;
  const d = points[0]!.length;
  const sums = Array.from({ length: k }, () => new Float64Array(d));
  const counts = new Float64Array(k);
  points.forEach((p, i) => {
    const label = labels[i]!;
    const s = sums[label]!;
    counts[label] = counts[label]! + 1;
    for (let c = 0; c < d; c++) s[c] = s[c]! + p[c]!;
  });
  sums.forEach((s, j) => s.forEach((v, c) => (s[c] = v / counts[j]!)));
  let total = 0;
  points.forEach((p, i) => (total += squaredDistance(p, sums[labels[i]!]!)));
  return total;
}
