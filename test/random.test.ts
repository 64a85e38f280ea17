import { describe, expect, it } from 'vitest';
import { Rng } from '../shared/random.js';

describe('Rng', () => {
  it('fillThreshold draws what as many calls of next() draw, and leaves the stream where they would', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const want = Float32Array.from({ length: 1000 }, () => (a.next() < 0.3 ? 0 : 1.5));
    const got = new Float32Array(1000);
    b.fillThreshold(got, 0.3, 0, 1.5);
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(b.next()).toBe(a.next());
  });
});
