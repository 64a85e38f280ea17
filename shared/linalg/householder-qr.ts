/**
 * Thin QR of a tall matrix X (m × n, m ≥ n) by Householder reflections: X = Q R with Q (m × n)
 * orthonormal columns and R (n × n) upper triangular. Stable when X is rank-deficient (a zero
 * column gives a zero on R's diagonal, Q stays orthonormal), which Gram–Schmidt is not.
 * Matrices are row-major Float64Array.
 */
export interface ThinQR {
  q: Float64Array; // [m, n]
  r: Float64Array; // [n, n]
}

export function householderQR(x: Float64Array, m: number, n: number): ThinQR {
  if (m < n) throw new RangeError(`householderQR needs m >= n, got ${m} x ${n}`);
  if (x.length !== m * n) throw new RangeError(`householderQR: length ${x.length} != ${m} x ${n}`);
  // Work column-major: column j is a contiguous run of m numbers, so each reflection streams.
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[j * m + i] = x[i * n + j]!;
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
    for (let j = k; j < n; j++) {
      const cj = j * m;
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k]! * a[cj + i]!;
      const s = beta * dot;
      if (s !== 0) for (let i = k; i < m; i++) a[cj + i] = a[cj + i]! - s * v[i - k]!;
    }
  }
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) r[i * n + j] = a[j * m + i]!;
  // Q = H_0 H_1 … H_{n-1} applied to the first n columns of the identity (column-major).
  const qc = new Float64Array(m * n);
  for (let j = 0; j < n; j++) qc[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k]!;
    const beta = betas[k]!;
    if (beta === 0) continue;
    for (let j = 0; j < n; j++) {
      const cj = j * m;
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k]! * qc[cj + i]!;
      const s = beta * dot;
      if (s !== 0) for (let i = k; i < m; i++) qc[cj + i] = qc[cj + i]! - s * v[i - k]!;
    }
  }
  const q = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) q[i * n + j] = qc[j * m + i]!;
  return { q, r };
}
