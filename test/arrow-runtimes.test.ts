/**
 * The per-token |x · v| → top-k step exists once per runtime: JavaScript (shared/arrow/arrow-logits.ts,
 * logit-routing.ts, top-k.ts), the TensorFlow.js graph (arrowLogitsTf, arrowWeightsTf in
 * build/model/arrow-router.ts) and the ONNX graph (|x · v| only, test/onnx-embedder.test.ts).
 * Here: the one tie rule against a plain sort, and the TensorFlow.js step against the JavaScript
 * one, ties and NaN included.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { arrowLogits } from '../shared/arrow/arrow-logits.js';
import { arrowWeightsFromLogits } from '../shared/arrow/logit-routing.js';
import { argmax, selectTopK, topKIndices } from '../shared/arrow/top-k.js';
import { Rng } from '../shared/random.js';
import { selectBackend } from '../build/model/backend.js';
import { arrowLogitsTf, arrowWeightsTf } from '../build/model/arrow-router.js';

beforeAll(async () => {
  await selectBackend('wasm', { log: () => undefined });
});

/** The tie rule written as a comparator: larger first, NaN last, equal values by index. */
function plainTopK(values: readonly number[], k: number): number[] {
  const key = (v: number) => (Number.isNaN(v) ? -Infinity : v);
  const order = values.map((_, i) => i).sort((i, j) => {
    const [a, b] = [values[i]!, values[j]!];
    if (Number.isNaN(a) !== Number.isNaN(b)) return Number.isNaN(a) ? 1 : -1;
    return key(b) - key(a) || i - j;
  });
  return order.slice(0, Math.max(0, Math.min(k, values.length)));
}

describe('top-k: one tie rule', () => {
  it('is a plain sort by (value descending, index ascending), NaN last, on values full of ties', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rng.next() * 12);
      const values = Array.from({ length: n }, () => (rng.next() < 0.1 ? Number.NaN : Math.round(rng.next() * 4) - 1));
      for (const k of [0, 1, 2, 3, n, n + 2]) expect(topKIndices(values, k), JSON.stringify(values)).toEqual(plainTopK(values, k));
      expect(argmax(values)).toBe(plainTopK(values, 1)[0]);
    }
    expect(argmax([])).toBe(-1);
    expect(topKIndices([1, 2, 2, 0], 2)).toEqual([1, 2]);
    expect(topKIndices([Number.NaN, 0, -Infinity], 3)).toEqual([1, 2, 0]);
  });

  it('selectTopK reads a row of a larger array and reports positions within it', () => {
    const values = [9, 9, 1, 3, 3, 2, 9, 9];
    const index = new Int32Array(2);
    const value = new Float64Array(2);
    expect(selectTopK(values, 2, 4, 2, index, value)).toBe(2);
    expect([...index]).toEqual([1, 2]); // 3 at positions 1 and 2 of [1, 3, 3, 2]
    expect([...value]).toEqual([3, 3]);
    expect(() => selectTopK(values, 0, 8, 3, index, value)).toThrow(/3 slots/);
  });
});

describe('TensorFlow.js graph = JavaScript', () => {
  it('arrowLogitsTf is arrowLogits: |x · v| for every token and prototype', () => {
    const rng = new Rng(12);
    const [T, E, d] = [9, 7, 24];
    const x = rng.normals(T * d, 1);
    const p = rng.normals(E * d, 0.5);
    const protoT = new Float32Array(d * E);
    for (let e = 0; e < E; e++) for (let i = 0; i < d; i++) protoT[i * E + e] = p[e * d + i]!;
    const got = tf.tidy(() => arrowLogitsTf(tf.tensor2d(x, [T, d]), tf.tensor2d(protoT, [d, E])).dataSync());
    const want = arrowLogits(x, T, p, E, d);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });

  it('with a centre, arrowLogitsTf is arrowLogits: |(x − c) · v|, and arrowLogits of x − c by hand', () => {
    const rng = new Rng(14);
    const [T, E, d] = [6, 5, 16];
    const x = rng.normals(T * d, 1);
    const p = rng.normals(E * d, 0.5);
    const c = rng.normals(d, 2);
    const protoT = new Float32Array(d * E);
    for (let e = 0; e < E; e++) for (let i = 0; i < d; i++) protoT[i * E + e] = p[e * d + i]!;
    const got = tf.tidy(() => arrowLogitsTf(tf.tensor2d(x, [T, d]), tf.tensor2d(protoT, [d, E]), tf.tensor1d(c)).dataSync());
    const want = arrowLogits(x, T, p, E, d, c);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
    // Closed form: the centred logit of token t and adapter e is |Σ_i (x_ti − c_i) p_ei|.
    for (let t = 0; t < T; t++) {
      for (let e = 0; e < E; e++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += (x[t * d + i]! - c[i]!) * p[e * d + i]!;
        expect(want[t * E + e]).toBeCloseTo(Math.abs(dot), 9);
      }
    }
    expect(() => arrowLogits(x, T, p, E, d, c.subarray(1))).toThrow(/centre has 15 values/);
  });

  it('arrowWeightsTf is arrowWeightsFromLogits: the same kept adapters (ties to the lower index), the same softmax', () => {
    const rng = new Rng(13);
    const [T, E] = [60, 9];
    // Halves make ties at the k-th logit frequent; a few NaN rank last.
    const logits = Float32Array.from({ length: T * E }, () => (rng.next() < 0.03 ? Number.NaN : Math.round(rng.next() * 6) / 2));
    let ties = 0;
    for (let t = 0; t < T; t++) {
      const row = [...logits.subarray(t * E, (t + 1) * E)];
      const third = plainTopK(row, 3).at(-1)!;
      if (row.filter((v) => v === row[third]).length > 1) ties++;
    }
    expect(ties).toBeGreaterThan(10);
    for (const topK of [1, 3, 4, 9, 20]) {
      for (const temperature of [1, 0.3]) {
        const got = tf.tidy(() => arrowWeightsTf(tf.tensor2d(logits, [T, E]), { topK, temperature }).dataSync());
        const want = arrowWeightsFromLogits(logits, T, E, { topK, temperature });
        for (let i = 0; i < want.length; i++) {
          expect(got[i]! === 0, `topK ${topK}, token ${Math.floor(i / E)}, adapter ${i % E}: kept`).toBe(want[i] === 0);
          expect(got[i]).toBeCloseTo(want[i]!, 6);
        }
      }
    }
  });

  it('leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    const logits = tf.tensor2d([1, 2, 2, 0], [1, 4]);
    tf.dispose(arrowWeightsTf(logits, { topK: 2, temperature: 1 }));
    logits.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
