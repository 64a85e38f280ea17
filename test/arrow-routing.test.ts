import { describe, expect, it } from 'vitest';
import { muMerge, linearMerge } from '../shared/arrow/mu-merge.js';
import { aggregateRequestRouting } from '../shared/arrow/request-routing.js';
import { arrowTokenWeights } from '../shared/arrow/token-routing.js';
import { topKIndices } from '../shared/arrow/top-k.js';

describe('arrowTokenWeights', () => {
  // Prototypes are the unit axes, so logits are |x_i|: every number below is worked by hand.
  const protos = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);

  it('takes |x·v|, keeps the top k, softmaxes the kept logits', () => {
    const x = Float32Array.from([3, -1, 0.5]);
    const w = arrowTokenWeights(x, 1, protos, 3, 3, { topK: 2, temperature: 1 });
    const e3 = Math.exp(3), e1 = Math.exp(1);
    expect(w[0]).toBeCloseTo(e3 / (e3 + e1), 6);
    expect(w[1]).toBeCloseTo(e1 / (e3 + e1), 6); // the sign of x·v does not matter
    expect(w[2]).toBe(0);
  });

  it('divides the kept logits by the temperature', () => {
    const x = Float32Array.from([2, 0, 1]);
    const w = arrowTokenWeights(x, 1, protos, 3, 3, { topK: 3, temperature: 0.5 });
    const z = [Math.exp(4), Math.exp(0), Math.exp(2)];
    const s = z[0]! + z[1]! + z[2]!;
    z.forEach((v, i) => expect(w[i]).toBeCloseTo(v / s, 6));
  });

  it('routes each token on its own', () => {
    const x = Float32Array.from([5, 0, 0, 0, 0, -5]);
    const w = arrowTokenWeights(x, 2, protos, 3, 3, { topK: 1, temperature: 1 });
    expect(Array.from(w)).toEqual([1, 0, 0, 0, 0, 1]);
  });

  it('gives a top-k larger than the library all adapters', () => {
    const w = arrowTokenWeights(Float32Array.from([1, 1, 1]), 1, protos, 3, 3, { topK: 10, temperature: 1 });
    w.forEach((v) => expect(v).toBeCloseTo(1 / 3, 6));
  });

  it('refuses a temperature of 0 and mismatched shapes', () => {
    expect(() => arrowTokenWeights(Float32Array.from([1, 1, 1]), 1, protos, 3, 3, { topK: 1, temperature: 0 })).toThrow(/temperature/);
    expect(() => arrowTokenWeights(Float32Array.from([1, 1]), 1, protos, 3, 3, { topK: 1, temperature: 1 })).toThrow(/hidden/);
  });
});

describe('aggregateRequestRouting', () => {
  it('averages over tokens and modules, keeps top k, renormalises', () => {
    // 2 modules × 2 tokens × 3 adapters.
    const m1 = [0.6, 0.4, 0, 1, 0, 0];
    const m2 = [0, 0.5, 0.5, 0.2, 0.8, 0];
    const r = aggregateRequestRouting([m1, m2], 2, 3, { topK: 2, threshold: 0 });
    expect(Array.from(r.scores)).toEqual([
      (0.6 + 1 + 0 + 0.2) / 4,
      (0.4 + 0 + 0.5 + 0.8) / 4,
      (0 + 0 + 0.5 + 0) / 4,
    ].map((v) => expect.closeTo(v, 12)));
    expect(r.selected.map((s) => s.index)).toEqual([0, 1]);
    expect(r.selected[0]!.weight).toBeCloseTo(1.8 / 3.5, 12);
    expect(r.selected[1]!.weight).toBeCloseTo(1.7 / 3.5, 12);
    expect(r.belowThreshold).toBe(false);
  });

  it('sends the request to the base model when the best score is under the threshold', () => {
    const r = aggregateRequestRouting([[0.34, 0.33, 0.33]], 1, 3, { topK: 1, threshold: 0.5 });
    expect(r.belowThreshold).toBe(true);
    expect(r.selected).toEqual([]);
    expect(r.scores[0]).toBeCloseTo(0.34, 12);
  });

  it('breaks ties by the lower adapter index', () => {
    expect(topKIndices([1, 2, 2, 0], 2)).toEqual([1, 2]);
    expect(topKIndices([1, 2], 0)).toEqual([]);
  });
});

describe('muMerge', () => {
  it('averages A and B separately, not the products', () => {
    const m = muMerge([
      { a: Float32Array.from([1, 2]), b: Float32Array.from([4]) },
      { a: Float32Array.from([3, 6]), b: Float32Array.from([0]) },
    ]);
    expect(Array.from(m.a)).toEqual([2, 4]);
    expect(Array.from(m.b)).toEqual([2]);
  });

  it('weighted linear merge is Σ w·A, Σ w·B, and refuses mixed ranks', () => {
    const m = linearMerge(
      [
        { a: Float32Array.from([1, 0]), b: Float32Array.from([1]) },
        { a: Float32Array.from([0, 1]), b: Float32Array.from([3]) },
      ],
      [0.25, 0.75],
    );
    expect(Array.from(m.a)).toEqual([0.25, 0.75]);
    expect(Array.from(m.b)).toEqual([2.5]);
    expect(() =>
      muMerge([
        { a: new Float32Array(2), b: new Float32Array(1) },
        { a: new Float32Array(4), b: new Float32Array(2) },
      ]),
    ).toThrow(/same rank/);
  });
});
