/**
 * HF LlamaRMSNorm, y = x / √(mean(x²) + eps) · w row by row, and its gradient written out:
 *   x̂ = x·inv,  g = dy·w,  dx = inv·(g − x̂·mean(g·x̂)),  dw = Σ_rows dy·x̂
 * The forward pass keeps x̂ and inv for the backward pass (build/train/backprop.ts), which needs
 * nothing else; inference simply drops them.
 */
import * as tf from '@tensorflow/tfjs';

export interface RmsNormSaved {
  xhat: tf.Tensor2D; // [n, d]
  inv: tf.Tensor2D; // [n, 1]
}

/** x [n, d], w [d]; `eps` a scalar tensor (hoisted by the caller). */
export function rmsNormForward(x: tf.Tensor2D, w: tf.Tensor1D, eps: tf.Scalar): { y: tf.Tensor2D; saved: RmsNormSaved } {
  const inv = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)) as tf.Tensor2D; // [n, 1]
  const xhat = tf.mul(x, inv) as tf.Tensor2D;
  return { y: tf.mul(xhat, w) as tf.Tensor2D, saved: { xhat, inv } };
}

export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: tf.Scalar): tf.Tensor2D {
  return rmsNormForward(x, w, eps).y;
}

/** dy [n, d] (gradient at y) → dx [n, d]. */
export function rmsNormBackward(dy: tf.Tensor2D, saved: RmsNormSaved, w: tf.Tensor1D): tf.Tensor2D {
  const { xhat, inv } = saved;
  const g = tf.mul(dy, w);
  return tf.mul(tf.sub(g, tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))), inv) as tf.Tensor2D;
}

/** dw [d] = Σ_rows dy·x̂, for a trainable weight. */
export function rmsNormWeightGrad(dy: tf.Tensor2D, saved: RmsNormSaved): tf.Tensor1D {
  return tf.sum(tf.mul(dy, saved.xhat), 0) as tf.Tensor1D;
}
