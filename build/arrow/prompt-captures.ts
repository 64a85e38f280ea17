/**
 * One task's prompts through the base model in one padded batch, reading what centred routing and
 * the logit scales need of each routed module's input: a per-key map of the flattened inputs
 * [B·T, dIn] (padding rows included), read back as typed arrays, and which rows are real tokens.
 */
import * as tf from '@tensorflow/tfjs';
import type { LlamaModel } from '../model/llama.js';

export interface CapturedPrompts {
  /** Per key, the mapped tensor's values, row-major with B·T rows (row b·T + t: prompt b, token t). */
  data: Float32Array[];
  /** Padded length of the batch. */
  seqLen: number;
  /** Real tokens over all prompts. */
  rows: number;
  /** Calls `f(row)` for every real token's row, prompt by prompt. */
  forEachToken(f: (row: number) => void): void;
}

export function capturePrompts(
  model: LlamaModel,
  prompts: ReadonlyArray<readonly number[]>,
  keys: readonly string[],
  padId: number,
  map: (key: string, x: tf.Tensor2D) => tf.Tensor,
): CapturedPrompts {
  const B = prompts.length;
  const T = Math.max(...prompts.map((p) => p.length));
  const ids = new Int32Array(B * T).fill(padId);
  prompts.forEach((p, b) => ids.set(p, b * T));
  // Read inside tidy, kept outside it (tidy would walk a returned typed array element by element).
  let data: Float32Array[] = [];
  tf.tidy(() => {
    const { captures } = model.hiddenStates({ ids, batchSize: B, seqLen: T }, { captures: keys });
    data = keys.map((k) => {
      const x = captures[k]!;
      return map(k, x.reshape([B * T, x.shape[x.shape.length - 1]!])).dataSync() as Float32Array;
    });
  });
  return {
    data,
    seqLen: T,
    rows: prompts.reduce((s, p) => s + p.length, 0),
    forEachToken: (f) => prompts.forEach((p, b) => {
      for (let t = 0; t < p.length; t++) f(b * T + t);
    }),
  };
}
