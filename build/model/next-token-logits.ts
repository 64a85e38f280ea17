/**
 * One decoding step for a batch of sequences: a forward pass over the right-padded batch, and the
 * LM head on each row's last real position only. There is no KV cache, so every step reads whole
 * sequences (the base models Quiver trains are small; the cost is T·B rows per layer).
 * Shared by greedy decoding (build/eval/greedy-generate.ts) and `quiver serve`'s engine.
 */
import * as tf from '@tensorflow/tfjs';
import { rowsOf } from './gather-rows.js';
import type { AdapterDelta, LlamaModel } from './llama.js';

/** Logits [seqs.length, vocab] of the token after each sequence. */
export function nextTokenLogits(model: LlamaModel, seqs: readonly (readonly number[])[], padId: number, delta: AdapterDelta | null): tf.Tensor2D {
  const B = seqs.length;
  if (B === 0) throw new RangeError('nextTokenLogits needs at least one sequence');
  const T = Math.max(...seqs.map((s) => s.length));
  const ids = new Int32Array(B * T).fill(padId);
  const last = new Int32Array(B);
  seqs.forEach((s, b) => {
    if (s.length === 0) throw new RangeError(`sequence ${b} is empty`);
    ids.set(s, b * T);
    last[b] = (s.length - 1) * B + b; // time-major row of the row's last real token
  });
  return tf.tidy(() => {
    const { hidden } = model.hiddenStates({ ids, batchSize: B, seqLen: T }, { adapter: delta });
    return model.logitsFromHidden(rowsOf(hidden, tf.tensor1d(last, 'int32')));
  });
}
