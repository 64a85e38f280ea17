import { clusterKMeans } from './cluster-kmeans.js';
import { cosineSimilarityMatrix } from './cosine-similarity.js';
import { silhouetteScore } from './silhouette.js';
import { truncatedSvdFromGram } from './truncated-svd.js';

/**
 * Model-based clustering from the Gram matrix of the sparsified adapter vectors (docs/method.md,
 * "MBC"): truncated SVD to `dims` → L2-normalise → cosine matrix S → k-means on the rows of S.
 * The streaming part that builds G from adapters on disk lives in build/mbc/adapter-gram.ts.
 */
export interface MbcOptions {
  /** A number of clusters, or 'auto' to pick it by silhouette over `kRange`. Paper: 10. */
  k: number | 'auto';
  /** Inclusive range searched by 'auto'; default {@link defaultKRange}. */
  kRange?: readonly [number, number];
  /** Truncated-SVD dimension; 64 as the reference recipe. */
  dims: number;
  seed: number;
  /** k-means++ restarts per k. */
  restarts: number;
}

/** MBC's settings where a caller has no reason to differ: quiver cluster's defaults, and what quiver train uses. */
export const MBC_DEFAULTS = {
  // The reference recipe's truncated-SVD dimension.
  dims: 64,
  // k-means++ restarts, the lowest inertia kept (sklearn's classic n_init).
  restarts: 10,
} as const;

export interface KScore {
  k: number;
  /** Mean silhouette on the rows of S; null when the clustering has fewer than 2 or more than n−1 clusters. */
  silhouette: number | null;
  inertia: number;
}

export interface MbcResult {
  /** Row-major [n, n] cosine similarity of the reduced, normalised adapter vectors. */
  similarity: Float64Array;
  /** min(dims, n). */
  reducedDims: number;
  /** Cluster of each adapter, numbered by the smallest adapter index in it. */
  labels: number[];
  /** Number of clusters found: the k asked for (or chosen by 'auto') unless the adapters have fewer distinct directions. */
  k: number;
  /** The k given, or the one 'auto' chose. */
  requestedK: number;
  method: 'fixed-k' | 'auto-silhouette';
  silhouette: number | null;
  inertia: number;
  /** Every k tried by 'auto', in order; a single entry for a fixed k. */
  scores: KScore[];
}

/** k from 2 to min(10, n − 1): silhouette is undefined outside 2..n−1, and the paper uses k = 10. */
export function defaultKRange(n: number): [number, number] {
  return [2, Math.min(10, n - 1)];
}

export function mbcFromGram(gram: Float64Array, n: number, options: MbcOptions): MbcResult {
  if (n < 2) throw new RangeError(`clustering needs at least 2 adapters, got ${n}`);
  const svd = truncatedSvdFromGram(gram, n, options.dims);
  const similarity = cosineSimilarityMatrix(svd.rows, n, svd.k);
  // k-means runs on the rows of S (each adapter described by its similarities to all others).
  const points = Array.from({ length: n }, (_, i) => Array.from(similarity.subarray(i * n, (i + 1) * n)));
  const run = (k: number) => {
    const clustering = clusterKMeans(points, k, { seed: options.seed, restarts: options.restarts });
    const silhouette = clustering.k >= 2 && clustering.k <= n - 1 ? silhouetteScore(points, clustering.labels) : null;
    return { clustering, score: { k, silhouette, inertia: clustering.inertia } satisfies KScore };
  };
  const common = { similarity, reducedDims: svd.k };

  if (options.k !== 'auto') {
    const k = options.k;
    if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`k must be an integer in 1..${n} (the number of adapters), got ${k}`);
    const { clustering, score } = run(k);
    return { ...common, labels: clustering.labels, k: clustering.k, requestedK: k, method: 'fixed-k', silhouette: score.silhouette, inertia: score.inertia, scores: [score] };
  }

  const [from, to] = options.kRange ?? defaultKRange(n);
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 2 || to > n - 1 || from > to) {
    throw new RangeError(`the k range must satisfy 2 <= a <= b <= ${n - 1} (adapters − 1) for silhouette, got ${from}..${to}`);
  }
  let best: ReturnType<typeof run> | undefined;
  const scores: KScore[] = [];
  for (let k = from; k <= to; k++) {
    const candidate = run(k);
    scores.push(candidate.score);
    // Strictly better only: on a tie the smaller k wins.
    const s = candidate.score.silhouette;
    if (s !== null && (best === undefined || s > best.score.silhouette!)) best = candidate;
  }
  if (!best) throw new RangeError(`no k in ${from}..${to} gave a clustering with a silhouette (the adapters have too few distinct directions)`);
  return {
    ...common,
    labels: best.clustering.labels,
    k: best.clustering.k,
    requestedK: best.score.k,
    method: 'auto-silhouette',
    silhouette: best.score.silhouette,
    inertia: best.score.inertia,
    scores,
  };
}
