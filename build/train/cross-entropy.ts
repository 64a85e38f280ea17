/**
 * Mean cross-entropy of logits [n, vocab] against target ids, and its gradient written out,
 * (softmax − onehot)/n, instead of differentiating through logSumExp's max and gather (gather's
 * gradient does not exist on wasm, and the closed form is fewer ops).
 * The forward pass runs the Softmax kernel, not Exp: on wasm, Exp costs 4× as much per element.
 * The log-normaliser comes from the softmax itself: at the row maximum m, p = 1/Z, so
 * log Z = −log max(p) with max(p) ≥ 1/vocab (no underflow), and loss = m + log Z − logit[target].
 */
import * as tf from '@tensorflow/tfjs';

function checkedTargets(logits: tf.Tensor2D, targets: Int32Array): Int32Array {
  const [n, vocab] = logits.shape;
  if (targets.length !== n) throw new RangeError(`${targets.length} targets for ${n} rows of logits`);
  const flat = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = targets[i]!;
    if (t < 0 || t >= vocab) throw new RangeError(`target id ${t} is outside the vocabulary [0, ${vocab})`);
    flat[i] = i * vocab + t;
  }
  return flat;
}

function lossAndSoftmax(logits: tf.Tensor2D, targets: Int32Array): { loss: tf.Scalar; p: tf.Tensor2D } {
  const n = logits.shape[0];
  const flat = checkedTargets(logits, targets);
  const p = tf.softmax(logits); // [n, vocab]
  const logZ = tf.neg(tf.log(tf.max(p, 1))); // [n]
  const picked = tf.gatherND(tf.reshape(logits, [-1]), tf.tensor2d(flat, [n, 1], 'int32')); // [n]: logit of the target
  return { loss: tf.mean(tf.sub(tf.add(tf.max(logits, 1), logZ), picked)) as tf.Scalar, p };
}

export function crossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  return lossAndSoftmax(logits, targets).loss;
}

/** The loss and its gradient at the logits, (softmax − onehot)/n. */
export function crossEntropyWithGrad(logits: tf.Tensor2D, targets: Int32Array): { loss: tf.Scalar; dLogits: tf.Tensor2D } {
  const [n, vocab] = logits.shape;
  const { loss, p } = lossAndSoftmax(logits, targets);
  // int32 one-hot, then cast: tfjs-backend-wasm's OneHot ignores a float32 dtype (returns int bits).
  const onehot = tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), vocab), 'float32');
  return { loss, dLogits: tf.mul(tf.sub(p, onehot), 1 / n) as tf.Tensor2D };
}
