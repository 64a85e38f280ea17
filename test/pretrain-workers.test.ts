/**
 * Data-parallel pretraining (build/train/gradient-shards.ts, pretrain-workers.ts): shard gradients
 * combined are the whole batch's gradient up to float rounding, and worker processes change
 * nothing: `quiver pretrain -j 2` writes the checkpoint `-j 1` writes, byte for byte. The second
 * test spawns the compiled CLI (bin/quiver.js runs dist/, which the test setup compiles), since
 * worker processes run compiled code only.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../build/model/backend.js';
import { LlamaModel } from '../build/model/llama.js';
import { lossAndGrads } from '../build/train/backprop.js';
import { combineShards, shardCount, shardGrads, splitShards } from '../build/train/gradient-shards.js';
import { IGNORE_INDEX, type TrainBatch } from '../build/train/train-batch.js';
import { Rng } from '../shared/random.js';
import { useTempDirs } from './helpers/temp-dir.js';
import { tinyConfig } from './helpers/tiny-llama.js';

const tempDir = useTempDirs();

beforeAll(async () => {
  await selectBackend('wasm', { log: () => undefined });
});

/** Token lines right-padded to the longest, a loss on every real token (pretraining's batches). */
function linesBatch(lines: readonly number[][]): TrainBatch {
  const T = Math.max(...lines.map((l) => l.length));
  const inputIds = new Int32Array(lines.length * T);
  const labels = new Int32Array(lines.length * T).fill(IGNORE_INDEX);
  lines.forEach((l, b) => {
    inputIds.set(l, b * T);
    labels.set(l, b * T);
  });
  return { batchSize: lines.length, seqLen: T, inputIds, labels };
}

describe('data-parallel pretraining', () => {
  it('splits a step into shards by its size alone, and their combined gradient is the whole batch’s', () => {
    expect([1, 16, 17, 32, 33].map(shardCount)).toEqual([1, 1, 2, 2, 3]);
    expect(splitShards([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4, 5]]);

    const config = tinyConfig();
    const model = LlamaModel.random(config, 3, { trainable: true });
    const rng = new Rng(4);
    const lines = Array.from({ length: 12 }, () => Array.from({ length: 3 + rng.int(9) }, () => 1 + rng.int(config.vocabSize - 1)));
    const shards = splitShards(lines, 3).map(linesBatch);
    const results = shards.map((b) => shardGrads(model, b));
    tf.tidy(() => {
      const whole = lossAndGrads(model, null, linesBatch(lines));
      const combined = combineShards(model, results);
      expect(combined.tokens).toBe(whole.tokens);
      expect(Math.abs(combined.loss.dataSync()[0]! - whole.loss.dataSync()[0]!)).toBeLessThan(1e-6);
      whole.grads.forEach((g, i) => {
        const want = g.dataSync();
        const got = combined.grads[i]!.dataSync();
        const scale = Math.max(...Array.from(want, Math.abs));
        const worst = Math.max(...Array.from(want, (w, j) => Math.abs(w - got[j]!)));
        expect(worst).toBeLessThanOrEqual(1e-5 * scale + 1e-9);
      });
    });
    model.dispose();
  });

  it('quiver pretrain -j 2 (a worker process) writes the checkpoint -j 1 writes, byte for byte', async () => {
    const dir = await tempDir();
    const run = async (jobs: number): Promise<string> => {
      const out = join(dir, `j${jobs}`);
      const micro = ['--hidden', '32', '--layers', '2', '--heads', '4', '--intermediate', '64', '--steps', '4', '--batch-size', '32'];
      await promisify(execFile)(process.execPath, ['bin/quiver.js', 'pretrain', '--out', out, ...micro, '-j', String(jobs), '-q'], { timeout: 120_000 });
      return out;
    };
    const [one, two] = [await run(1), await run(2)];
    for (const file of ['model.safetensors', 'config.json']) {
      expect(Buffer.compare(await readFile(join(one, file)), await readFile(join(two, file))), file).toBe(0);
    }
  });
});
