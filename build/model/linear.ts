/**
 * Projection weights live in compute layout [in, out], so y = x · w is a plain 2-D matmul. Why:
 * tfjs-backend-wasm sends a matmul with transposeA/transposeB, or with a batch dimension, to a
 * naive loop about 10× slower than its XNNPACK path (docs/environment.md, "TensorFlow.js";
 * measured 1.2 vs 13 GFLOP/s). The backward pass (build/train/backprop.ts) therefore needs wᵀ
 * as a matrix of its own: a frozen weight keeps it beside w, built once, and XNNPACK, which packs
 * a matmul's right operand once per tensor, never packs either again.
 */
import * as tf from '@tensorflow/tfjs';

/** A weight that does not train: w [in, out] for the forward pass, wT [out, in] for dx. */
export interface FrozenMatrix {
  readonly w: tf.Tensor2D;
  readonly wT: tf.Tensor2D;
}

export function frozenMatrix(w: tf.Tensor2D): FrozenMatrix {
  return { w, wT: tf.transpose(w) };
}
