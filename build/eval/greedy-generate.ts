/**
 * Greedy decoding for a batch of prompts, one nextTokenLogits step per token; rows that have ended
 * (or that `stop` ends) leave the batch, and decoding stops when none is left.
 */
import * as tf from '@tensorflow/tfjs';
import type { LlamaModel } from '../model/llama.js';
import { nextTokenLogits } from '../model/next-token-logits.js';
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
    const { delta, release } = opts.adapter(active);
    let next: Int32Array;
    try {
      const logits = nextTokenLogits(model, active.map((i) => seqs[i]!), opts.padId, delta);
      const best = tf.argMax(logits, 1);
      next = best.dataSync() as Int32Array;
      tf.dispose([logits, best]);
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
