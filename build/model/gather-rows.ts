/**
 * Rows of a matrix by index, and their gradient. tf.gather is slow on tfjs-backend-wasm (4 ms
 * for 512 rows of 128, against 0.1 ms for GatherNd) and its gradient, UnsortedSegmentSum, is
 * missing there (docs/environment.md, "TensorFlow.js"). So rows are read with GatherNd, and
 * gradients go back with ScatterNd, which sums repeated indices and exists on wasm. Used for the
 * embedding lookup and for picking the rows that carry a loss before the LM head.
 */
import * as tf from '@tensorflow/tfjs';

/** table [rows, cols], indices [n] (int32) → [n, cols]. */
export function rowsOf(table: tf.Tensor2D, indices: tf.Tensor1D): tf.Tensor2D {
  return tf.gatherND(table, tf.reshape(indices, [-1, 1])) as tf.Tensor2D;
}

/** The gradient of rowsOf: dy [n, cols] summed into the rows `indices` of a [rows, cols] zero matrix. */
export function rowsOfBackward(dy: tf.Tensor2D, indices: tf.Tensor1D, rows: number): tf.Tensor2D {
  return tf.scatterND(tf.reshape(indices, [-1, 1]), dy, [rows, dy.shape[1]]) as tf.Tensor2D;
}
