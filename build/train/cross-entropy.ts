/**
 * Mean cross-entropy of logits [n, vocab] against target ids, with its gradient written out,
 * (softmax − onehot)/n, instead of differentiating through logSumExp's max and gather (gather's
 * gradient does not exist on wasm, and the closed form is fewer ops). exp runs once: it is slow on wasm.
 */
import * as tf from '@tensorflow/tfjs';

export function crossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const [n, vocab] = logits.shape;
  if (targets.length !== n) throw new RangeError(`${targets.length} targets for ${n} rows of logits`);
  const flat = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = targets[i]!;
    if (t < 0 || t >= vocab) throw new RangeError(`target id ${t} is outside the vocabulary [0, ${vocab})`);
    flat[i] = i * vocab + t;
  }
  const op = tf.customGrad((lIn, save) => {
    const l = lIn as tf.Tensor2D;
    const shifted = tf.sub(l, tf.max(l, 1, true)); // [n, vocab], row max 0: exp cannot overflow
    const e = tf.exp(shifted);
    const sum = tf.sum(e, 1, true); // [n, 1]
    const picked = tf.gatherND(tf.reshape(shifted, [-1]), tf.tensor2d(flat, [n, 1], 'int32')); // [n]
    (save as tf.GradSaveFunc)([e, tf.reciprocal(sum)]);
    return {
      value: tf.mean(tf.sub(tf.reshape(tf.log(sum), [-1]), picked)),
      gradFunc: (dy, saved) => {
        const [exps, inv] = saved as [tf.Tensor2D, tf.Tensor2D];
        const softmax = tf.mul(exps, inv);
        // int32 one-hot, then cast: tfjs-backend-wasm's OneHot ignores a float32 dtype (returns int bits).
        const onehot = tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), vocab), 'float32');
        return tf.mul(tf.sub(softmax, onehot), tf.div(dy, n));
      },
    };
  });
  return op(logits) as tf.Scalar;
}
