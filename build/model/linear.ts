/**
 * y = x · w with a hand-written backward pass that uses only plain (untransposed, unbatched) 2-D
 * matmuls. Why: tfjs-backend-wasm sends a matmul with transposeA/transposeB, or with a batch
 * dimension, to a naive loop about 10× slower than its XNNPACK path (docs/environment.md, "TensorFlow.js"; measured
 * 1.2 vs 13 GFLOP/s), and tf.matMul's built-in gradient uses exactly those transposed forms.
 * Weights are kept in compute layout [in, out]; a frozen weight also keeps its transpose [out, in]
 * so the backward pass needs no transpose at all, and only dx is computed for it.
 */
import * as tf from '@tensorflow/tfjs';

/** A weight that does not train: w [in, out] for the forward pass, wT [out, in] for dx. */
export interface FrozenMatrix {
  readonly w: tf.Tensor2D;
  readonly wT: tf.Tensor2D;
}

/** x [n, in] · m.w [in, out] → [n, out]; gradient to x only. */
export function matMulFrozen(x: tf.Tensor2D, m: FrozenMatrix): tf.Tensor2D {
  const op = tf.customGrad((xIn) => {
    const input = xIn as tf.Tensor2D;
    return {
      value: tf.matMul(input, m.w),
      gradFunc: (dy) => tf.matMul(dy as tf.Tensor2D, m.wT), // [n, out]·[out, in]
    };
  });
  return op(x) as tf.Tensor2D;
}

/** x [n, in] · w [in, out] → [n, out]; gradients to x and w. */
export function matMulTrainable(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((xIn, wIn, save) => {
    const input = xIn as tf.Tensor2D;
    const weight = wIn as tf.Tensor2D;
    (save as tf.GradSaveFunc)([input, weight]);
    return {
      value: tf.matMul(input, weight),
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor2D;
        return [
          tf.matMul(g, tf.transpose(ws)), // dx [n, in] = dy [n, out] · wᵀ [out, in]
          tf.matMul(tf.transpose(xs), g), // dw [in, out] = xᵀ [in, n] · dy [n, out]
        ];
      },
    };
  });
  return op(x, w) as tf.Tensor2D;
}
