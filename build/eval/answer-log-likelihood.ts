/**
 * log p(answer | prompt) under the model, summed over the answer's tokens, for many
 * prompt + answer pairs at once: the multiple-choice score of an option and the test loss of the
 * reference answer. Batches are right-padded as in training (train-batch.ts), and only the rows
 * that predict an answer token go through the LM head.
 */
import * as tf from '@tensorflow/tfjs';
import { rowsOf } from '../model/gather-rows.js';
import type { LlamaModel } from '../model/llama.js';
import { lossRows } from '../train/causal-lm-loss.js';
import { promptAnswerBatch } from '../train/train-batch.js';
import type { RowAdapter } from './row-adapter.js';

export interface ScoredPair {
  prompt: readonly number[];
  answer: readonly number[];
  /** The example the pair belongs to: what the RowAdapter is asked for. */
  row: number;
}

export interface PairLikelihood {
  /** Σ log p over the answer tokens (natural log). */
  logLikelihood: number;
  tokens: number;
}

/** `chunk` pairs per forward pass. */
export function answerLogLikelihoods(model: LlamaModel, pairs: readonly ScoredPair[], padId: number, adapter: RowAdapter, chunk = 256): PairLikelihood[] {
  const out: PairLikelihood[] = pairs.map(() => ({ logLikelihood: 0, tokens: 0 }));
  for (let start = 0; start < pairs.length; start += chunk) {
    const part = pairs.slice(start, start + chunk);
    const batch = promptAnswerBatch(part, padId);
    const { rows, targets } = lossRows(batch);
    if (rows.length === 0) continue;
    const { delta, release } = adapter(part.map((p) => p.row));
    let logp: Float32Array;
    try {
      logp = tf.tidy(() => {
        const { hidden } = model.hiddenStates({ ids: batch.inputIds, batchSize: batch.batchSize, seqLen: batch.seqLen }, { adapter: delta });
        const logits = model.logitsFromHidden(rowsOf(hidden, tf.tensor1d(rows, 'int32'))); // [n, vocab]
        const at = new Int32Array(rows.length * 2);
        targets.forEach((t, i) => {
          at[2 * i] = i;
          at[2 * i + 1] = t;
        });
        return tf.gatherND(tf.logSoftmax(logits), tf.tensor2d(at, [rows.length, 2], 'int32')).dataSync() as Float32Array;
      });
    } finally {
      release();
    }
    rows.forEach((row, i) => {
      const p = out[start + (row % batch.batchSize)]!; // time-major row t·B + b
      p.logLikelihood += logp[i]!;
      p.tokens++;
    });
  }
  return out;
}
