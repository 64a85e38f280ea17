/**
 * Thin QR of a tall matrix X (m × n, m ≥ n) by Householder reflections: X = Q R with Q (m × n)
 * orthonormal columns and R (n × n) upper triangular. Stable when X is rank-deficient (a zero
 * column gives a zero on R's diagonal, Q stays orthonormal), which Gram–Schmidt is not.
 * Matrices are row-major Float64Array.
 */
export interface ThinQR {
  r: Float64Array; // [n, n]
  /** Q u for u of length n (Q is m × n), applying the n reflections to one vector: O(m n). */
  applyQ(u: ArrayLike<number>): Float64Array;
  /** Q itself, row-major [m, n]: O(m n²); for callers that need every column. */
  thinQ(): Float64Array;
}

export function householderQR(x: Float64Array, m: number, n: number): ThinQR {
  if (m < n) throw new RangeError(`householderQR needs m >= n, got ${m} x ${n}`);
  if (x.length !== m * n) throw new RangeError(`householderQR: length ${x.length} != ${m} x ${n}`);
  // Work column-major: column j is a contiguous run of m numbers, so each reflection streams.
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[j * m + i] = x[i * n + j]!;
  return householderQRColumns(a, m, n);
}

/**
 * The same for a matrix given column by column (column j = a[j·m, (j+1)·m)), which is how a
 * row-major [n, m] array holds its transpose: lora_A [r, d_in] is Aᵀ column-major. Overwrites `a`.
 */
export function householderQRColumns(a: Float64Array, m: number, n: number): ThinQR {
  if (m < n) throw new RangeError(`householderQR needs m >= n, got ${m} x ${n}`);
  if (a.length !== m * n) throw new RangeError(`householderQR: length ${a.length} != ${m} x ${n}`);
  const vs: Float64Array[] = []; // Householder vectors, v_k has support k..m-1
  const betas = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const col = k * m;
    let norm2 = 0;
    for (let i = k; i < m; i++) norm2 += a[col + i]! * a[col + i]!;
    const v = new Float64Array(m - k);
    const norm = Math.sqrt(norm2);
    if (norm === 0) {
      vs.push(v);
      betas[k] = 0;
      continue;
    }
    const x0 = a[col + k]!;
    const alpha = x0 >= 0 ? -norm : norm; // sign chosen to avoid cancellation
    v[0] = x0 - alpha;
    for (let i = k + 1; i < m; i++) v[i - k] = a[col + i]!;
    let vNorm2 = v[0]! * v[0]!;
    for (let i = 1; i < v.length; i++) vNorm2 += v[i]! * v[i]!;
    const beta = vNorm2 === 0 ? 0 : 2 / vNorm2;
    betas[k] = beta;
    vs.push(v);
    // Apply H_k = I - beta v vᵀ to the remaining columns.
    for (let j = k; j < n; j++) reflect(a, j * m + k, v, beta);
  }
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) r[i * n + j] = a[j * m + i]!;
  // Q = H_0 H_1 … H_{n-1} applied to the first n columns of the identity.
  const applyQ = (u: ArrayLike<number>): Float64Array => {
    const y = new Float64Array(m);
    for (let i = 0; i < n; i++) y[i] = u[i]!;
    for (let k = n - 1; k >= 0; k--) if (betas[k] !== 0) reflect(y, k, vs[k]!, betas[k]!);
    return y;
  };
  const thinQ = (): Float64Array => {
    const q = new Float64Array(m * n);
    const e = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      e.fill(0);
      e[j] = 1;
      const col = applyQ(e);
      for (let i = 0; i < m; i++) q[i * n + j] = col[i]!;
    }
    return q;
  };
  return { r, applyQ, thinQ };
}

/** x[off .. off+v.length) -= beta (v · x) v: one Householder reflection of one column segment. */
function reflect(x: Float64Array, off: number, v: Float64Array, beta: number): void {
  const len = v.length;
  let dot = 0;
  for (let i = 0; i < len; i++) dot += v[i]! * x[off + i]!;
  const s = beta * dot;
  if (s === 0) return;
  for (let i = 0; i < len; i++) x[off + i] = x[off + i]! - s * v[i]!;
}
