import { EigenvalueDecomposition, Matrix, SingularValueDecomposition, inverse } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { arrowPrototype } from '../shared/arrow/prototype.js';
import { householderQR } from '../shared/linalg/householder-qr.js';
import { symmetricEigen } from '../shared/linalg/symmetric-eigen.js';
import { Rng } from '../shared/random.js';

/** Reference: dense SVD of the d_out × d_in product, the thing Arrow must never form at scale. */
function denseTopRightSingular(a: Float32Array, b: Float32Array, r: number, dIn: number, dOut: number) {
  const A = new Matrix(r, dIn);
  const B = new Matrix(dOut, r);
  for (let i = 0; i < r; i++) for (let j = 0; j < dIn; j++) A.set(i, j, a[i * dIn + j]!);
  for (let i = 0; i < dOut; i++) for (let j = 0; j < r; j++) B.set(i, j, b[i * r + j]!);
  const svd = new SingularValueDecomposition(B.mmul(A), { autoTranspose: true });
  const v = svd.rightSingularVectors.getColumn(0);
  return { v, sigma: svd.diagonal[0]!, second: svd.diagonal[1] ?? 0 };
}

function cosine(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0, nx = 0, ny = 0;
  for (let i = 0; i < x.length; i++) {
    d += x[i]! * y[i]!;
    nx += x[i]! * x[i]!;
    ny += y[i]! * y[i]!;
  }
  return d / Math.sqrt(nx * ny);
}

describe('arrowPrototype', () => {
  const shapes: Array<[number, number, number]> = [
    [1, 7, 5],
    [4, 32, 48],
    [8, 64, 16],
    [16, 96, 96],
  ];
  for (const [r, dIn, dOut] of shapes) {
    it(`matches the dense SVD of B·A (r=${r}, d_in=${dIn}, d_out=${dOut})`, () => {
      const rng = new Rng(r * 1000 + dIn);
      const a = rng.normals(r * dIn, 0.3);
      const b = rng.normals(dOut * r, 0.2);
      const ref = denseTopRightSingular(a, b, r, dIn, dOut);
      expect(ref.sigma - ref.second).toBeGreaterThan(1e-3 * ref.sigma); // a well-defined top direction
      const p = arrowPrototype(a, b, r, dIn, dOut);
      expect(Math.abs(cosine(p.vector, ref.v))).toBeGreaterThan(1 - 1e-9);
      expect(p.sigma).toBeCloseTo(ref.sigma, 8);
      let norm = 0;
      for (const x of p.vector) norm += x * x;
      expect(norm).toBeCloseTo(1, 6);
    });
  }

  it('fixes the sign: the largest-magnitude entry is positive, for A and -A alike', () => {
    const rng = new Rng(7);
    const a = rng.normals(4 * 20);
    const b = rng.normals(10 * 4);
    const p1 = arrowPrototype(a, b, 4, 20, 10);
    const p2 = arrowPrototype(a.map((x) => -x), b, 4, 20, 10);
    let arg = 0;
    p1.vector.forEach((x, i) => {
      if (Math.abs(x) > Math.abs(p1.vector[arg]!)) arg = i;
    });
    expect(p1.vector[arg]).toBeGreaterThan(0);
    expect(Array.from(p2.vector)).toEqual(Array.from(p1.vector));
  });

  it('is invariant to the α/r scale and to an invertible change of the rank basis', () => {
    const rng = new Rng(11);
    const r = 3, dIn = 12, dOut = 9;
    const a = rng.normals(r * dIn);
    const b = rng.normals(dOut * r);
    const base = arrowPrototype(a, b, r, dIn, dOut);
    const scaled = arrowPrototype(a, b.map((x) => x * 5.3), r, dIn, dOut);
    expect(Math.abs(cosine(base.vector, scaled.vector))).toBeGreaterThan(1 - 1e-12);
    expect(scaled.sigma / (base.sigma * 5.3)).toBeCloseTo(1, 6);
    // A' = T A, B' = B T⁻¹ leaves B·A and so the prototype unchanged.
    const t = new Matrix(r, r);
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) t.set(i, j, rng.normal() + (i === j ? 3 : 0));
    const tInv = inverse(t);
    const aM = new Matrix(r, dIn);
    const bM = new Matrix(dOut, r);
    for (let i = 0; i < r; i++) for (let j = 0; j < dIn; j++) aM.set(i, j, a[i * dIn + j]!);
    for (let i = 0; i < dOut; i++) for (let j = 0; j < r; j++) bM.set(i, j, b[i * r + j]!);
    const a2 = Float32Array.from(t.mmul(aM).to1DArray());
    const b2 = Float32Array.from(bM.mmul(tInv).to1DArray());
    const changed = arrowPrototype(a2, b2, r, dIn, dOut);
    expect(Math.abs(cosine(base.vector, changed.vector))).toBeGreaterThan(1 - 1e-6);
  });

  it('handles B = 0 (an untrained adapter) with sigma 0 and a unit vector', () => {
    const rng = new Rng(3);
    const p = arrowPrototype(rng.normals(4 * 10), new Float32Array(6 * 4), 4, 10, 6);
    expect(p.sigma).toBe(0);
    expect(p.vector.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 6);
  });

  it('handles a rank-deficient A (a zero row)', () => {
    const rng = new Rng(5);
    const r = 4, dIn = 16, dOut = 8;
    const a = rng.normals(r * dIn);
    a.fill(0, dIn, 2 * dIn);
    const b = rng.normals(dOut * r);
    const ref = denseTopRightSingular(a, b, r, dIn, dOut);
    const p = arrowPrototype(a, b, r, dIn, dOut);
    expect(Math.abs(cosine(p.vector, ref.v))).toBeGreaterThan(1 - 1e-9);
  });

  it('rejects wrong shapes', () => {
    expect(() => arrowPrototype(new Float32Array(5), new Float32Array(4), 2, 3, 2)).toThrow(/lora_A has 5 values/);
  });
});

describe('householderQR and symmetricEigen', () => {
  it('Q R reproduces X, Q has orthonormal columns, R is upper triangular', () => {
    const rng = new Rng(1);
    const m = 30, n = 5;
    const x = Float64Array.from(rng.normals(m * n));
    const { thinQ, r } = householderQR(x, m, n);
    const q = thinQ();
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += q[i * n + k]! * r[k * n + j]!;
        expect(s).toBeCloseTo(x[i * n + j]!, 12);
      }
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += q[i * n + a]! * q[i * n + b]!;
        expect(s).toBeCloseTo(a === b ? 1 : 0, 12);
      }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(r[i * n + j]).toBe(0);
  });

  it('eigenvalues match ml-matrix and V Λ Vᵀ reproduces the matrix', () => {
    const rng = new Rng(2);
    const n = 12;
    const x = new Matrix(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) x.set(i, j, rng.normal());
    const s = x.add(x.transpose());
    const mine = symmetricEigen(Float64Array.from(s.to1DArray()), n);
    const ref = new Matrix(s).clone();
    const refValues = [...new EigenvalueDecomposition(ref).realEigenvalues].sort((p, q) => q - p);
    refValues.forEach((v, i) => expect(mine.values[i]).toBeCloseTo(v, 10));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += mine.vectors[i * n + k]! * mine.values[k]! * mine.vectors[j * n + k]!;
        expect(sum).toBeCloseTo(s.get(i, j), 10);
      }
  });
});
