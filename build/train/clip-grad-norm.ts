/**
 * Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_: the norm of all gradients
 * together, and a factor min(1, maxNorm / (norm + 1e-6)) to scale them by. Stays on the device.
 */
import * as tf from '@tensorflow/tfjs';

export function clipFactor(grads: readonly tf.Tensor[], maxNorm: number): { norm: tf.Scalar; factor: tf.Scalar } {
  const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
  const factor = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar;
  return { norm, factor };
}
