/**
 * A training batch in Hugging Face's causal-LM convention: `labels` align with `inputIds`, -100
 * marks a position without loss, and the model at position t predicts labels[t + 1] (the shift
 * happens in the loss). Sequences are right-padded (llama.ts).
 */
export const IGNORE_INDEX = -100;

export interface TrainBatch {
  batchSize: number;
  seqLen: number;
  inputIds: Int32Array; // [batchSize, seqLen], row-major
  labels: Int32Array; // [batchSize, seqLen]: a token id, or IGNORE_INDEX
}

/**
 * Prompt + answer pairs as one right-padded batch with loss on the answer tokens only (the
 * paper's setting). `seqLen` defaults to the longest pair; longer pairs are an error, not cut.
 */
export function promptAnswerBatch(pairs: readonly { prompt: readonly number[]; answer: readonly number[] }[], padId: number, seqLen?: number): TrainBatch {
  const longest = Math.max(0, ...pairs.map((p) => p.prompt.length + p.answer.length));
  const T = seqLen ?? longest;
  if (longest > T) throw new RangeError(`a prompt + answer of ${longest} tokens does not fit seqLen ${T}`);
  const B = pairs.length;
  const inputIds = new Int32Array(B * T).fill(padId);
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  pairs.forEach((p, b) => {
    inputIds.set(p.prompt, b * T);
    inputIds.set(p.answer, b * T + p.prompt.length);
    labels.set(p.answer, b * T + p.prompt.length);
  });
  return { batchSize: B, seqLen: T, inputIds, labels };
}

/** Number of positions that carry a loss: labels[b, t + 1] ≠ IGNORE_INDEX for t < seqLen - 1. */
export function countLossTokens(batch: TrainBatch): number {
  let n = 0;
  for (let b = 0; b < batch.batchSize; b++) {
    for (let t = 1; t < batch.seqLen; t++) if (batch.labels[b * batch.seqLen + t] !== IGNORE_INDEX) n++;
  }
  return n;
}
