/**
 * The paper's training loss: next-token cross-entropy on answer tokens only, averaged over those
 * tokens. Only the rows that carry a loss go through the final norm and the LM head, which for a
 * real vocabulary (49k for SmolLM) is most of the work saved. This is the loss without gradients
 * (validation, evaluation); the training step's forward and backward are build/train/backprop.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { rowsOf } from '../model/gather-rows.js';
import type { AdapterDelta, LlamaModel } from '../model/llama.js';
import { crossEntropy } from './cross-entropy.js';
import { IGNORE_INDEX, type TrainBatch } from './train-batch.js';

/** Time-major rows (t·batch + b) that predict a label, and those labels. */
export function lossRows(batch: TrainBatch): { rows: Int32Array; targets: Int32Array } {
  const { batchSize: B, seqLen: T, labels } = batch;
  if (labels.length !== B * T || batch.inputIds.length !== B * T) throw new RangeError(`batch arrays must hold ${B} × ${T} values`);
  const rows: number[] = [];
  const targets: number[] = [];
  for (let t = 0; t + 1 < T; t++) {
    for (let b = 0; b < B; b++) {
      const label = labels[b * T + t + 1]!;
      if (label === IGNORE_INDEX) continue;
      rows.push(t * B + b);
      targets.push(label);
    }
  }
  return { rows: Int32Array.from(rows), targets: Int32Array.from(targets) };
}

/** lossRows of a batch that must have some: training or measuring nothing is a mistake. */
export function requireLossRows(batch: TrainBatch): { rows: Int32Array; targets: Int32Array } {
  const found = lossRows(batch);
  if (found.rows.length === 0) throw new RangeError('the batch has no tokens with a label: nothing to learn or measure');
  return found;
}

/** Mean loss over the batch's answer tokens (call inside tf.tidy). */
export function causalLmLoss(model: LlamaModel, batch: TrainBatch, options: { adapter?: AdapterDelta | null; training?: boolean } = {}): { loss: tf.Scalar; tokens: number } {
  const { rows, targets } = requireLossRows(batch);
  const { hidden } = model.hiddenStates({ ids: batch.inputIds, batchSize: batch.batchSize, seqLen: batch.seqLen }, options);
  const picked = rowsOf(hidden, tf.tensor1d(rows, 'int32')); // [tokens, d]
  return { loss: crossEntropy(model.logitsFromHidden(picked), targets), tokens: rows.length };
}
