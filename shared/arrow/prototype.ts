import { householderQRColumns } from '../linalg/householder-qr.js';
import { symmetricEigen } from '../linalg/symmetric-eigen.js';
import { argmax } from './top-k.js';

/**
 * The Arrow prototype of one LoRA module: the top right singular vector of B·A (docs/method.md,
 * "Arrow prototypes"). Computed exactly without forming the d_out × d_in product:
 *   Aᵀ = Q R (thin QR, d_in × r),  M = R (BᵀB) Rᵀ (r × r),  u = top eigenvector of M,  v = Q u.
 * (B A)ᵀ(B A) = Q M Qᵀ, so Q u is its top eigenvector. α/r scales B·A and does not move v.
 */
export interface ArrowPrototype {
  /** Unit vector in the module's input space [dIn], sign fixed: largest-magnitude entry positive. */
  vector: Float32Array;
  /** Top singular value of B·A (without the α/r scale). 0 means B·A = 0: the direction is undefined. */
  sigma: number;
}

/**
 * @param a lora_A, row-major [r, dIn]
 * @param b lora_B, row-major [dOut, r]
 */
export function arrowPrototype(a: ArrayLike<number>, b: ArrayLike<number>, r: number, dIn: number, dOut: number): ArrowPrototype {
  if (a.length !== r * dIn) throw new RangeError(`lora_A has ${a.length} values, expected r × d_in = ${r} × ${dIn}`);
  if (b.length !== dOut * r) throw new RangeError(`lora_B has ${b.length} values, expected d_out × r = ${dOut} × ${r}`);
  if (r > dIn) throw new RangeError(`rank ${r} exceeds d_in ${dIn}`);
  // lora_A row-major [r, dIn] is Aᵀ [dIn, r] column by column.
  const { r: rMat, applyQ } = householderQRColumns(Float64Array.from(a), dIn, r);
  // G = BᵀB, r × r.
  const g = new Float64Array(r * r);
  for (let row = 0; row < dOut; row++) {
    const off = row * r;
    for (let i = 0; i < r; i++) {
      const bi = b[off + i]!;
      if (bi === 0) continue;
      for (let j = i; j < r; j++) g[i * r + j] = g[i * r + j]! + bi * b[off + j]!;
    }
  }
  for (let i = 0; i < r; i++) for (let j = 0; j < i; j++) g[i * r + j] = g[j * r + i]!;
  // M = R G Rᵀ.
  const rg = new Float64Array(r * r);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += rMat[i * r + k]! * g[k * r + j]!;
      rg[i * r + j] = s;
    }
  const m = new Float64Array(r * r);
  for (let i = 0; i < r; i++)
    for (let j = i; j < r; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += rg[i * r + k]! * rMat[j * r + k]!;
      m[i * r + j] = s;
      m[j * r + i] = s;
    }
  const { values, vectors } = symmetricEigen(m, r);
  const lambda = Math.max(0, values[0]!);
  const u = new Float64Array(r);
  for (let k = 0; k < r; k++) u[k] = vectors[k * r]!;
  return { vector: normalizeWithFixedSign(applyQ(u)), sigma: Math.sqrt(lambda) };
}

/** L2-normalise and flip so the largest-magnitude entry (first one on ties: top-k.ts's argmax) is positive. */
export function normalizeWithFixedSign(v: Float64Array): Float32Array {
  let norm2 = 0;
  for (let i = 0; i < v.length; i++) norm2 += v[i]! * v[i]!;
  const norm = Math.sqrt(norm2);
  const out = new Float32Array(v.length);
  if (norm === 0) return out;
  const s = (v[argmax(v.map(Math.abs))]! < 0 ? -1 : 1) / norm;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * s;
  return out;
}
