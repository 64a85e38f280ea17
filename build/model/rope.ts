/**
 * Rotary position embeddings as Hugging Face's LlamaRotaryEmbedding computes them:
 *   inv_freq[i] = 1 / θ^(2i/d),  angle[p, i] = p · inv_freq[i],  emb = cat(angle, angle)  [seq, d]
 *   rope(x) = x·cos(emb) + rotate_half(x)·sin(emb),  rotate_half(x) = cat(-x[d/2:], x[:d/2])
 * Each pair (x_i, x_{i+d/2}) turns by angle[p, i]. The arithmetic is float32 step by step, as
 * PyTorch does it, so tables match HF's to an ulp even at large positions.
 */
import * as tf from '@tensorflow/tfjs';
import type { FrozenMatrix } from './linear.js';

/** cos and sin tables, row-major [seqLen, headDim]. */
export function ropeTables(seqLen: number, headDim: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const invFreq = new Float32Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
  const cos = new Float32Array(seqLen * headDim);
  const sin = new Float32Array(seqLen * headDim);
  for (let p = 0; p < seqLen; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * invFreq[i]!);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * headDim + i] = c;
      cos[p * headDim + i + half] = c;
      sin[p * headDim + i] = s;
      sin[p * headDim + i + half] = s;
    }
  }
  return { cos, sin };
}

/**
 * rotate_half as a signed permutation matrix R [headDim, headDim], so that rotate_half(x) = x · R
 * for a row vector x: one matmul instead of split, negate and concat (and their gradients).
 */
export function rotateHalfMatrix(headDim: number): Float32Array {
  const half = headDim / 2;
  const r = new Float32Array(headDim * headDim);
  for (let j = 0; j < half; j++) {
    r[(j + half) * headDim + j] = -1; // out[j] = -x[j + half]
    r[j * headDim + j + half] = 1; // out[j + half] = x[j]
  }
  return r;
}

/** The rope of x [T·B, heads·hd], and what its backward pass needs. */
export interface RopeTables {
  cos: tf.Tensor4D; // [T, 1, 1, hd]
  sin: tf.Tensor4D;
  /** rotate_half as a matrix (rotateHalfMatrix) and its transpose. */
  rotateHalf: FrozenMatrix;
}

/** x [T·B, heads·hd] (time-major rows) → rope(x) [T, B, heads, hd]. */
export function applyRope(x: tf.Tensor2D, T: number, B: number, heads: number, tables: RopeTables): tf.Tensor4D {
  const hd = tables.rotateHalf.w.shape[0];
  const x4 = tf.reshape(x, [T, B, heads, hd]);
  const rotated = tf.reshape(tf.matMul(tf.reshape(x, [T * B * heads, hd]), tables.rotateHalf.w), [T, B, heads, hd]);
  return tf.add(tf.mul(x4, tables.cos), tf.mul(rotated, tables.sin));
}

/** d rope(x) [T, B, heads, hd] → dx [T·B, heads·hd]: dy·cos + (dy·sin)·Rᵀ. */
export function applyRopeBackward(dy: tf.Tensor4D, tables: RopeTables): tf.Tensor2D {
  const [T, B, heads, hd] = dy.shape;
  const back = tf.matMul(tf.reshape(tf.mul(dy, tables.sin), [T * B * heads, hd]), tables.rotateHalf.wT);
  return tf.reshape(tf.add(tf.mul(dy, tables.cos), tf.reshape(back, [T, B, heads, hd])), [T * B, heads * hd]);
}
