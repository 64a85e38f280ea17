/**
 * Causal self-attention with rotary positions on time-major rows (row = t·B + b), and its
 * backward pass written out. Query head h uses KV head ⌊h / grp⌋ (HF repeat_kv): the grp query
 * heads of a KV head are stacked as extra query rows against it instead of repeating K and V.
 * Every product is a groupedMatMul (a depthwise convolution on wasm) over G = B·Hkv groups:
 *   scores[i, g, k] = Σ_c q[i, g, c]·k[k, g, c]      (i: T·grp query rows, k: T keys, c: head dim)
 *   out[i, g, c]    = Σ_k p[i, g, k]·v[k, g, c]
 * The backward products are arranged so that each lands in the layout its consumer reads (the
 * gradients of q, k and v come out time-major, the softmax's in the probabilities' own layout):
 * five transposes where differentiating the forward ops one by one takes ten, and no gradient of
 * k or v when nothing upstream trains.
 */
import * as tf from '@tensorflow/tfjs';
import { groupedMatMul } from './grouped-matmul.js';
import { applyRope, applyRopeBackward, type RopeTables } from './rope.js';

export interface AttentionShape {
  T: number;
  B: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

export interface AttentionTables {
  /** Query rope, its tables times 1/√headDim: the softmax scale rides on the query. */
  ropeQ: RopeTables;
  ropeK: RopeTables;
  /** [T, 1, T]: 0 where key ≤ query, -1e9 above the diagonal. */
  causalMask: tf.Tensor3D;
}

/** What the backward pass reads: the rotated queries and keys, the values and the probabilities. */
export interface AttentionSaved {
  qRot: tf.Tensor4D; // [T, B, H, hd], scaled
  kRot: tf.Tensor4D; // [T, B, Hkv, hd]
  v: tf.Tensor3D; // [T, G, hd]
  probs: tf.Tensor3D; // [T·grp, G, T]
}

/** q [T·B, H·hd], k and v [T·B, Hkv·hd] → [T·B, H·hd]. */
export function causalAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, s: AttentionShape, tables: AttentionTables): { out: tf.Tensor2D; saved: AttentionSaved } {
  const { T, B, heads: H, kvHeads: Hkv, headDim: hd } = s;
  const grp = H / Hkv;
  const G = B * Hkv; // independent attention problems
  const qRot = applyRope(q, T, B, H, tables.ropeQ); // [T, B, H, hd], scaled by 1/√hd
  const kRot = applyRope(k, T, B, Hkv, tables.ropeK); // [T, B, Hkv, hd]
  // Scores s[(t, r), (b, kv), t'] = q[t, b, kv·grp + r] · k[t', b, kv]
  const qx =
    grp === 1
      ? tf.transpose(qRot, [0, 3, 1, 2]) // [T, hd, B, H]
      : tf.transpose(tf.reshape(qRot, [T, B, Hkv, grp, hd]), [0, 3, 4, 1, 2]); // [T, grp, hd, B, Hkv]
  const ky = tf.reshape(tf.transpose(kRot, [3, 1, 2, 0]), [hd, G, T]); // [hd, B·Hkv, T]
  const scores = groupedMatMul(tf.reshape(qx, [T * grp, hd, G]) as tf.Tensor3D, ky as tf.Tensor3D); // [T·grp, G, T]
  const probs = tf.reshape(tf.softmax(tf.add(tf.reshape(scores, [T, grp * G, T]), tables.causalMask)), [T * grp, G, T]) as tf.Tensor3D;
  const px = tf.transpose(probs, [0, 2, 1]) as tf.Tensor3D; // [T·grp, T, G]
  const v3 = tf.reshape(v, [T, G, hd]) as tf.Tensor3D;
  const out = groupedMatMul(px, v3); // [T·grp, G, hd]
  const heads = grp === 1 ? out : tf.transpose(tf.reshape(out, [T, grp, B, Hkv, hd]), [0, 2, 3, 1, 4]); // [T, B, Hkv, grp, hd]
  return { out: tf.reshape(heads, [T * B, H * hd]), saved: { qRot, kRot, v: v3, probs } };
}

/** Which input gradients to compute: a projection that nothing upstream of trains needs none. */
export interface AttentionNeeds {
  q: boolean;
  k: boolean;
  v: boolean;
}

/** dOut [T·B, H·hd] → the gradients of q, k and v (as `need` asks), time-major like the inputs. */
export function causalAttentionBackward(
  dOut: tf.Tensor2D,
  saved: AttentionSaved,
  s: AttentionShape,
  tables: AttentionTables,
  need: AttentionNeeds,
): { dq: tf.Tensor2D | null; dk: tf.Tensor2D | null; dv: tf.Tensor2D | null } {
  const { T, B, heads: H, kvHeads: Hkv, headDim: hd } = s;
  const grp = H / Hkv;
  const G = B * Hkv;
  const { qRot, kRot, v, probs } = saved;
  // Rows stacked as the forward pass stacks them: [T·grp, G, hd].
  const stacked = (x: tf.Tensor): tf.Tensor3D =>
    (grp === 1 ? tf.reshape(x, [T, G, hd]) : tf.reshape(tf.transpose(tf.reshape(x, [T, B, Hkv, grp, hd]), [0, 3, 1, 2, 4]), [T * grp, G, hd])) as tf.Tensor3D;
  const unstacked = (x: tf.Tensor3D, heads: number): tf.Tensor4D =>
    (grp === 1 || heads === Hkv ? tf.reshape(x, [T, B, heads, hd]) : tf.reshape(tf.transpose(tf.reshape(x, [T, grp, B, Hkv, hd]), [0, 2, 3, 1, 4]), [T, B, H, hd])) as tf.Tensor4D;
  const dOut3 = stacked(dOut); // [T·grp, G, hd]
  const dv = need.v ? tf.reshape(groupedMatMul(tf.transpose(probs, [2, 0, 1]) as tf.Tensor3D, dOut3), [T * B, Hkv * hd]) : null; // Σ_i p[i, g, k]·dOut[i, g, c]
  if (!need.q && !need.k) return { dq: null, dk: null, dv: dv as tf.Tensor2D | null };
  const dProbs = groupedMatMul(tf.transpose(dOut3, [0, 2, 1]) as tf.Tensor3D, tf.transpose(v, [2, 1, 0]) as tf.Tensor3D); // [T·grp, G, T]
  // Softmax backward along the keys; masked entries have p = 0 and get no gradient.
  const dScores = tf.mul(probs, tf.sub(dProbs, tf.sum(tf.mul(dProbs, probs), -1, true))) as tf.Tensor3D;
  let dq: tf.Tensor2D | null = null;
  let dk: tf.Tensor2D | null = null;
  if (need.q) {
    const dqs = groupedMatMul(tf.transpose(dScores, [0, 2, 1]) as tf.Tensor3D, tf.reshape(kRot, [T, G, hd]) as tf.Tensor3D); // [T·grp, G, hd]
    dq = applyRopeBackward(unstacked(dqs, H), tables.ropeQ);
  }
  if (need.k) {
    const dks = groupedMatMul(tf.transpose(dScores, [2, 0, 1]) as tf.Tensor3D, stacked(qRot)); // [T, G, hd]
    dk = applyRopeBackward(unstacked(dks, Hkv), tables.ropeK);
  }
  return { dq, dk, dv: dv as tf.Tensor2D | null };
}
