/**
 * Data-parallel pretraining's arithmetic: a step's lines split into shards of SHARD_LINES, each
 * shard's mean loss and gradient computed alone (in this process or a worker's,
 * pretrain-workers.ts), then combined as one batch would be: the token-weighted mean,
 * Σ_s (n_s / N)·g_s, in shard order. The number of shards follows from the batch size, never from
 * the number of processes, and every shard is computed by the same code on the same weights, so a
 * build gives the same bytes on one core or many; against one unsharded batch, only float rounding
 * differs (test/pretrain-workers.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { LlamaModel } from '../model/llama.js';
import { lossAndGrads, type LossAndGrads } from './backprop.js';

/**
 * Lines per shard: 16 lines of up to 96 bytes are 1,500 rows per matmul, large enough that
 * XNNPACK runs at full speed, so a 32-line step splits in two, one per core of the 2-core build
 * machines.
 */
export const SHARD_LINES = 16;

export function shardCount(batchSize: number): number {
  return Math.ceil(batchSize / SHARD_LINES);
}

/** `items` in `count` contiguous runs of (nearly) equal length, in order. */
export function splitShards<T>(items: readonly T[], count: number): T[][] {
  const out: T[][] = [];
  for (let s = 0; s < count; s++) out.push(items.slice(Math.floor((s * items.length) / count), Math.floor(((s + 1) * items.length) / count)));
  return out;
}

/** One shard's mean loss over its tokens, and its gradient, flat in model.variables() order. */
export const ShardGrads = z.object({
  loss: z.number(),
  tokens: z.number().int().positive(),
  grads: z.custom<Float32Array>((v) => v instanceof Float32Array, 'a Float32Array'),
});
export type ShardGrads = z.infer<typeof ShardGrads>;

/**
 * A shard's loss and gradients on a trainable model. The flat vector is assembled in JavaScript:
 * concat and slice of large tensors are slow loops on wasm, copies of typed arrays are not.
 */
export function shardGrads(model: LlamaModel, batch: Parameters<typeof lossAndGrads>[2]): ShardGrads {
  let result: ShardGrads | null = null;
  // Nothing is returned from the tidy: it would walk the returned object for tensors to keep,
  // every element of a 886k-value Float32Array included (600 ms a shard).
  tf.tidy(() => {
    const out = lossAndGrads(model, null, batch);
    const grads = new Float32Array(out.grads.reduce((n, g) => n + g.size, 0));
    let offset = 0;
    for (const g of out.grads) {
      grads.set(g.dataSync() as Float32Array, offset);
      offset += g.size;
    }
    result = { loss: out.loss.dataSync()[0]!, tokens: out.tokens, grads };
  });
  return result!;
}

/**
 * The shards' results as one batch's: the token-weighted mean loss and Σ_s (n_s/N)·g_s, summed in
 * shard order in JavaScript, as one gradient per variable of `model` (call inside tf.tidy).
 */
export function combineShards(model: LlamaModel, results: readonly ShardGrads[]): LossAndGrads {
  const tokens = results.reduce((n, r) => n + r.tokens, 0);
  const sum = new Float32Array(results[0]!.grads.length);
  let loss = 0;
  for (const r of results) {
    if (r.grads.length !== sum.length) throw new RangeError(`shard gradients of ${r.grads.length} and ${sum.length} values`);
    const w = r.tokens / tokens;
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + w * r.grads[i]!;
    loss += w * r.loss;
  }
  let offset = 0;
  const grads = model.variables().map((v) => {
    const g = tf.tensor(sum.subarray(offset, offset + v.size), v.shape);
    offset += v.size;
    return g;
  });
  return { loss: tf.scalar(loss), grads, tokens };
}

/** Every trainable weight, flat in model.variables() order: what a worker's replica is set to. */
export function flatWeights(model: LlamaModel): Float32Array {
  const vars = model.variables();
  const out = new Float32Array(vars.reduce((n, v) => n + v.size, 0));
  let offset = 0;
  for (const v of vars) {
    out.set(v.dataSync() as Float32Array, offset);
    offset += v.size;
  }
  return out;
}

export function assignFlatWeights(model: LlamaModel, flat: Float32Array): void {
  const vars = model.variables();
  const size = vars.reduce((n, v) => n + v.size, 0);
  if (flat.length !== size) throw new RangeError(`${flat.length} weights for a model of ${size}`);
  let offset = 0;
  for (const v of vars) {
    tf.tidy(() => v.assign(tf.tensor(flat.subarray(offset, offset + v.size), v.shape)));
    offset += v.size;
  }
}
