import { symmetricEigen } from '../linalg/symmetric-eigen.js';

/**
 * Truncated SVD of the sparsified adapter matrix X [n, L], computed exactly from its Gram matrix
 * G = X Xᵀ [n, n] (docs/method.md, "MBC": reduce all vectors together with a truncated SVD to 64 dimensions).
 *
 * X = U Σ Vᵀ gives G = U Σ² Uᵀ, so the eigen-decomposition of G yields U and Σ, and the reduced
 * vectors X V_k = U_k Σ_k come out without ever touching L-long vectors. This is what sklearn's
 * TruncatedSVD.fit_transform returns (no centring), computed exactly rather than by randomized SVD.
 */
export interface TruncatedSvd {
  /** Reduced dimension: min(dims, n). */
  k: number;
  /** Row-major [n, k]: row i is adapter i in the reduced space, U_k Σ_k. */
  rows: Float64Array;
  /** Σ_k, largest first. */
  singularValues: Float64Array;
}

export function truncatedSvdFromGram(gram: Float64Array, n: number, dims: number): TruncatedSvd {
  if (!Number.isInteger(dims) || dims < 1) throw new RangeError(`dims must be a positive integer, got ${dims}`);
  if (gram.length !== n * n) throw new RangeError(`gram has ${gram.length} entries, expected ${n}²`);
  const k = Math.min(dims, n);
  const { values, vectors } = symmetricEigen(gram, n);
  const rows = new Float64Array(n * k);
  const singularValues = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    // G is positive semi-definite; a negative eigenvalue is rounding noise around zero.
    const sigma = Math.sqrt(Math.max(0, values[j]!));
    singularValues[j] = sigma;
    // Eigenvector signs are arbitrary (cosines do not see them); fix them so output is reproducible
    // across eigen-solvers: largest-magnitude entry positive, the first one on ties.
    let pivot = 0;
    for (let i = 1; i < n; i++) if (Math.abs(vectors[i * n + j]!) > Math.abs(vectors[pivot * n + j]!)) pivot = i;
    const sign = vectors[pivot * n + j]! < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) rows[i * k + j] = sign * sigma * vectors[i * n + j]!;
  }
  return { k, rows, singularValues };
}
