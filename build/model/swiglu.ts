/**
 * The Llama MLP's activation, silu(gate)·up = gate·σ(gate)·up, with its gradient written out:
 *   d_up = dy·silu(gate),  d_gate = dy·up·σ·(1 + gate·(1 − σ)) = dy·up·(σ + silu − silu·σ)
 * Six elementwise ops backward instead of twelve (tf.mul's gradient also casts each operand).
 */
import * as tf from '@tensorflow/tfjs';

export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((gIn, uIn, save) => {
    const g = gIn as tf.Tensor2D;
    const u = uIn as tf.Tensor2D;
    const s = tf.sigmoid(g);
    const silu = tf.mul(g, s);
    (save as tf.GradSaveFunc)([s, silu, u]);
    return {
      value: tf.mul(silu, u) as tf.Tensor2D,
      gradFunc: (dyIn, saved) => {
        const [sig, si, us] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dy = dyIn as tf.Tensor2D;
        const dGate = tf.mul(tf.mul(dy, us), tf.add(sig, tf.sub(si, tf.mul(si, sig))));
        return [dGate, tf.mul(dy, si)];
      },
    };
  });
  return op(gate, up) as tf.Tensor2D;
}
