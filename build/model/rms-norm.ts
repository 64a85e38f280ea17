/**
 * HF LlamaRMSNorm, y = x / √(mean(x²) + eps) · w row by row, with its gradient written out:
 *   x̂ = x·inv,  g = dy·w,  dx = inv·(g − x̂·mean(g·x̂)),  dw = Σ_rows dy·x̂
 * Half the ops of differentiating the forward pass op by op (no casts, no pow/rsqrt chain).
 */
import * as tf from '@tensorflow/tfjs';

/** x [n, d], w [d]; `eps` a scalar tensor (hoisted by the caller); gradient to w only if `trainWeight`. */
export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: tf.Scalar, trainWeight: boolean): tf.Tensor2D {
  const forward = (input: tf.Tensor2D, weight: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const inv = tf.rsqrt(tf.add(tf.mean(tf.square(input), -1, true), eps)); // [n, 1]
    const xhat = tf.mul(input, inv) as tf.Tensor2D;
    save([xhat, inv]);
    return { value: tf.mul(xhat, weight) as tf.Tensor2D, xhat, inv };
  };
  const dx = (dy: tf.Tensor2D, xhat: tf.Tensor2D, inv: tf.Tensor2D, weight: tf.Tensor1D): tf.Tensor2D => {
    const g = tf.mul(dy, weight);
    return tf.mul(tf.sub(g, tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))), inv) as tf.Tensor2D;
  };
  if (!trainWeight) {
    const op = tf.customGrad((xIn, save) => {
      const { value } = forward(xIn as tf.Tensor2D, w, save as tf.GradSaveFunc);
      return { value, gradFunc: (dy, saved) => dx(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, w) };
    });
    return op(x) as tf.Tensor2D;
  }
  const op = tf.customGrad((xIn, wIn, save) => {
    const weight = wIn as tf.Tensor1D;
    const { value } = forward(xIn as tf.Tensor2D, weight, (ts) => (save as tf.GradSaveFunc)([...ts, weight]));
    return {
      value,
      gradFunc: (dyIn, saved) => {
        const [xhat, inv, ws] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const dy = dyIn as tf.Tensor2D;
        return [dx(dy, xhat, inv, ws), tf.sum(tf.mul(dy, xhat), 0)];
      },
    };
  });
  return op(x, w) as tf.Tensor2D;
}
