/**
 * Many small independent matmuls at once (attention: one per sequence and head):
 *   out[i, g, j] = Σ_k x[i, k, g] · y[k, g, j]
 * The layouts (group axis last in x, in the middle of y and out) are the ones a depthwise
 * convolution reads and writes: input [1, i, k, g] (NHWC, g channels), filter [1, k, g, j]
 * (width k, channel multiplier j), 'valid' padding, output [1, i, 1, g·j]. On tfjs-backend-wasm
 * that convolution runs in XNNPACK, about 7× faster than its batched matmul, which is a naive loop
 * (docs/environment.md, "TensorFlow.js"). Other backends take the batched-matmul route.
 * Not differentiable on its own: wasm has no depthwise-convolution gradient kernels, so the
 * attention's backward pass (attention.ts) is written with this same product.
 */
import * as tf from '@tensorflow/tfjs';

function viaDepthwise(x: tf.Tensor3D, y: tf.Tensor3D): tf.Tensor3D {
  const [i, k, g] = x.shape;
  const j = y.shape[2];
  const input = tf.reshape(x, [1, i, k, g]) as tf.Tensor4D;
  const filter = tf.reshape(y, [1, k, g, j]) as tf.Tensor4D;
  return tf.reshape(tf.depthwiseConv2d(input, filter, 1, 'valid'), [i, g, j]);
}

function viaBatchMatMul(x: tf.Tensor3D, y: tf.Tensor3D): tf.Tensor3D {
  const xg = tf.transpose(x, [2, 0, 1]); // [g, i, k]
  const yg = tf.transpose(y, [1, 0, 2]); // [g, k, j]
  return tf.transpose(tf.matMul(xg, yg), [1, 0, 2]); // [i, g, j]
}

/** x [i, k, g], y [k, g, j] → [i, g, j]. */
export function groupedMatMul(x: tf.Tensor3D, y: tf.Tensor3D): tf.Tensor3D {
  if (x.shape[1] !== y.shape[0] || x.shape[2] !== y.shape[1]) {
    throw new Error(`groupedMatMul: x [${x.shape.join(', ')}] and y [${y.shape.join(', ')}] do not fit ([i, k, g] and [k, g, j])`);
  }
  return tf.getBackend() === 'wasm' ? viaDepthwise(x, y) : viaBatchMatMul(x, y);
}
