/**
 * Greedy decoding for a batch of prompts. There is no KV cache, so every new token is a forward
 * pass over the whole (right-padded) batch; rows that have ended (or that `stop` ends) leave the
 * batch, and decoding stops when none is left. Only the last real position of each row goes through the LM head.
 */
import * as tf from '@tensorflow/tfjs';
import { rowsOf } from '../model/gather-rows.js';
import type { LlamaModel } from '../model/llama.js';
import type { RowAdapter } from './row-adapter.js';

export interface GenerateOptions {
  eosId: number | null;
  padId: number;
  /** Tokens generated at most per prompt, <eos> included. */
  maxNewTokens: number;
  adapter: RowAdapter;
  /** Ends row i early, given what it has generated so far (e.g. once it can no longer match a reference). */
  stop?: (i: number, generated: readonly number[]) => boolean;
}

/** Per prompt, the generated ids without the final <eos>. */
export function greedyGenerate(model: LlamaModel, prompts: readonly (readonly number[])[], opts: GenerateOptions): number[][] {
  const maxLen = model.config.maxPositionEmbeddings;
  const seqs = prompts.map((p) => [...p]);
  const generated: number[][] = prompts.map(() => []);
  let active = prompts.map((_, i) => i).filter((i) => seqs[i]!.length < maxLen && opts.maxNewTokens > 0);
  while (active.length > 0) {
    const B = active.length;
    const T = Math.max(...active.map((i) => seqs[i]!.length));
    const ids = new Int32Array(B * T).fill(opts.padId);
    const last = new Int32Array(B);
    active.forEach((i, b) => {
      ids.set(seqs[i]!, b * T);
      last[b] = (seqs[i]!.length - 1) * B + b; // time-major row of the row's last real token
    });
    const { delta, release } = opts.adapter(active);
    let next: Int32Array;
    try {
      next = tf.tidy(() => {
        const { hidden } = model.hiddenStates({ ids, batchSize: B, seqLen: T }, { adapter: delta });
        const logits = model.logitsFromHidden(rowsOf(hidden, tf.tensor1d(last, 'int32'))); // [B, vocab]
        return tf.argMax(logits, 1).dataSync() as Int32Array;
      });
    } finally {
      release();
    }
    const still: number[] = [];
    active.forEach((i, b) => {
      const token = next[b]!;
      if (token === opts.eosId) return;
      generated[i]!.push(token);
      seqs[i]!.push(token);
      if (generated[i]!.length < opts.maxNewTokens && seqs[i]!.length < maxLen && !opts.stop?.(i, generated[i]!)) still.push(i);
    });
    active = still;
  }
  return generated;
}
