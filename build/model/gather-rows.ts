/**
 * Rows of a matrix by index. tf.gather is slow on tfjs-backend-wasm (4 ms for 512 rows of 128,
 * against 0.1 ms for GatherNd) and its gradient, UnsortedSegmentSum, is missing there
 * (docs/environment.md, "TensorFlow.js"). So rows are read with GatherNd, and the gradient goes back with ScatterNd,
 * which sums repeated indices and exists on wasm. Used for the embedding lookup (trainable or not)
 * and for picking the rows that carry a loss before the LM head.
 */
import * as tf from '@tensorflow/tfjs';

/** table [rows, cols], indices [n] (int32) → [n, cols]; not differentiable. */
export function rowsOf(table: tf.Tensor2D, indices: tf.Tensor1D): tf.Tensor2D {
  return tf.gatherND(table, tf.reshape(indices, [-1, 1])) as tf.Tensor2D;
}

/** table [rows, cols], indices [n] (int32) → [n, cols]; gradient to the table. */
export function gatherRows(table: tf.Tensor2D, indices: tf.Tensor1D): tf.Tensor2D {
  const rows = table.shape[0];
  const cols = table.shape[1];
  const op = tf.customGrad((tIn, save) => {
    const at = tf.reshape(indices, [-1, 1]);
    // Saved, not closed over: the forward pass's tidy disposes `at` before the backward pass.
    (save as tf.GradSaveFunc)([at]);
    return {
      value: tf.gatherND(tIn as tf.Tensor2D, at) as tf.Tensor2D,
      gradFunc: (dy, saved) => tf.scatterND(saved[0]!, dy, [rows, cols]),
    };
  });
  return op(table) as tf.Tensor2D;
}
