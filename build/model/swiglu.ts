/**
 * The Llama MLP's activation, silu(gate)·up = gate·σ(gate)·up, and its gradient written out:
 *   d_up = dy·silu(gate),  d_gate = dy·up·σ·(1 + gate·(1 − σ)) = dy·up·(σ + silu − silu·σ)
 * Six elementwise ops backward instead of twelve (tf.mul's gradient also casts each operand).
 */
import * as tf from '@tensorflow/tfjs';

export interface SwigluSaved {
  sigmoid: tf.Tensor2D;
  silu: tf.Tensor2D;
  up: tf.Tensor2D;
}

export function swigluForward(gate: tf.Tensor2D, up: tf.Tensor2D): { y: tf.Tensor2D; saved: SwigluSaved } {
  const sigmoid = tf.sigmoid(gate);
  const silu = tf.mul(gate, sigmoid) as tf.Tensor2D;
  return { y: tf.mul(silu, up) as tf.Tensor2D, saved: { sigmoid, silu, up } };
}

export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  return swigluForward(gate, up).y;
}

export function swigluBackward(dy: tf.Tensor2D, saved: SwigluSaved): { dGate: tf.Tensor2D; dUp: tf.Tensor2D } {
  const { sigmoid: s, silu, up } = saved;
  const dGate = tf.mul(tf.mul(dy, up), tf.add(s, tf.sub(silu, tf.mul(silu, s)))) as tf.Tensor2D;
  return { dGate, dUp: tf.mul(dy, silu) as tf.Tensor2D };
}
