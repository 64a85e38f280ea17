/**
 * Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_: the norm of all gradients
 * together, and a factor min(1, maxNorm / (norm + 1e-6)) to scale them by. Stays on the device.
 */
import * as tf from '@tensorflow/tfjs';
import { flatten } from './adamw.js';

export function clipFactor(grads: readonly tf.Tensor[], maxNorm: number): { norm: tf.Scalar; factor: tf.Scalar } {
  // Over one flat vector: three kernels, whatever the number of gradients.
  const norm = tf.sqrt(tf.sum(tf.square(flatten(grads)))) as tf.Scalar;
  const factor = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar;
  return { norm, factor };
}
